// libpng reports errors by calling an error function that must not return; we longjmp back to the setjmp in the
// entry point, free what we allocated, and hand the message to Swift. Warnings are dropped (they are about
// ancillary chunks such as a known-bad sRGB profile, which PIL ignores too).
#include "cpng.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// State shared with libpng's callbacks. It lives in memory, not registers, so it is valid after longjmp.
typedef struct {
    const uint8_t *data;
    size_t size, position;
    int ran_out;             // the reader was asked for bytes past the end: the file is truncated
    size_t read_limit;       // if not 0, reading past this offset is refused as data after the image
    int code;                // what to report if libpng gives up (CPNG_CORRUPT unless set otherwise)
    uint8_t *encoded;        // growing output of the encoder
    size_t encoded_size, encoded_capacity;
    char *message;
    size_t message_size;
} cpng_context;

static void set_message(cpng_context *context, const char *text) {
    if (context->message_size > 0) snprintf(context->message, context->message_size, "%s", text);
}

static void on_error(png_structp png, png_const_charp text) {
    set_message((cpng_context *)png_get_error_ptr(png), text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void on_read(png_structp png, png_bytep destination, size_t count) {
    cpng_context *context = (cpng_context *)png_get_io_ptr(png);
    if (context->read_limit && count > context->read_limit - context->position) {
        set_message(context, "image data go on past the last row");
        context->code = CPNG_EXTRA_DATA;
        png_longjmp(png, 1);
    }
    if (count > context->size - context->position) {
        context->ran_out = 1;
        png_error(png, "Read Error");
    }
    memcpy(destination, context->data + context->position, count);
    context->position += count;
}

int cpng_decode_rgb8(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                     uint8_t *out, char *message, size_t message_size) {
    cpng_context context = {data, size, 0, 0, 0, CPNG_CORRUPT, NULL, 0, 0, message, message_size};
    set_message(&context, "");
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_message(&context, "out of memory");
        return CPNG_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return context.ran_out ? CPNG_TRUNCATED : context.code;
    }
    png_set_read_fn(png, &context, on_read);
    // The caller has checked the size in IHDR against its pixel and width limits; libpng refuses any other.
    png_set_user_limits(png, width, height);
    // Ancillary chunks (text, ICC profiles, EXIF, unknown ones) change nothing in PIL's convert("RGB") pixels, so
    // they are skipped unread but for their CRC: none is ever decompressed or kept. libpng still handles IHDR, PLTE,
    // tRNS, IDAT and IEND. Its allocation caps stay for whatever it does allocate.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_set_chunk_malloc_max(png, CPNG_CHUNK_MALLOC_MAX);
    png_set_chunk_cache_max(png, CPNG_CHUNK_CACHE_MAX);
    // A bad CRC is an error in every chunk, not only the critical ones (PIL refuses those files too).
    png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int bit_depth = 0, color_type = 0;
    png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, NULL, NULL, NULL);
    if (w != width || h != height) {
        char text[160];
        snprintf(text, sizeof text, "header says %ux%u, expected %ux%u", (unsigned)w, (unsigned)h,
                 (unsigned)width, (unsigned)height);
        context.code = CPNG_SIZE_MISMATCH;
        png_error(png, text);
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);  // may add alpha from tRNS; dropped below
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16) png_set_strip_16(png);  // keeps the high byte, as PIL's "RGB;16B" unpacker does
    png_set_strip_alpha(png);                     // PIL's convert("RGB") ignores alpha, no compositing
    if (!(color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
    size_t file_rowbytes = png_get_rowbytes(png, info);  // a row as the file stores it, before the transforms
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 3) {
        png_error(png, "unexpected row size after conversion to RGB");  // a guard on the transforms above
    }

    // Row by row, each pass over every row (libpng combines an interlaced image's passes in place): no array of
    // row pointers, which for a 1-pixel-wide image would cost more than its pixels. The last call inflates the last row and then, to find the end of the zlib stream, whatever compressed data is
    // left, in full: a few bytes in a real file, but a small hostile file can hide gigabytes there (4 MB of it took
    // 37 s). So that call may read no more than the row itself could need, stored uncompressed, and 64 KiB besides.
    for (int pass = 0; pass < passes; pass++) {
        for (size_t y = 0; y < height; y++) {
            if (pass == passes - 1 && y == height - 1) {
                context.read_limit = context.position + file_rowbytes + 1 + file_rowbytes / 1000 + CPNG_MAX_IDAT_LEFT;
            }
            png_read_row(png, out + y * (size_t)width * 3, NULL);
        }
    }
    context.read_limit = 0;
    png_read_end(png, NULL);  // reads up to IEND, so a file cut after its image data is still refused

    png_destroy_read_struct(&png, &info, NULL);
    return CPNG_OK;
}

static void on_write(png_structp png, png_bytep bytes, size_t count) {
    cpng_context *context = (cpng_context *)png_get_io_ptr(png);
    if (count > context->encoded_capacity - context->encoded_size) {
        size_t capacity = context->encoded_capacity ? context->encoded_capacity : 4096;
        while (capacity - context->encoded_size < count) {
            if (capacity > SIZE_MAX / 2) { context->code = CPNG_NO_MEMORY; png_error(png, "out of memory"); }
            capacity *= 2;
        }
        uint8_t *grown = (uint8_t *)realloc(context->encoded, capacity);
        if (!grown) { context->code = CPNG_NO_MEMORY; png_error(png, "out of memory"); }
        context->encoded = grown;
        context->encoded_capacity = capacity;
    }
    memcpy(context->encoded + context->encoded_size, bytes, count);
    context->encoded_size += count;
}

static void on_flush(png_structp png) { (void)png; }

int cpng_encode_rgb8(const uint8_t *pixels, uint32_t width, uint32_t height,
                     uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    cpng_context context = {NULL, 0, 0, 0, 0, CPNG_CORRUPT, NULL, 0, 0, message, message_size};
    set_message(&context, "");
    *out = NULL;
    *out_size = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        set_message(&context, "out of memory");
        return CPNG_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(context.encoded);
        png_destroy_write_struct(&png, &info);
        return context.code;
    }
    png_set_write_fn(png, &context, on_write, on_flush);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < height; y++) png_write_row(png, pixels + y * (size_t)width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    *out = context.encoded;
    *out_size = context.encoded_size;
    return CPNG_OK;
}

void cpng_free(void *pointer) { free(pointer); }
