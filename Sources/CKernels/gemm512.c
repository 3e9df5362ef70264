// The engine's AVX-512 GEMM for im2col convolutions (see ckernels.h): output pixels as the rows of a 7×32 register
// tile and output channels as its columns, fourteen zmm accumulators. ResNet's and VGG's planes (112², 56², 28², 14²,
// 7²) are all multiples of 7 pixels and their channel counts multiples of 32, so no lane is wasted, where the
// channels-as-rows kernel of gemm.c wastes 15 of every 64 columns on a 7×7 plane. k is blocked by 512, with each
// tile's partial sums kept in a small buffer between blocks; the finished tile is written back transposed, to the
// (channels, pixels) layout of the output, with the bias and the activation applied on the way. At the end of the
// file, ck_gemm_rows: Winograd's GEMMs, on tiles read in place and filters packed once.
#include "ckernels.h"
#include "vectors.h"
#include <immintrin.h>
#include <stddef.h>

#define PR CK_PR
#define QR CK_QR
#define KB 512
/// Pixel panels per chunk: a chunk's packed columns stay in L2 while every channel panel passes over them.
#define PC 16
/// Kernel widths up to this take the packing's fast path.
#define MAXKW 64

int ck_available512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
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

// Sixteen floats past the last panel: the packing stores eight lanes for every seven, the last of them past the end.
size_t ck_packed_p_count(int n, int k) { return (size_t)((n + PR - 1) / PR) * PR * (size_t)k + 16; }

