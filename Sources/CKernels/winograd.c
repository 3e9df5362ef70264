// Winograd's input and output transforms (see ckernels.h and Winograd.swift), eight channels at a time in clang's
// vector types, compiled twice, for AVX2 and for the x86-64 baseline, the loader picking one: written with Swift's
// SIMD8 they compiled to SSE pairs through memory, and took about 5% of a ResNet-50 forward. The arithmetic is the
// Swift code's, in the same order, and nothing is contracted into fused multiply-adds.
#include "ckernels.h"
#include "vectors.h"

#pragma clang fp contract(off)

typedef float v4 __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));

#define LOAD4(p) ({ v4 v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define STORE4(p, v) do { v4 s_ = (v); __builtin_memcpy((p), &s_, sizeof s_); } while (0)
#define LOW4(v) __builtin_shufflevector((v), (v), 0, 1, 2, 3)
#define HIGH4(v) __builtin_shufflevector((v), (v), 4, 5, 6, 7)

__attribute__((target_clones("avx2", "default")))
void ck_wino_input(const float *xt, const ck_tile_grid *g, int cp, int t0, int t1, float *v, size_t ps) {
    int th = g->th, tw = g->tw, wp = g->wp, mt = g->m;
    for (int tile = t0; tile < t1; tile++) {
        int img = tile / (th * tw), ty = tile / tw % th, tx = tile % tw;
        const float *origin = xt + ((size_t)(img * g->hp + mt * ty) * wp + mt * tx) * cp;
        for (int b = 0; b < cp / 8; b++) {
            float *out = v + (size_t)(tile - t0) * cp + 8 * b;
            if (mt == 2) {
                v8 d[16], t[16];
                for (int k = 0; k < 4; k++)
                    for (int j = 0; j < 4; j++) d[k * 4 + j] = LOAD8(origin + (size_t)(k * wp + j) * cp + 8 * b);
                for (int j = 0; j < 4; j++) {                               // t = Bᵀ d, column by column
                    v8 d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
                    t[j] = d0 - d2;
                    t[4 + j] = d1 + d2;
                    t[8 + j] = d2 - d1;
                    t[12 + j] = d1 - d3;
                }
                for (int i = 0; i < 4; i++) {                               // (Bᵀ d) B, row by row
                    v8 a0 = t[i * 4], a1 = t[i * 4 + 1], a2 = t[i * 4 + 2], a3 = t[i * 4 + 3];
                    float *row = out + (size_t)i * 4 * ps;
                    STORE8(row, a0 - a2);
                    STORE8(row + ps, a1 + a2);
                    STORE8(row + 2 * ps, a2 - a1);
                    STORE8(row + 3 * ps, a1 - a3);
                }
                continue;
            }
            v8 d[36], t[36];
            for (int k = 0; k < 6; k++)
                for (int j = 0; j < 6; j++) d[k * 6 + j] = LOAD8(origin + (size_t)(k * wp + j) * cp + 8 * b);
            for (int j = 0; j < 6; j++) {                                   // t = Bᵀ d, column by column
                v8 d0 = d[j], d1 = d[6 + j], d2 = d[12 + j], d3 = d[18 + j], d4 = d[24 + j], d5 = d[30 + j];
                t[j] = 4 * d0 - 5 * d2 + d4;
                t[6 + j] = -4 * d1 - 4 * d2 + d3 + d4;
                t[12 + j] = 4 * d1 - 4 * d2 - d3 + d4;
                t[18 + j] = -2 * d1 - d2 + 2 * d3 + d4;
                t[24 + j] = 2 * d1 - d2 - 2 * d3 + d4;
                t[30 + j] = 4 * d1 - 5 * d3 + d5;
            }
            for (int i = 0; i < 6; i++) {                                   // (Bᵀ d) B, row by row
                v8 a0 = t[i * 6], a1 = t[i * 6 + 1], a2 = t[i * 6 + 2], a3 = t[i * 6 + 3], a4 = t[i * 6 + 4], a5 = t[i * 6 + 5];
                float *row = out + (size_t)i * 6 * ps;
                STORE8(row, 4 * a0 - 5 * a2 + a4);
                STORE8(row + ps, -4 * a1 - 4 * a2 + a3 + a4);
                STORE8(row + 2 * ps, 4 * a1 - 4 * a2 - a3 + a4);
                STORE8(row + 3 * ps, -2 * a1 - a2 + 2 * a3 + a4);
                STORE8(row + 4 * ps, 2 * a1 - a2 - 2 * a3 + a4);
                STORE8(row + 5 * ps, 4 * a1 - 5 * a3 + a5);
            }
        }
    }
}

