// The engine's AVX-512 GEMM for im2col convolutions (see ckernels.h): output pixels as the rows of a 7×32 register
// tile and output channels as its columns, fourteen zmm accumulators. ResNet's and VGG's planes (112², 56², 28², 14²,
// 7²) are all multiples of 7 pixels and their channel counts multiples of 32, so no lane is wasted, where the
// channels-as-rows kernel of gemm.c wastes 15 of every 64 columns on a 7×7 plane. k is blocked by 512, with each
// tile's partial sums kept in a small buffer between blocks; the finished tile is written back transposed, to the
// (channels, pixels) layout of the output, with the bias and the activation applied on the way.
#include "ckernels.h"
#include <immintrin.h>

#define PR CK_PR
#define QR CK_QR
#define KB 512
/// Pixel panels per chunk: a chunk's packed columns stay in L2 while every channel panel passes over them.
#define PC 16

int ck_available512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

size_t ck_packed_w_count(int o, int k) { return (size_t)((o + QR - 1) / QR) * QR * (size_t)k; }

// wp[q][kk][j] = w[q·32 + j][kk]
void ck_pack_w(const float *w, int o, int k, float *wp) {
    int panels = (o + QR - 1) / QR;
    for (int q = 0; q < panels; q++) {
        for (int kk = 0; kk < k; kk++) {
            float *dst = wp + ((size_t)q * k + kk) * QR;
            for (int j = 0; j < QR; j++) {
                int row = q * QR + j;
                dst[j] = row < o ? w[(size_t)row * k + kk] : 0.f;
            }
        }
    }
}

size_t ck_packed_p_count(int n, int k) { return (size_t)((n + PR - 1) / PR) * PR * (size_t)k; }

// ap[p - p0][kk][r] = b[kk][p·7 + r], zero past n; rows of b read in order.
__attribute__((target("avx512f")))
void ck_pack_p(const float *b, int k, int n, int ldb, float *ap, int p0, int p1) {
    for (int kk = 0; kk < k; kk++) {
        const float *src = b + (size_t)kk * ldb;
        for (int p = p0; p < p1; p++) {
            int c0 = p * PR, w = n - c0 < PR ? n - c0 : PR;
            __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << w) - 1), src + c0);
            _mm512_mask_storeu_ps(ap + ((size_t)(p - p0) * k + kk) * PR, (__mmask16)((1u << PR) - 1), v);
        }
    }
}