// ap[p - p0][kk][r] = the im2col value of row kk (channel, kernel row, kernel column) for output pixel p·7 + r, zero
// in the padding and past the last pixel, for panels p0 to p1: no column matrix is made. A panel inside one output
// row (every panel when the output width is a multiple of 7) reads each kernel offset's values with one masked load
// (stride 1) or one and a permute (stride 2); masked-off lanes read nothing, so a window hanging over the edge needs
// no special case. Panels are stored eight lanes at a time: the eighth is overwritten by the next store, or falls in
// the slack past the last panel (ck_packed_p_count).
__attribute__((target("avx512f,avx512vl")))
void ck_pack_p(const ck_window *g, const float *x, float *ap, int p0, int p1) {
    int k = g->c * g->kh * g->kw, n = g->ho * g->wo;
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int p = p0; p < p1; p++) {
        float *dst = ap + (size_t)(p - p0) * k * PR;
        int x0 = p * PR, oy = x0 / g->wo, ox = x0 % g->wo;
        int fast = ox + PR <= g->wo && g->sw <= 2 && g->kw <= MAXKW;
        // Which lanes of the loads (columns ix to ix + 15) fall inside the image, per kernel column: the same for
        // every channel and kernel row, so worked out once per panel (in the inner loop, this cost ResNet-50's 28×28
        // stride-2 layer 13% of its time).
        __mmask16 lanes[MAXKW];
        for (int kx = 0; fast && kx < g->kw; kx++) {
            int ix = ox * g->sw + kx * g->dw - g->pw;
            lanes[kx] = 0;
            for (int r = 0; r < PR; r++) {
                int c = ix + r * g->sw;
                if (c >= 0 && c < g->w) lanes[kx] |= (__mmask16)(1u << (r * g->sw));
            }
        }
        if (fast) {
            // The panel's window over channel 0, kernel offset (0, 0), as an offset into x. With the row's bounds
            // checked once per kernel row, and no branch per load, packing takes under half the time that one loop
            // checking each load's row did (ResNet-50's stride-2 3×3 layer over 56×56: 219 µs against 482 to pack,
            // 2.24 ms against 2.49 in all, on one core).
            ptrdiff_t at = (ptrdiff_t)(oy * g->sh - g->ph) * g->w + ox * g->sw - g->pw;
            for (int ci = 0; ci < g->c; ci++, at += (ptrdiff_t)g->h * g->w) {
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh + ky * g->dh - g->ph;
                    if (iy < 0 || iy >= g->h) {
                        for (int kx = 0; kx < g->kw; kx++, dst += PR) _mm256_storeu_ps(dst, _mm256_setzero_ps());
                        continue;
                    }
                    const float *src = x + at + (ptrdiff_t)ky * g->dh * g->w;
                    if (g->sw == 1) {
                        for (int kx = 0; kx < g->kw; kx++, dst += PR)
                            _mm256_storeu_ps(dst, _mm256_maskz_loadu_ps((__mmask8)lanes[kx], src + kx * g->dw));
                    } else {
                        // Lane r·2 of the load from column ix holds column ix + r·2.
                        for (int kx = 0; kx < g->kw; kx++, dst += PR) {
                            __m512 v = _mm512_permutexvar_ps(evens, _mm512_maskz_loadu_ps(lanes[kx], src + kx * g->dw));
                            _mm256_storeu_ps(dst, _mm512_castps512_ps256(v));
                        }
                    }
                }
            }
            continue;
        }
        for (int ci = 0; ci < g->c; ci++) {
            const float *plane = x + (size_t)ci * g->h * g->w;
            for (int ky = 0; ky < g->kh; ky++) {
                for (int kx = 0; kx < g->kw; kx++, dst += PR) {
                    for (int r = 0; r < PR; r++) {
                        int pix = x0 + r, py = pix / g->wo, px = pix % g->wo;
                        int iy = py * g->sh + ky * g->dh - g->ph, ix = px * g->sw + kx * g->dw - g->pw;
                        dst[r] = pix < n && iy >= 0 && iy < g->h && ix >= 0 && ix < g->w ? plane[(size_t)iy * g->w + ix] : 0.f;
                    }
                }
            }
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

// c[q·32 + j][p·7 + r] = act(acc[r][j] + bias[q·32 + j] + res[q·32 + j][p·7 + r]) for the channels below o and the
// pixels below n (res, with c's layout, is optional).
__attribute__((target("avx512f,avx512vl")))
static void store(float *acc, float *c, int ldc, int o, int n, int q, int p, const ck_epilogue *e) {
    int c0 = q * QR, channels = o - c0 < QR ? o - c0 : QR;
    int x0 = p * PR, pixels = n - x0 < PR ? n - x0 : PR;
    __mmask16 m0 = (__mmask16)(channels >= 16 ? 0xffff : (1u << channels) - 1);
    __mmask16 m1 = (__mmask16)(channels <= 16 ? 0 : channels >= 32 ? 0xffff : (1u << (channels - 16)) - 1);
    const float *bias = e->bias;
    int act = e->act;
    // Without a residual, the activation goes with the bias, sixteen lanes at a time; with one, after it, one by one.
    if (bias || (act != CK_NONE && !e->res)) {
        // max(0, x) and min(6, x) return x when x is NaN (the second operand), as Swift.max(x, 0) does.
        const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.f);
        __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + c0) : zero, b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + c0 + 16) : zero;
        int acts = e->res ? CK_NONE : act;
        for (int r = 0; r < pixels; r++) {
            __m512 v0 = _mm512_loadu_ps(acc + r * QR), v1 = _mm512_loadu_ps(acc + r * QR + 16);
            if (bias) { v0 = _mm512_add_ps(v0, b0); v1 = _mm512_add_ps(v1, b1); }
            if (acts != CK_NONE) { v0 = _mm512_max_ps(zero, v0); v1 = _mm512_max_ps(zero, v1); }
            if (acts == CK_RELU6) { v0 = _mm512_min_ps(six, v0); v1 = _mm512_min_ps(six, v1); }
            _mm512_storeu_ps(acc + r * QR, v0);
            _mm512_storeu_ps(acc + r * QR + 16, v1);
        }
    }
    // A full tile goes out eight channels at a time through an 8×8 transpose of its seven pixel rows (and one of
    // zeros), each channel's seven pixels in one masked store, the residual added from a masked load. The scalar
    // loops below took ResNet-50's 7×7 layers' stores 0.8% of a forward.
    if (channels == QR && pixels == PR) {
        const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.f);
        for (int g = 0; g < QR; g += 8) {
            __m256 r[8];
            for (int i = 0; i < PR; i++) r[i] = _mm256_loadu_ps(acc + i * QR + g);
            r[7] = zero;
            TRANSPOSE8(r);
            for (int j = 0; j < 8; j++) {
                size_t at = (size_t)(c0 + g + j) * ldc + x0;
                __m256 v = r[j];
                if (e->res) {
                    v = _mm256_add_ps(v, _mm256_maskz_loadu_ps(0x7f, e->res + at));
                    // max(0, x) and min(6, x) return x when x is NaN (the second operand), as Swift.max(x, 0) does.
                    if (act != CK_NONE) v = _mm256_max_ps(zero, v);
                    if (act == CK_RELU6) v = _mm256_min_ps(six, v);
                }
                _mm256_mask_storeu_ps(c + at, 0x7f, v);
            }
        }
        return;
    }
    if (e->res) {
        for (int j = 0; j < channels; j++) {
            float *dst = c + (size_t)(c0 + j) * ldc + x0;
            const float *rs = e->res + (size_t)(c0 + j) * ldc + x0;
            for (int r = 0; r < pixels; r++) dst[r] = ck_act(acc[r * QR + j] + rs[r], act);
        }
        return;
    }
    for (int j = 0; j < channels; j++) {
        float *dst = c + (size_t)(c0 + j) * ldc + x0;
        for (int r = 0; r < pixels; r++) dst[r] = acc[r * QR + j];
    }
}

