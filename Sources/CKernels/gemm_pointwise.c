// The AVX-512 kernel for pointwise convolutions with at least as many input channels as output ones, or at least 256
// (see ckernels.h): 16 output channels × 16 pixels per tile in sixteen zmm accumulators, each k step one load of 16
// pixels and sixteen multiply-adds that broadcast their filter value from memory. The input is read in place, one
// row of 16 pixels per input channel, so nothing is packed per call: on ck_gemm, packing B cost ResNet-50's
// 1024→256 layer over 14×14 2.8% of its time on one core, and twice that on two, where each core packed all of it.
// Loops run over k blocks, then row panels, then every column panel of the range, so that a panel of filters (16 KB)
// stays in L1 while the input passes under it: with few output channels the input is read a few times only. A last,
// partial panel of pixels runs turned round, the filters as the vector (`tails`).
#include "ckernels.h"
#include <immintrin.h>
#include <stddef.h>

#define MW 16
#define KW CK_KC

size_t ck_packed_a16_count(int m, int k) { return (size_t)((m + MW - 1) / MW) * MW * (size_t)k; }

// ap[block][p][kk][r] = a[p·16 + r][block·CK_KC + kk], as ck_pack_a lays out its 6-row panels.
void ck_pack_a16(const float *a, int m, int k, float *ap) { ck_pack_panels(a, m, k, k, MW, ap); }

// One tile: rows [0, rows) and all 16 columns of c (row stride ldc) = (first ? 0 : c) + Σ_kk a[kk][r]·b[kk·ldb + j],
// then on the last k block + bias, + residual, act. The same chain of fused multiply-adds per element as ck_gemm's
// tile, and the same epilogue, so the two agree bit for bit.
__attribute__((target("avx512f,avx512vl"), always_inline))
static inline void tile(const float *a, const float *b, int ldb, int kc, float *c, int ldc, int first, int last,
                        const float *bias, const float *res, int act, int rows) {
    __m512 acc[MW];
#pragma clang loop unroll(full)
    for (int r = 0; r < MW; r++) acc[r] = first || r >= rows ? _mm512_setzero_ps() : _mm512_loadu_ps(c + (size_t)r * ldc);
    for (int kk = 0; kk < kc; kk++, a += MW, b += ldb) {
        __m512 bv = _mm512_loadu_ps(b);
#pragma clang loop unroll(full)
        for (int r = 0; r < MW; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), bv, acc[r]);
    }
    // max(0, x) and min(6, x) return x when x is NaN (the second operand), as Swift.max(x, 0) does.
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.f);
#pragma clang loop unroll(full)
    for (int r = 0; r < MW; r++) {
        __m512 v = acc[r];
        if (last) {
            if (bias && r < rows) v = _mm512_add_ps(v, _mm512_set1_ps(bias[r]));
            if (res && r < rows) v = _mm512_add_ps(v, _mm512_loadu_ps(res + (size_t)r * ldc));
            if (act != CK_NONE) v = _mm512_max_ps(zero, v);
            if (act == CK_RELU6) v = _mm512_min_ps(six, v);
        }
        if (r < rows) _mm512_storeu_ps(c + (size_t)r * ldc, v);
    }
}

