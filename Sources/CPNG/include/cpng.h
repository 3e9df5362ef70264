// CPNG: libpng behind two calls that never longjmp into Swift, never print and never exit.
// Errors come back as a code plus libpng's own message in a caller-owned buffer.
#ifndef CPNG_H
#define CPNG_H

#include <stddef.h>
#include <stdint.h>

enum {
    CPNG_OK = 0,
    CPNG_TRUNCATED = 1,      // the data ended before IEND
    CPNG_CORRUPT = 2,        // libpng refused the data (bad CRC, bad zlib stream, bad header field...)
    CPNG_SIZE_MISMATCH = 3,  // libpng read a size other than the caller's (the caller probed a different header)
    CPNG_NO_MEMORY = 4,
    CPNG_EXTRA_DATA = 5,     // the compressed image data go on past the last row
};

/// How much more than its last row may be read while libpng finishes the image. A real encoder leaves the end of
/// the zlib stream, a few bytes; libpng inflates whatever is there before it reaches IEND.
#define CPNG_MAX_IDAT_LEFT 65536
/// libpng's cap on one chunk's allocation (its default, 8 MB, made explicit); ancillary chunks are skipped anyway.
#define CPNG_CHUNK_MALLOC_MAX 8000000
/// libpng's cap on the ancillary chunks it keeps (it keeps none here: they are skipped).
#define CPNG_CHUNK_CACHE_MAX 128

/// Decodes a whole PNG held in memory into 8-bit RGB, the way PIL's convert("RGB") does:
/// palette expanded (tRNS ignored), grey replicated, alpha dropped, 16-bit samples cut to their high byte.
/// The caller reads the size from IHDR first, checks it against its limits, and owns `out`, (height, width, 3)
/// bytes; libpng refuses a larger size. Ancillary chunks are skipped (only their CRCs are checked).
int cpng_decode_rgb8(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                     uint8_t *out, char *message, size_t message_size);

/// Encodes (height, width, 3) RGB bytes as an 8-bit RGB PNG. On success `*out` holds `*out_size` bytes that the
/// caller releases with cpng_free.
int cpng_encode_rgb8(const uint8_t *pixels, uint32_t width, uint32_t height,
                     uint8_t **out, size_t *out_size, char *message, size_t message_size);

void cpng_free(void *pointer);

#endif