// Channel panels [q0, q1) × pixel panels [p0, p1) (p1 − p0 ≤ PC), from the packed pixel panels starting at ap.
static void run(const float *wp, const float *ap, int o, int n, int k, float *c, int ldc, const ck_epilogue *e,
                int q0, int q1, int p0, int p1, float *acc) {
    for (int q = q0; q < q1; q++) {
        for (int k0 = 0; k0 < k; k0 += KB) {
            int kc = k - k0 < KB ? k - k0 : KB;
            const float *b = wp + ((size_t)q * k + k0) * QR;
            for (int p = p0; p < p1; p++) tile(ap + ((size_t)(p - p0) * k + k0) * PR, b, kc, acc + (size_t)(p - p0) * PR * QR, k0 == 0);
        }
        for (int p = p0; p < p1; p++) store(acc + (size_t)(p - p0) * PR * QR, c, ldc, o, n, q, p, e);
    }
}

size_t ck_gemm_p_acc_count(void) { return (size_t)PC * PR * QR; }

size_t ck_gemm_p_scratch(int k) { return ck_packed_p_count(PC * PR, k) + ck_gemm_p_acc_count(); }

void ck_gemm_p(const float *wp, const ck_window *g, const float *x, int o, float *c, int ldc, const ck_epilogue *e,
               int q0, int q1, int p0, int p1, float *scratch) {
    int k = g->c * g->kh * g->kw, n = g->ho * g->wo;
    float *acc = scratch + ck_packed_p_count(PC * PR, k);
    for (int pc = p0; pc < p1; pc += PC) {
        int pe = p1 - pc < PC ? p1 : pc + PC;
        ck_pack_p(g, x, scratch, pc, pe);
        run(wp, scratch, o, n, k, c, ldc, e, q0, q1, pc, pe, acc);
    }
}

void ck_gemm_p_packed(const float *wp, const float *ap, int o, int n, int k, float *c, int ldc, const ck_epilogue *e,
                      int q0, int q1, float *acc) {
    int panels = (n + PR - 1) / PR;
    for (int pc = 0; pc < panels; pc += PC) {
        int pe = panels - pc < PC ? panels : pc + PC;
        run(wp, ap + (size_t)pc * k * PR, o, n, k, c, ldc, e, q0, q1, pc, pe, acc);
    }
}