// The last, partial panel of COLS < 16 columns, turned round: the 16 rows of a packed panel of filters are the
// vector, and each column's input value is broadcast, so a step costs COLS multiply-adds instead of the full tile's
// 16. ResNet's 14×14 planes end in a panel of 4 columns, which cost as much as a full one: on one core, in a harness
// (the smallest of three medians of 31), the 1024→256 layer took 0.957 ms over 196 pixels against 0.870 over 192,
// and 0.897 over 196 so; 256→1024 over 196 0.950 ms, 0.898 so. The same chain of fused multiply-adds per
// element and the same epilogue as `tile`, so the results agree bit for bit; c and res are read and written across
// rows with gathers and scatters, which read and write nothing for rows past the last.
#define TAIL(COLS) \
__attribute__((target("avx512f,avx512vl"))) \
static void tail##COLS(const float *a, const float *b, int ldb, int kc, float *c, int ldc, int first, int last, \
                       const float *bias, const float *res, int act, int rows) { \
    const __mmask16 live = (__mmask16)(rows >= MW ? 0xffff : (1u << rows) - 1); \
    const __m512i across = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), \
                                              _mm512_set1_epi32(ldc)); \
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.f); \
    __m512 acc[COLS]; \
    _Pragma("clang loop unroll(full)") \
    for (int j = 0; j < COLS; j++) acc[j] = first ? zero : _mm512_mask_i32gather_ps(zero, live, across, c + j, 4); \
    for (int kk = 0; kk < kc; kk++, a += MW, b += ldb) { \
        __m512 av = _mm512_loadu_ps(a); \
        _Pragma("clang loop unroll(full)") \
        for (int j = 0; j < COLS; j++) acc[j] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[j]), acc[j]); \
    } \
    __m512 bv = last && bias ? _mm512_maskz_loadu_ps(live, bias) : zero; \
    _Pragma("clang loop unroll(full)") \
    for (int j = 0; j < COLS; j++) { \
        __m512 v = acc[j]; \
        if (last) { \
            if (bias) v = _mm512_add_ps(v, bv); \
            if (res) v = _mm512_add_ps(v, _mm512_mask_i32gather_ps(zero, live, across, res + j, 4)); \
            if (act != CK_NONE) v = _mm512_max_ps(zero, v); \
            if (act == CK_RELU6) v = _mm512_min_ps(six, v); \
        } \
        _mm512_mask_i32scatter_ps(c + j, live, across, v, 4); \
    } \
}
TAIL(1) TAIL(2) TAIL(3) TAIL(4) TAIL(5) TAIL(6) TAIL(7) TAIL(8) TAIL(9) TAIL(10) TAIL(11) TAIL(12) TAIL(13) TAIL(14)
TAIL(15)
#undef TAIL

typedef void (*tail_fn)(const float *, const float *, int, int, float *, int, int, int, const float *, const float *, int,
                        int);
static const tail_fn tails[MW] = {NULL,    tail1,  tail2,  tail3,  tail4,  tail5,  tail6,  tail7,
                                  tail8,   tail9,  tail10, tail11, tail12, tail13, tail14, tail15};

__attribute__((target("avx512f,avx512vl")))
void ck_gemm_pw(const float *ap, const float *b, int ldb, int m, int n, int k, float *c, int ldc,
                const ck_epilogue *e, int p0, int p1, int q0, int q1) {
    int panels = (m + MW - 1) / MW;
    for (int k0 = 0; k0 < k; k0 += KW) {
        int kc = k - k0 < KW ? k - k0 : KW, first = k0 == 0, last = k0 + kc == k;
        for (int p = p0; p < p1; p++) {
            const float *a = ap + (size_t)k0 * panels * MW + (size_t)p * kc * MW;
            int r0 = p * MW, rows = m - r0 < MW ? m - r0 : MW;
            // The next panel of filters (this k block's next, else the next k block's first) goes into L2 a share
            // with each tile of this one, so that it comes from memory while this panel's tiles run. All of it at
            // once, before the first tile, as ck_gemm does, left the filters' reads from memory in the layer's time:
            // one core, a harness, filters and output cold, input warm (the median of 41): 1024→256 over 14×14
            // 101.8–106.5 GFLOP/s → 107.9–108.2, 512→128 over 28×28 106.0–110.7 → 109.0–110.7, 256→1024 over 14×14
            // 102.7–103.6 → 105.3–105.7 (three runs each, interleaved). In whole ResNet-50 passes the gain is under
            // the noise.
            const float *next = NULL;
            int nkc = kc;
            if (p + 1 < p1) next = a + (size_t)kc * MW;
            else if (k0 + kc < k) {
                nkc = k - k0 - kc < KW ? k - k0 - kc : KW;
                next = ap + (size_t)(k0 + kc) * panels * MW + (size_t)p0 * nkc * MW;
            }
            long lines = (long)nkc * MW * 4 / 64, tiles = q1 - q0;
            const float *bias = e->bias ? e->bias + r0 : NULL;
            for (int q = q0; q < q1; q++) {
                if (next)
                    for (long l = lines * (q - q0) / tiles; l < lines * (q - q0 + 1) / tiles; l++)
                        _mm_prefetch((const char *)next + l * 64, _MM_HINT_T1);
                int c0 = q * MW, cols = n - c0 < MW ? n - c0 : MW;
                const float *res = e->res ? e->res + (size_t)r0 * ldc + c0 : NULL;
                const float *bq = b + (size_t)k0 * ldb + c0;
                float *cq = c + (size_t)r0 * ldc + c0;
                if (cols == MW) tile(a, bq, ldb, kc, cq, ldc, first, last, bias, res, e->act, rows);
                else tails[cols](a, bq, ldb, kc, cq, ldc, first, last, bias, res, e->act, rows);
            }
        }
    }
}
