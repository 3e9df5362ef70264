// The engine's GEMM kernel for convolutions (see ckernels.h): a 6×16 register tile of C in twelve AVX2 registers,
// k blocked by 256 so a panel of A stays in L1 while the columns of B pass, n blocked by 32 panels so that block of
// B stays in L2 while the rows of A pass.
#include "ckernels.h"
#include <immintrin.h>
#include <string.h>

#define MR CK_MR
#define NR CK_NR
#define KC CK_KC

int ck_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

size_t ck_packed_a_count(int m, int k) { return (size_t)((m + MR - 1) / MR) * MR * (size_t)k; }

// ap[block][p][kk][r] = a[p·6 + r][block·256 + kk]: by k block first, so that a pass, which takes the blocks one
// after another, reads the filters in order. Panel by panel, each block's panels lay k·24 bytes apart, a jump that the
// prefetchers do not follow: with filters from memory, as a network's are, ResNet-50's 1024→256 layer over 14×14
// (k = 1024) ran at 98 GFLOP/s on one core, 101 so (102 with the prefetch in `block`), against 106 with them in cache.
void ck_pack_a(const float *a, int m, int k, int lda, float *ap) { ck_pack_panels(a, m, k, lda, MR, ap); }

void ck_pack_panels(const float *a, int m, int k, int lda, int rows, float *ap) {
    int panels = (m + rows - 1) / rows;
    for (int k0 = 0; k0 < k; k0 += KC) {
        int kc = k - k0 < KC ? k - k0 : KC;
        for (int p = 0; p < panels; p++) {
            float *dst = ap + (size_t)k0 * panels * rows + (size_t)p * kc * rows;
            for (int r = 0; r < rows; r++) {
                int row = p * rows + r;
                const float *src = a + (size_t)row * lda + k0;
                for (int kk = 0; kk < kc; kk++) dst[kk * rows + r] = row < m ? src[kk] : 0.f;
            }
        }
    }
}

size_t ck_packed_b_count(int k, int n) { return (size_t)((n + NR - 1) / NR) * NR * (size_t)k; }

// bp[q][kk][j] = b[kk][q·16 + j]; four panels at a time, rows inner, so B is read in order within a block and
// the writes stay within a few pages. A full panel row is two vector moves (memcpy's call cost more than the copy).
// Four panels' write streams lie k·64 bytes apart; eight took 10–25% longer on one core (26.6 µs against 21.1 for
// 196 columns of k = 1024, 95.7 against 85.8 for 3,136 of k = 256), two 0–15% longer.
__attribute__((target("avx2,fma")))
void ck_pack_b(const float *b, int k, int n, int ldb, float *bp, int q0, int q1) {
    for (int qb = q0; qb < q1; qb += 4) {
        int qe = q1 - qb < 4 ? q1 : qb + 4;
        for (int kk = 0; kk < k; kk++) {
            const float *src = b + (size_t)kk * ldb;
            for (int q = qb; q < qe; q++) {
                float *dst = bp + ((size_t)q * k + kk) * NR;
                int c0 = q * NR, w = n - c0 < NR ? n - c0 : NR;
                if (w == NR) {
                    _mm256_storeu_ps(dst, _mm256_loadu_ps(src + c0));
                    _mm256_storeu_ps(dst + 8, _mm256_loadu_ps(src + c0 + 8));
                    continue;
                }
                for (int j = 0; j < NR; j++) dst[j] = j < w ? src[c0 + j] : 0.f;
            }
        }
    }
}

// One 6×16 tile: c (row stride ldc) = (first ? 0 : c) + Σ_kk a[kk][r]·b[kk][j]; on the last k block, + bias,
// + residual, act (bias and res already offset to the tile's first row, and res to its first column). Row kk of B is
// at b + kk·16 (packed), or at b + off[kk] (`ck_gemm_direct`); inlined, so each caller gets its own loop.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile(const float *a, const float *b, const int *off, int kc, float *c, int ldc, int first, int last,
                        const float *bias, const float *res, int act) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (first) {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    } else {
        c00 = _mm256_loadu_ps(c + 0 * ldc); c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
        c10 = _mm256_loadu_ps(c + 1 * ldc); c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
        c20 = _mm256_loadu_ps(c + 2 * ldc); c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
        c30 = _mm256_loadu_ps(c + 3 * ldc); c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
        c40 = _mm256_loadu_ps(c + 4 * ldc); c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
        c50 = _mm256_loadu_ps(c + 5 * ldc); c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
    }
    for (int kk = 0; kk < kc; kk++) {
        const float *bk = off ? b + off[kk] : b + (size_t)kk * NR;
        __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8), x;
        x = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
        a += MR;
    }
    if (last && (bias || res || act != CK_NONE)) {
        // max(0, x) and min(6, x) return x when x is NaN (the second operand), as Swift.max(x, 0) does.
        const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.f);
