// Eight-float vectors for the kernels written in clang's vector types and compiled twice, for AVX2 and for the x86-64
// baseline (`target_clones`), an 8×8 transpose for those that turn channels-last tiles into planes or back, and the
// epilogues' activation for one value. Private to CKernels (not in include/, so Swift never sees it).
#ifndef CKERNELS_VECTORS_H
#define CKERNELS_VECTORS_H

#include "ckernels.h"

/// act(x) for one value, as the kernels' vector epilogues apply it: max(x, 0), then min(x, 6) for ReLU6. NaN fails
/// both tests and passes through, as Swift.max(x, 0) lets it.
static inline float ck_act(float x, int act) {
    if (act != CK_NONE && x < 0.f) x = 0.f;
    if (act == CK_RELU6 && x > 6.f) x = 6.f;
    return x;
}

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

// Macros rather than functions: a function passing v8 by value would change the ABI in the baseline clone.
#define LOAD8(p) ({ v8 v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define STORE8(p, v) do { v8 s_ = (v); __builtin_memcpy((p), &s_, sizeof s_); } while (0)

/// r[0..8), eight vectors of eight floats (clang's vector types or __m256), becomes its transpose: r[j][i] = r[i][j].
/// The unpack, shuffle and lane-swap steps of the usual AVX sequence, as shuffles any target can compile.
#define TRANSPOSE8(r) do { \
    __typeof__((r)[0]) t_[8], s_[8]; \
    for (int i_ = 0; i_ < 8; i_ += 2) { \
        t_[i_] = __builtin_shufflevector((r)[i_], (r)[i_ + 1], 0, 8, 1, 9, 4, 12, 5, 13); \
        t_[i_ + 1] = __builtin_shufflevector((r)[i_], (r)[i_ + 1], 2, 10, 3, 11, 6, 14, 7, 15); \
    } \
    for (int i_ = 0; i_ < 8; i_ += 4) { \
        s_[i_] = __builtin_shufflevector(t_[i_], t_[i_ + 2], 0, 1, 8, 9, 4, 5, 12, 13); \
        s_[i_ + 1] = __builtin_shufflevector(t_[i_], t_[i_ + 2], 2, 3, 10, 11, 6, 7, 14, 15); \
        s_[i_ + 2] = __builtin_shufflevector(t_[i_ + 1], t_[i_ + 3], 0, 1, 8, 9, 4, 5, 12, 13); \
        s_[i_ + 3] = __builtin_shufflevector(t_[i_ + 1], t_[i_ + 3], 2, 3, 10, 11, 6, 7, 14, 15); \
    } \
    for (int i_ = 0; i_ < 4; i_++) { \
        (r)[i_] = __builtin_shufflevector(s_[i_], s_[i_ + 4], 0, 1, 2, 3, 8, 9, 10, 11); \
        (r)[i_ + 4] = __builtin_shufflevector(s_[i_], s_[i_ + 4], 4, 5, 6, 7, 12, 13, 14, 15); \
    } \
} while (0)

#endif
