// CJPEG: libjpeg(-turbo) behind one call that never longjmps into Swift, never prints and never exits.
// Warnings about corrupt or missing data are errors here: a damaged JPEG is refused, not grey-filled.
#ifndef CJPEG_H
#define CJPEG_H

#include <stddef.h>
#include <stdint.h>

enum {
    CJPEG_OK = 0,
    CJPEG_TRUNCATED = 1,      // the data ended before EOI
    CJPEG_CORRUPT = 2,        // libjpeg refused the data or warned that it is corrupt
    CJPEG_SIZE_MISMATCH = 3,  // libjpeg read a size other than the caller's (the caller probed a different header)
    CJPEG_NO_MEMORY = 4,
    CJPEG_UNSUPPORTED = 5,    // valid JPEG that this libjpeg cannot decode (12-bit samples, sides over 65500 pixels...)
    CJPEG_TOO_MANY_SCANS = 6, // more than CJPEG_MAX_SCANS scans
};

/// The most scans a progressive JPEG may have. Each scan costs a pass over the whole image and nothing in the format
/// bounds their number, so a small file could otherwise keep the decoder busy for minutes. Real files have about 10.
#define CJPEG_MAX_SCANS 500

/// Decodes a whole JPEG held in memory into 8-bit RGB, the way PIL's Image.open(...).convert("RGB") does:
/// YCbCr and grey through libjpeg's own conversion; 4-channel (CMYK or YCCK) read as Adobe-inverted CMYK, then
/// PIL's cmyk2rgb. The caller reads the size from the frame header first and owns `out`, (height, width, 3) bytes.
int cjpeg_decode_rgb8(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                      uint8_t *out, char *message, size_t message_size);

/// Encodes (height, width, 3) 8-bit RGB as a baseline JPEG (YCbCr 4:2:0, libjpeg's standard tables scaled to
/// `quality`, 1 to 100; optimised Huffman tables). On success `*out` holds `*out_size` bytes from malloc, to be
/// released with cjpeg_free; on failure `*out` is NULL and `message` says why.
int cjpeg_encode_rgb8(const uint8_t *rgb, uint32_t width, uint32_t height, int quality,
                      uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// Frees a buffer returned by cjpeg_encode_rgb8.
void cjpeg_free(uint8_t *buffer);

#endif