// One panel of R ≤ 6 rows of C (m, n) = A · B and its 16 columns from c0 (ck_gemm_rows), R a constant where it is
// inlined, so that a last, partial panel costs its own rows only: with 6 rows always, 49 tiles (a 14×14 plane's
// F(2×2) tiles, a 28×28 one's F(4×4)) cost 54.
__attribute__((target("avx512f"), always_inline))
static inline void rows_panel(const float *a, int lda, const float *bq, int k, float *c, int ldc, int c0,
                              __mmask16 store, const int R) {
    const float *row[6];
    for (int r = 0; r < R; r++) row[r] = a + (size_t)r * lda;
    __m512 acc[4][6];
    for (int u = 0; u < 4; u++)
        for (int r = 0; r < R; r++) acc[u][r] = _mm512_setzero_ps();
    // Step kk into chain u. The remainder's chains are constants, so that the accumulators stay in registers:
    // indexed by a loop variable, they lived in memory, zeroed by a call to memset for every tile.
#define STEP(u, kk) do { \
        __m512 b = _mm512_loadu_ps(bq + (size_t)(kk) * 16); \
        for (int r = 0; r < R; r++) acc[u][r] = _mm512_fmadd_ps(_mm512_set1_ps(row[r][kk]), b, acc[u][r]); \
    } while (0)
    int kk = 0;
    for (; kk + 4 <= k; kk += 4) {
        for (int u = 0; u < 4; u++) STEP(u, kk + u);
    }
    if (kk < k) STEP(0, kk);
    if (kk + 1 < k) STEP(1, kk + 1);
    if (kk + 2 < k) STEP(2, kk + 2);
#undef STEP
    for (int r = 0; r < R; r++) {
        __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0][r], acc[1][r]), _mm512_add_ps(acc[2][r], acc[3][r]));
        _mm512_mask_storeu_ps(c + (size_t)r * ldc + c0, store, sum);
    }
}

// C (m, n) = A · B with A's rows read in place and B packed by ck_pack_b (see ckernels.h): 6 rows × 16 columns per
// tile, each element summed in four interleaved chains (k ≡ 0, 1, 2, 3 mod 4) that are added at the end. One chain of
// 264 products, as the other kernels make, lost a factor of 5 in accuracy on Winograd's GEMMs against OpenBLAS
// (relative 1.3e-5 against 2.1e-6 of the naive convolution); 24 of the 32 zmm registers hold the four chains.
__attribute__((target("avx512f")))
void ck_gemm_rows(const float *a, int lda, const float *bp, int m, int n, int k, float *c, int ldc) {
    for (int q = 0; q < (n + 15) / 16; q++) {
        int c0 = q * 16, cols = n - c0 < 16 ? n - c0 : 16;
        __mmask16 store = (__mmask16)((1u << cols) - 1);
        const float *bq = bp + (size_t)q * k * 16;
        for (int r0 = 0; r0 < m; r0 += 6) {
            const float *ar = a + (size_t)r0 * lda;
            float *cr = c + (size_t)r0 * ldc;
            switch (m - r0 < 6 ? m - r0 : 6) {
            case 6: rows_panel(ar, lda, bq, k, cr, ldc, c0, store, 6); break;
            case 5: rows_panel(ar, lda, bq, k, cr, ldc, c0, store, 5); break;
            case 4: rows_panel(ar, lda, bq, k, cr, ldc, c0, store, 4); break;
            case 3: rows_panel(ar, lda, bq, k, cr, ldc, c0, store, 3); break;
            case 2: rows_panel(ar, lda, bq, k, cr, ldc, c0, store, 2); break;
            default: rows_panel(ar, lda, bq, k, cr, ldc, c0, store, 1); break;
            }
        }
    }
}
