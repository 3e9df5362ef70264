// libjpeg reports errors through error_exit, which must not return, and warnings through emit_message. Both land
// here: we format the message, longjmp back to the setjmp in cjpeg_decode_rgb8, free what we allocated, and hand the
// message to Swift. The default handlers would print to stderr and call exit().
#include "cjpeg.h"

#include <stdio.h>  // jpeglib.h needs FILE and size_t declared first
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

// State shared with libjpeg's callbacks. It lives in memory, not registers, so it is valid after longjmp.
typedef struct {
    struct jpeg_error_mgr base;        // must be first: libjpeg hands back a pointer to it
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int code;                          // CJPEG_CORRUPT unless set otherwise
    uint8_t *row;                      // (width, 4) scanline of a CMYK image
    char text[JMSG_LENGTH_MAX];
} cjpeg_context;

static void fail(j_common_ptr cinfo, int code) {
    cjpeg_context *context = (cjpeg_context *)cinfo->err;
    context->code = code;
    (*cinfo->err->format_message)(cinfo, context->text);
    longjmp(context->jump, 1);
}

static void on_error_exit(j_common_ptr cinfo) {
    switch (cinfo->err->msg_code) {
    case JERR_OUT_OF_MEMORY: fail(cinfo, CJPEG_NO_MEMORY); break;
    case JERR_BAD_PRECISION:
    case JERR_IMAGE_TOO_BIG:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED: fail(cinfo, CJPEG_UNSUPPORTED); break;
    default: fail(cinfo, CJPEG_CORRUPT);
    }
}

// Level -1 is a warning; levels 0 and up are trace messages, which we ignore.
static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    int code = cinfo->err->msg_code;
    // Header oddities that do not touch the pixel data; PIL decodes these files and so do we.
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM) return;
    // Everything else says data is missing or corrupt ("Premature end of JPEG file", "bad Huffman code", ...):
    // libjpeg would go on and fill the rest of the image with grey.
    fail(cinfo, code == JWRN_JPEG_EOF ? CJPEG_TRUNCATED : CJPEG_CORRUPT);
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void on_progress(j_common_ptr cinfo) {
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->input_scan_number > CJPEG_MAX_SCANS) {
        cjpeg_context *context = (cjpeg_context *)cinfo->err;
        snprintf(context->text, sizeof context->text, "more than %d scans", CJPEG_MAX_SCANS);
        context->code = CJPEG_TOO_MANY_SCANS;
        longjmp(context->jump, 1);
    }
}

// PIL reads 4-channel JPEGs as "CMYK;I" (inverted, Adobe's convention, whatever the file says), then converts with
// Convert.c's cmyk2rgb: nk = 255 - k; out = nk - round(c * nk / 255), using its MULDIV255 rounding.
static void inverted_cmyk_to_rgb(const uint8_t *in, uint8_t *out, uint32_t width) {
    for (uint32_t x = 0; x < width; x++, in += 4, out += 3) {
        int nk = in[3];  // 255 - (255 - k)
        for (int c = 0; c < 3; c++) {
            int tmp = (255 - in[c]) * nk + 128;
            int v = nk - (((tmp >> 8) + tmp) >> 8);
            out[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

int cjpeg_decode_rgb8(const uint8_t *data, size_t size, uint32_t width, uint32_t height,
                      uint8_t *out, char *message, size_t message_size) {
    struct jpeg_decompress_struct cinfo;
    cjpeg_context context;
    memset(&context, 0, sizeof context);
    context.code = CJPEG_CORRUPT;
    cinfo.err = jpeg_std_error(&context.base);
    context.base.error_exit = on_error_exit;
    context.base.emit_message = on_emit_message;
    context.base.output_message = on_output_message;
    context.progress.progress_monitor = on_progress;
    if (setjmp(context.jump)) {
        if (message_size > 0) snprintf(message, message_size, "%s", context.text);
        free(context.row);
        jpeg_destroy_decompress(&cinfo);
        return context.code;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &context.progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.image_width != width || cinfo.image_height != height) {
        snprintf(context.text, sizeof context.text, "header says %ux%u, expected %ux%u",
                 (unsigned)cinfo.image_width, (unsigned)cinfo.image_height, (unsigned)width, (unsigned)height);
        context.code = CJPEG_SIZE_MISMATCH;
        longjmp(context.jump, 1);
    }
    int cmyk = cinfo.num_components == 4;
    // libjpeg converts YCbCr, RGB and grey to RGB itself, and YCCK to CMYK.
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_width != width || cinfo.output_height != height ||
        cinfo.output_components != (cmyk ? 4 : 3)) {
        snprintf(context.text, sizeof context.text, "unexpected output layout");
        longjmp(context.jump, 1);
    }
    if (cmyk) {
        context.row = (uint8_t *)malloc((size_t)width * 4);
        if (!context.row) {
            snprintf(context.text, sizeof context.text, "out of memory");
            context.code = CJPEG_NO_MEMORY;
            longjmp(context.jump, 1);
        }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *target = out + (size_t)cinfo.output_scanline * width * 3;
        JSAMPROW row = cmyk ? context.row : target;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            snprintf(context.text, sizeof context.text, "decoder returned no rows");
            longjmp(context.jump, 1);
        }
        if (cmyk) inverted_cmyk_to_rgb(context.row, target, width);
    }
    jpeg_finish_decompress(&cinfo);  // reads up to EOI, so a file cut after its last scan is still refused
    free(context.row);
    jpeg_destroy_decompress(&cinfo);
    return CJPEG_OK;
}

// The encoder reports through the same context as the decoder; libjpeg's memory destination grows its buffer with
// malloc, so on an error the partial buffer is freed here.
int cjpeg_encode_rgb8(const uint8_t *rgb, uint32_t width, uint32_t height, int quality,
                      uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    struct jpeg_compress_struct cinfo;
    cjpeg_context context;
    struct { unsigned char *data; unsigned long size; } buffer = { NULL, 0 };  // in memory: valid after longjmp
    memset(&context, 0, sizeof context);
    context.code = CJPEG_CORRUPT;
    *out = NULL;
    *out_size = 0;
    cinfo.err = jpeg_std_error(&context.base);
    context.base.error_exit = on_error_exit;
    context.base.emit_message = on_emit_message;
    context.base.output_message = on_output_message;
    if (setjmp(context.jump)) {
        if (message_size > 0) snprintf(message, message_size, "%s", context.text);
        jpeg_destroy_compress(&cinfo);
        free(buffer.data);
        return context.code;
    }
    jpeg_create_compress(&cinfo);
    if (width == 0 || height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        snprintf(context.text, sizeof context.text, "cannot encode a %ux%u image (sides 1 to %ld)",
                 (unsigned)width, (unsigned)height, (long)JPEG_MAX_DIMENSION);
        context.code = CJPEG_UNSUPPORTED;
        longjmp(context.jump, 1);
    }
    jpeg_mem_dest(&cinfo, &buffer.data, &buffer.size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    cinfo.optimize_coding = TRUE;
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer.data;
    *out_size = buffer.size;
    return CJPEG_OK;
}

void cjpeg_free(uint8_t *buffer) { free(buffer); }
