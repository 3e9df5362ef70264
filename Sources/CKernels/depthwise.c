// The rows of one depthwise-convolution plane (see ckernels.h), eight outputs at a time with fused multiply-adds.
#include "ckernels.h"
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static inline __m256 finish(__m256 v, int act) {
    // max(0, v) and min(6, v) return v when v is NaN, as Swift.max(v, 0) does.
    if (act != CK_NONE) v = _mm256_max_ps(_mm256_setzero_ps(), v);
    if (act == CK_RELU6) v = _mm256_min_ps(_mm256_set1_ps(6.f), v);
    return v;
}

__attribute__((target("avx2,fma")))
static inline void store(float *row, int ow, int wo, __m256 v) {
    if (ow + 8 <= wo) { _mm256_storeu_ps(row + ow, v); return; }
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (int i = 0; i < wo - ow; i++) row[ow + i] = lanes[i];
}

__attribute__((target("avx2,fma")))
void ck_depthwise_plane(const float *pad, int row_step, const int *off, int kk, const float *w, float bias,
                        float *dst, int ho, int wo, int act) {
    const __m256 b = _mm256_set1_ps(bias);
    int oh = 0;
    for (; oh + 1 < ho; oh += 2) {                         // two rows at once: two independent chains
        const float *src = pad + (size_t)oh * row_step;
        float *row = dst + (size_t)oh * wo;
        for (int ow = 0; ow < wo; ow += 8) {
            __m256 acc = b, acc1 = b;
            for (int t = 0; t < kk; t++) {
                const __m256 wt = _mm256_broadcast_ss(w + t);
                const float *at = src + off[t] + ow;
                acc = _mm256_fmadd_ps(wt, _mm256_loadu_ps(at), acc);
                acc1 = _mm256_fmadd_ps(wt, _mm256_loadu_ps(at + row_step), acc1);
            }
            store(row, ow, wo, finish(acc, act));
            store(row + wo, ow, wo, finish(acc1, act));
        }
    }
    for (; oh < ho; oh++) {
        const float *src = pad + (size_t)oh * row_step;
        float *row = dst + (size_t)oh * wo;
        for (int ow = 0; ow < wo; ow += 8) {
            __m256 acc = b;
            for (int t = 0; t < kk; t++)
                acc = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), _mm256_loadu_ps(src + off[t] + ow), acc);
            store(row, ow, wo, finish(acc, act));
        }
    }
}