#define EPILOGUE(r, v0, v1) do { \
            if (bias) { __m256 bb = _mm256_broadcast_ss(bias + r); v0 = _mm256_add_ps(v0, bb); v1 = _mm256_add_ps(v1, bb); } \
            if (res) { v0 = _mm256_add_ps(v0, _mm256_loadu_ps(res + (size_t)r * ldc)); v1 = _mm256_add_ps(v1, _mm256_loadu_ps(res + (size_t)r * ldc + 8)); } \
            if (act != CK_NONE) { v0 = _mm256_max_ps(zero, v0); v1 = _mm256_max_ps(zero, v1); } \
            if (act == CK_RELU6) { v0 = _mm256_min_ps(six, v0); v1 = _mm256_min_ps(six, v1); } \
        } while (0)
        EPILOGUE(0, c00, c01); EPILOGUE(1, c10, c11); EPILOGUE(2, c20, c21);
        EPILOGUE(3, c30, c31); EPILOGUE(4, c40, c41); EPILOGUE(5, c50, c51);
#undef EPILOGUE
    }
    _mm256_storeu_ps(c + 0 * ldc, c00); _mm256_storeu_ps(c + 0 * ldc + 8, c01);
    _mm256_storeu_ps(c + 1 * ldc, c10); _mm256_storeu_ps(c + 1 * ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20); _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30); _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40); _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50); _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}

// A partial tile: the first `rows` rows and `cols` columns of a 6×16 tile, by the same multiply-adds as `tile`
// (so an element's value does not depend on where its tile falls), with masked loads and stores, and only the left
// eight columns computed when cols ≤ 8. B's rows as in `tile`.
__attribute__((target("avx2,fma"), always_inline))
static inline void edge(const float *a, const float *b, const int *off, int kc, float *c, int ldc, int first, int last,
                        const float *bias, const float *res, int act, int rows, int cols) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), lane);
    const int wide = cols > 8;
    __m256 lo[MR], hi[MR];
    for (int r = 0; r < MR; r++) {
        lo[r] = hi[r] = _mm256_setzero_ps();
        if (!first && r < rows) {
            lo[r] = _mm256_maskload_ps(c + (size_t)r * ldc, m0);
            if (wide) hi[r] = _mm256_maskload_ps(c + (size_t)r * ldc + 8, m1);
        }
    }
    if (wide) {
        for (int kk = 0; kk < kc; kk++, a += MR) {
            const float *bk = off ? b + off[kk] : b + (size_t)kk * NR;
            __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
            for (int r = 0; r < MR; r++) {
                __m256 x = _mm256_broadcast_ss(a + r);
                lo[r] = _mm256_fmadd_ps(x, b0, lo[r]);
                hi[r] = _mm256_fmadd_ps(x, b1, hi[r]);
            }
        }
    } else {
        for (int kk = 0; kk < kc; kk++, a += MR) {
            __m256 b0 = _mm256_loadu_ps(off ? b + off[kk] : b + (size_t)kk * NR);
            for (int r = 0; r < MR; r++) lo[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r), b0, lo[r]);
        }
    }
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.f);
    for (int r = 0; r < rows; r++) {
        __m256 v0 = lo[r], v1 = hi[r];
        if (last) {
            if (bias) { __m256 bb = _mm256_broadcast_ss(bias + r); v0 = _mm256_add_ps(v0, bb); v1 = _mm256_add_ps(v1, bb); }
            if (res) {
                v0 = _mm256_add_ps(v0, _mm256_maskload_ps(res + (size_t)r * ldc, m0));
                if (wide) v1 = _mm256_add_ps(v1, _mm256_maskload_ps(res + (size_t)r * ldc + 8, m1));
            }
            if (act != CK_NONE) { v0 = _mm256_max_ps(zero, v0); v1 = _mm256_max_ps(zero, v1); }
            if (act == CK_RELU6) { v0 = _mm256_min_ps(six, v0); v1 = _mm256_min_ps(six, v1); }
        }
        _mm256_maskstore_ps(c + (size_t)r * ldc, m0, v0);
        if (wide) _mm256_maskstore_ps(c + (size_t)r * ldc + 8, m1, v1);
    }
}