__attribute__((target_clones("avx2", "default")))
void ck_wino_output(const float *m, const ck_tile_grid *g, size_t ps, int o, int op, int t0, int t1, const float *bias,
                    const float *res, int act, float *y) {
    int th = g->th, tw = g->tw, ho = g->ho, wo = g->wo, mt = g->m;
    for (int tile = t0; tile < t1; tile++) {
        int img = tile / (th * tw), ty = tile / tw % th, tx = tile % tw;
        int rows = ho - mt * ty < mt ? ho - mt * ty : mt, cols = wo - mt * tx < mt ? wo - mt * tx : mt;
        for (int b = 0; b < op / 8; b++) {
            v8 bv = {0};
            if (bias)
                for (int l = 0; l < 8 && 8 * b + l < o; l++) bv[l] = bias[8 * b + l];
            const float *src = m + (size_t)(tile - t0) * op + 8 * b;
            v8 out[16];                                                     // the m×m tile, row-major
            if (mt == 2) {
                v8 s[16], t[8];
                for (int xi = 0; xi < 16; xi++) s[xi] = LOAD8(src + xi * ps);
                for (int j = 0; j < 4; j++) {                               // t = Aᵀ M, (2, 4)
                    v8 m0 = s[j], m1 = s[4 + j], m2 = s[8 + j], m3 = s[12 + j];
                    t[j] = m0 + m1 + m2;
                    t[4 + j] = m1 - m2 - m3;
                }
                for (int i = 0; i < 2; i++) {                               // (Aᵀ M) A
                    v8 a0 = t[i * 4], a1 = t[i * 4 + 1], a2 = t[i * 4 + 2], a3 = t[i * 4 + 3];
                    out[i * 2] = a0 + a1 + a2 + bv;
                    out[i * 2 + 1] = a1 - a2 - a3 + bv;
                }
            } else {
                v8 s[36], t[24];
                for (int xi = 0; xi < 36; xi++) s[xi] = LOAD8(src + xi * ps);
                for (int j = 0; j < 6; j++) {                               // t = Aᵀ M, (4, 6)
                    v8 m0 = s[j], m1 = s[6 + j], m2 = s[12 + j], m3 = s[18 + j], m4 = s[24 + j], m5 = s[30 + j];
                    t[j] = m0 + m1 + m2 + m3 + m4;
                    t[6 + j] = m1 - m2 + 2 * m3 - 2 * m4;
                    t[12 + j] = m1 + m2 + 4 * m3 + 4 * m4;
                    t[18 + j] = m1 - m2 + 8 * m3 - 8 * m4 + m5;
                }
                for (int i = 0; i < 4; i++) {                               // (Aᵀ M) A
                    v8 a0 = t[i * 6], a1 = t[i * 6 + 1], a2 = t[i * 6 + 2], a3 = t[i * 6 + 3], a4 = t[i * 6 + 4], a5 = t[i * 6 + 5];
                    out[i * 4] = a0 + a1 + a2 + a3 + a4 + bv;
                    out[i * 4 + 1] = a1 - a2 + 2 * a3 - 2 * a4 + bv;
                    out[i * 4 + 2] = a1 + a2 + 4 * a3 + 4 * a4 + bv;
                    out[i * 4 + 3] = a1 - a2 + 8 * a3 - 8 * a4 + a5 + bv;
                }
            }
            // Scattered channel by channel into (N, O, Ho, Wo), the residual added on the way, then the activation: a
            // whole F(4×4) tile of eight channels through two 8×8 transposes, a row of four at a time (the scalar
            // scatter took a third of this function's time); partial tiles and channel blocks one value at a time.
            if (mt == 4 && rows == 4 && cols == 4 && 8 * b + 8 <= o) {
                v8 r[8], q[8];
                for (int k = 0; k < 8; k++) { r[k] = out[k]; q[k] = out[8 + k]; }
                TRANSPOSE8(r);
                TRANSPOSE8(q);
                for (int l = 0; l < 8; l++) {
                    size_t at = ((size_t)(img * o + 8 * b + l) * ho + mt * ty) * wo + mt * tx;
                    v4 row[4] = {LOW4(r[l]), HIGH4(r[l]), LOW4(q[l]), HIGH4(q[l])};
                    for (int i = 0; i < 4; i++) {
                        v4 x = row[i];
                        if (res) x = x + LOAD4(res + at + (size_t)i * wo);
                        if (act != CK_NONE) x = (v4)((v4i)x & ~(v4i)(x < 0));          // NaN and −0 pass, as ck_act
                        if (act == CK_RELU6) x = (v4)(((v4i)x & ~(v4i)(x > 6)) | ((v4i)(v4){6, 6, 6, 6} & (v4i)(x > 6)));
                        STORE4(y + at + (size_t)i * wo, x);
                    }
                }
                continue;
            }
            for (int l = 0; l < 8 && 8 * b + l < o; l++) {
                size_t at = ((size_t)(img * o + 8 * b + l) * ho + mt * ty) * wo + mt * tx;
                float *plane = y + at;
                const float *shortcut = res ? res + at : 0;
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++) {
                        float x = out[i * mt + j][l];
                        if (shortcut) x = x + shortcut[i * wo + j];
                        plane[i * wo + j] = ck_act(x, act);
                    }
            }
        }
    }
}
