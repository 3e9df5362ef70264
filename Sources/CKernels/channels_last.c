// Winograd's channels-last copy (see ckernels.h): each padded row written once, its image part eight channels by
// eight columns at a time through an 8×8 transpose in registers, and only its padding zeroed. Written element by
// element after zeroing the whole row, as the Swift loop did, the copy took about 2% of a ResNet-50 forward.
#include "ckernels.h"
#include "transpose.h"
#include <immintrin.h>
#include <string.h>

/// Channels [c0, c) of image column `col` into dst[(col + p) · cp + ch], and zeros for channels [c, cp).
static inline void column(const float *x, size_t plane, int c0, int c, int cp, int col, int p, float *dst) {
    float *d = dst + (size_t)(col + p) * cp;
    for (int ch = c0; ch < c; ch++) d[ch] = x[(size_t)ch * plane + col];
    for (int ch = c; ch < cp; ch++) d[ch] = 0.f;
}

/// One image row x[·][row][·] (x the image's channel 0, row already offset) into the padded row dst: image columns
/// [0, cols) at p, eight channels × eight columns per transpose while both last.
__attribute__((target("avx2")))
static void row_avx2(const float *x, size_t plane, int c, int cols, int p, int cp, float *dst) {
    int c8 = c & ~7;
    for (int ch = 0; ch < c8; ch += 8) {
        const float *src = x + (size_t)ch * plane;
        int col = 0;
        for (; col + 8 <= cols; col += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (size_t)i * plane + col);
            TRANSPOSE8(r);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (size_t)(col + j + p) * cp + ch, r[j]);
        }
        for (; col < cols; col++)
            for (int i = 0; i < 8; i++) dst[(size_t)(col + p) * cp + ch + i] = src[(size_t)i * plane + col];
    }
    if (c8 < cp)
        for (int col = 0; col < cols; col++) column(x, plane, c8, c, cp, col, p, dst);
}

void ck_channels_last(const float *x, int c, int h, int w, int p, int hp, int wp, int cp, int r0, int r1, float *xt) {
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2");
    size_t plane = (size_t)h * w;
    int cols = w < wp - p ? w : wp - p;
    for (int nr = r0; nr < r1; nr++) {
        int img = nr / hp, row = nr % hp - p;
        float *dst = xt + (size_t)nr * wp * cp;
        if (row < 0 || row >= h) {
            memset(dst, 0, (size_t)wp * cp * sizeof(float));
            continue;
        }
        memset(dst, 0, (size_t)p * cp * sizeof(float));
        memset(dst + (size_t)(p + cols) * cp, 0, (size_t)(wp - p - cols) * cp * sizeof(float));
        const float *src = x + (size_t)img * c * plane + (size_t)row * w;
        if (avx2) row_avx2(src, plane, c, cols, p, cp, dst);
        else
            for (int col = 0; col < cols; col++) column(src, plane, 0, c, cp, col, p, dst);
    }
}