// Row panel p of packed A (ck_pack_a) in the k block that starts at k0 and is kc long.
static inline const float *a_panel(const float *ap, int m, int k0, int kc, int p) {
    return ap + (size_t)k0 * ((m + MR - 1) / MR) * MR + (size_t)p * kc * MR;
}

// Rows of A-panels [p0, p1) × columns of B-panels [qb, qe) over k block [k0, k0 + kc), B packed from panel qb on.
__attribute__((target("avx2,fma")))
static void block(const float *ap, const float *packed, int qb, int qe, int m, int n, int k, int k0, int kc, float *c,
                  int ldc, const ck_epilogue *e, int p0, int p1) {
    const float *bias = e->bias;
    int act = e->act;
    int first = k0 == 0, last = k0 + kc == k;
    for (int p = p0; p < p1; p++) {
        const float *a = a_panel(ap, m, k0, kc, p);
        int r0 = p * MR, rows = m - r0 < MR ? m - r0 : MR;
        const float *bi = bias ? bias + r0 : NULL;
        // The next panel of filters into L2 while this one's tiles run (kc · 6 floats, 6 KB at most): 98 → 102
        // GFLOP/s on the layer above, 102 → 105 on its 256→1024 one (k = 256), with the filters from memory.
        if (p + 1 < p1) {
            const char *next = (const char *)(a + (size_t)kc * MR);
            for (int l = 0; l < kc * MR * 4; l += 64) _mm_prefetch(next + l, _MM_HINT_T1);
        }
        for (int q = qb; q < qe; q++) {
            const float *bq = packed + ((size_t)(q - qb) * k + k0) * NR;
            int c0 = q * NR, cols = n - c0 < NR ? n - c0 : NR;
            float *cc = c + (size_t)r0 * ldc + c0;
            const float *rr = e->res ? e->res + (size_t)r0 * ldc + c0 : NULL;
            if (rows == MR && cols == NR) tile(a, bq, NULL, kc, cc, ldc, first, last, bi, rr, act);
            else edge(a, bq, NULL, kc, cc, ldc, first, last, bi, rr, act, rows, cols);
        }
    }
}

void ck_gemm(const float *ap, const float *b, int ldb, int m, int n, int k, float *c, int ldc,
             const ck_epilogue *e, int p0, int p1, int q0, int q1, float *packed) {
    for (int qb = q0; qb < q1; qb += CK_NCQ) {
        int qe = q1 - qb < CK_NCQ ? q1 : qb + CK_NCQ;
        // This block of B, packed while it is still in cache: panel q at packed + (q - qb)·k·16.
        ck_pack_b(b + (size_t)qb * NR, k, n - qb * NR, ldb, packed, 0, qe - qb);
        for (int k0 = 0; k0 < k; k0 += KC)
            block(ap, packed, qb, qe, m, n, k, k0, k - k0 < KC ? k - k0 : KC, c, ldc, e, p0, p1);
    }
}