// acc (7 × 32) = (first ? 0 : acc) + Σ_kk a[kk][r] · b[kk][j], one fused multiply-add chain per element, in k order.
__attribute__((target("avx512f")))
static void tile(const float *a, const float *b, int kc, float *acc, int first) {
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61;
    if (first) {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = _mm512_setzero_ps();
    } else {
        c00 = _mm512_loadu_ps(acc + 0 * QR); c01 = _mm512_loadu_ps(acc + 0 * QR + 16);
        c10 = _mm512_loadu_ps(acc + 1 * QR); c11 = _mm512_loadu_ps(acc + 1 * QR + 16);
        c20 = _mm512_loadu_ps(acc + 2 * QR); c21 = _mm512_loadu_ps(acc + 2 * QR + 16);
        c30 = _mm512_loadu_ps(acc + 3 * QR); c31 = _mm512_loadu_ps(acc + 3 * QR + 16);
        c40 = _mm512_loadu_ps(acc + 4 * QR); c41 = _mm512_loadu_ps(acc + 4 * QR + 16);
        c50 = _mm512_loadu_ps(acc + 5 * QR); c51 = _mm512_loadu_ps(acc + 5 * QR + 16);
        c60 = _mm512_loadu_ps(acc + 6 * QR); c61 = _mm512_loadu_ps(acc + 6 * QR + 16);
    }
    for (int kk = 0; kk < kc; kk++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), x;
        x = _mm512_set1_ps(a[0]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(a[1]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(a[2]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(a[3]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        x = _mm512_set1_ps(a[4]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
        x = _mm512_set1_ps(a[5]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
        x = _mm512_set1_ps(a[6]); c60 = _mm512_fmadd_ps(x, b0, c60); c61 = _mm512_fmadd_ps(x, b1, c61);
        a += PR;
        b += QR;
    }
    _mm512_storeu_ps(acc + 0 * QR, c00); _mm512_storeu_ps(acc + 0 * QR + 16, c01);
    _mm512_storeu_ps(acc + 1 * QR, c10); _mm512_storeu_ps(acc + 1 * QR + 16, c11);
    _mm512_storeu_ps(acc + 2 * QR, c20); _mm512_storeu_ps(acc + 2 * QR + 16, c21);
    _mm512_storeu_ps(acc + 3 * QR, c30); _mm512_storeu_ps(acc + 3 * QR + 16, c31);
    _mm512_storeu_ps(acc + 4 * QR, c40); _mm512_storeu_ps(acc + 4 * QR + 16, c41);
    _mm512_storeu_ps(acc + 5 * QR, c50); _mm512_storeu_ps(acc + 5 * QR + 16, c51);
    _mm512_storeu_ps(acc + 6 * QR, c60); _mm512_storeu_ps(acc + 6 * QR + 16, c61);
}

// c[q·32 + j][p·7 + r] = act(acc[r][j] + bias[q·32 + j]) for the channels below o and the pixels below n.
__attribute__((target("avx512f")))
static void store(float *acc, float *c, int ldc, int o, int n, int q, int p, const float *bias, int act) {
    int c0 = q * QR, channels = o - c0 < QR ? o - c0 : QR;
    int x0 = p * PR, pixels = n - x0 < PR ? n - x0 : PR;
    __mmask16 m0 = (__mmask16)(channels >= 16 ? 0xffff : (1u << channels) - 1);
    __mmask16 m1 = (__mmask16)(channels <= 16 ? 0 : channels >= 32 ? 0xffff : (1u << (channels - 16)) - 1);
    if (bias || act != CK_NONE) {
        // max(0, x) and min(6, x) return x when x is NaN (the second operand), as Swift.max(x, 0) does.
        const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.f);
        __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + c0) : zero, b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + c0 + 16) : zero;
        for (int r = 0; r < pixels; r++) {
            __m512 v0 = _mm512_loadu_ps(acc + r * QR), v1 = _mm512_loadu_ps(acc + r * QR + 16);
            if (bias) { v0 = _mm512_add_ps(v0, b0); v1 = _mm512_add_ps(v1, b1); }
            if (act != CK_NONE) { v0 = _mm512_max_ps(zero, v0); v1 = _mm512_max_ps(zero, v1); }
            if (act == CK_RELU6) { v0 = _mm512_min_ps(six, v0); v1 = _mm512_min_ps(six, v1); }
            _mm512_storeu_ps(acc + r * QR, v0);
            _mm512_storeu_ps(acc + r * QR + 16, v1);
        }
    }
    for (int j = 0; j < channels; j++) {
        float *dst = c + (size_t)(c0 + j) * ldc + x0;
        for (int r = 0; r < pixels; r++) dst[r] = acc[r * QR + j];
    }
}

// Channel panels [q0, q1) × pixel panels [p0, p1) (p1 − p0 ≤ PC), from the packed pixel panels starting at ap.
static void run(const float *wp, const float *ap, int o, int n, int k, float *c, int ldc, const float *bias, int act,
                int q0, int q1, int p0, int p1, float *acc) {
    for (int q = q0; q < q1; q++) {
        for (int k0 = 0; k0 < k; k0 += KB) {
            int kc = k - k0 < KB ? k - k0 : KB;
            const float *b = wp + ((size_t)q * k + k0) * QR;
            for (int p = p0; p < p1; p++) tile(ap + ((size_t)(p - p0) * k + k0) * PR, b, kc, acc + (size_t)(p - p0) * PR * QR, k0 == 0);
        }
        for (int p = p0; p < p1; p++) store(acc + (size_t)(p - p0) * PR * QR, c, ldc, o, n, q, p, bias, act);
    }
}

size_t ck_gemm_p_scratch(int k) { return ck_packed_p_count(PC * PR, k) + (size_t)PC * PR * QR; }

void ck_gemm_p(const float *wp, const float *b, int ldb, int o, int n, int k, float *c, int ldc, const float *bias, int act,
               int q0, int q1, int p0, int p1, float *scratch) {
    float *acc = scratch + ck_packed_p_count(PC * PR, k);
    for (int pc = p0; pc < p1; pc += PC) {
        int pe = p1 - pc < PC ? p1 : pc + PC;
        ck_pack_p(b, k, n, ldb, scratch, pc, pe);
        run(wp, scratch, o, n, k, c, ldc, bias, act, q0, q1, pc, pe, acc);
    }
}

void ck_gemm_p_packed(const float *wp, const float *ap, int o, int n, int k, float *c, int ldc, const float *bias, int act,
                      int q0, int q1, float *acc) {
    int panels = (n + PR - 1) / PR;
    for (int pc = 0; pc < panels; pc += PC) {
        int pe = panels - pc < PC ? panels : pc + PC;
        run(wp, ap + (size_t)pc * k * PR, o, n, k, c, ldc, bias, act, q0, q1, pc, pe, acc);
    }
}