void ck_gemm_packed(const float *ap, const float *bp, int m, int n, int k, float *c, int ldc,
                    const ck_epilogue *e, int p0, int p1) {
    int q1 = (n + NR - 1) / NR;
    for (int qb = 0; qb < q1; qb += CK_NCQ) {
        int qe = q1 - qb < CK_NCQ ? q1 : qb + CK_NCQ;
        for (int k0 = 0; k0 < k; k0 += KC)
            block(ap, bp + (size_t)qb * k * NR, qb, qe, m, n, k, k0, k - k0 < KC ? k - k0 : KC, c, ldc, e, p0, p1);
    }
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

// The split image's rows (hp) and row length (wp): every padded row and column that an output reads, the columns
// dealt into g->sw phases, plus 16 columns of zeros for the last panel of a row, which reads past the row's outputs.
static void split_size(const ck_window *g, int *hp, int *wp) {
    *hp = (g->ho - 1) * g->sh + (g->kh - 1) * g->dh + 1;
    *wp = ceil_div((g->wo - 1) * g->sw + (g->kw - 1) * g->dw + 1, g->sw) + NR;
}

size_t ck_split_count(const ck_window *g) {
    int hp, wp;
    split_size(g, &hp, &wp);
    return (size_t)g->c * hp * g->sw * wp;
}

int ck_split_rows(const ck_window *g) {
    int hp, wp;
    split_size(g, &hp, &wp);
    return g->c * hp;
}

void ck_split(const ck_window *g, const float *x, float *xs, int r0, int r1) {
    int hp, wp;
    split_size(g, &hp, &wp);
    for (int row = r0; row < r1; row++) {                       // row = channel · hp + padded row
        int ch = row / hp, y = row % hp - g->ph, inside = y >= 0 && y < g->h;
        const float *src = inside ? x + ((size_t)ch * g->h + y) * g->w : x;
        for (int ph = 0; ph < g->sw; ph++) {
            float *dst = xs + ((size_t)row * g->sw + ph) * wp;
            // Phase ph's column t is image column t · sw + ph − pw: inside the image for t in [t0, t1).
            int t0 = 0, t1 = 0;
            if (inside) {
                t0 = g->pw - ph > 0 ? ceil_div(g->pw - ph, g->sw) : 0;
                t1 = ceil_div(g->w + g->pw - ph, g->sw);
                if (t1 > wp) t1 = wp;
                if (t0 > t1) t0 = t1;
            }
            for (int t = 0; t < t0; t++) dst[t] = 0.f;
            if (t1 > t0) {
                const float *s = src + (t0 * g->sw + ph - g->pw);
                if (g->sw == 1) memcpy(dst + t0, s, (size_t)(t1 - t0) * sizeof(float));
                else for (int t = t0; t < t1; t++, s += g->sw) dst[t] = *s;
            }
            for (int t = t1; t < wp; t++) dst[t] = 0.f;
        }
    }
}

void ck_split_offsets(const ck_window *g, int *off) {
    int hp, wp;
    split_size(g, &hp, &wp);
    for (int ch = 0, t = 0; ch < g->c; ch++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++, t++)
                off[t] = ((ch * hp + i * g->dh) * g->sw + j * g->dw % g->sw) * wp + j * g->dw / g->sw;
}

__attribute__((target("avx2,fma")))
void ck_gemm_direct(const float *ap, const ck_window *g, const float *xs, const int *off, int m, float *c, int ldc,
                    const ck_epilogue *e, int oh0, int oh1) {
    int hp, wp;
    split_size(g, &hp, &wp);
    int k = g->c * g->kh * g->kw, panels = (m + MR - 1) / MR, row_step = g->sh * g->sw * wp;
    for (int oh = oh0; oh < oh1; oh++)
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = k - k0 < KC ? k - k0 : KC, first = k0 == 0, last = k0 + kc == k;
            for (int p = 0; p < panels; p++) {
                const float *a = a_panel(ap, m, k0, kc, p);
                int r0 = p * MR, rows = m - r0 < MR ? m - r0 : MR;
                const float *bias = e->bias ? e->bias + r0 : NULL;
                for (int ow = 0; ow < g->wo; ow += NR) {
                    const float *b = xs + (size_t)oh * row_step + ow;
                    int cols = g->wo - ow < NR ? g->wo - ow : NR;
                    size_t at = (size_t)r0 * ldc + (size_t)oh * g->wo + ow;
                    const float *res = e->res ? e->res + at : NULL;
                    if (rows == MR && cols == NR) tile(a, b, off + k0, kc, c + at, ldc, first, last, bias, res, e->act);
                    else edge(a, b, off + k0, kc, c + at, ldc, first, last, bias, res, e->act, rows, cols);
                }
            }
        }
}
