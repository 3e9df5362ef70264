#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>

/// The engine's own single-precision GEMM for convolutions: C (m, n) = A (m, k) · B (k, n), with A a layer's filters
/// packed once when its weights are set and B packed per pass, and the bias and activation applied as each tile of C
/// is stored. Each element of C is one chain of fused multiply-adds over k in order, whatever the tile, the split
/// over threads or the position of its column, so results do not depend on how the work is cut.

/// Rows of A per packed panel, columns of B per packed panel, and the k block that packed A is laid out in.
enum { CK_MR = 6, CK_NR = 16, CK_KC = 256 };

/// Activations the store applies: none, max(x, 0), min(max(x, 0), 6). NaN passes through as Swift's max/min do.
enum { CK_NONE = 0, CK_RELU = 1, CK_RELU6 = 2 };

/// What the store does to each element of C: act((c + bias[row]) + res[row][column]), with bias and res optional
/// (NULL) and res laid out as C is (the same row stride): a convolution's bias, a residual sum fused into it (the
/// two additions in this order, rounding as the separate layers would), and its activation.
typedef struct { const float *bias; const float *res; int act; } ck_epilogue;

/// Whether this CPU has AVX2 and FMA; the other functions must not be called otherwise.
int ck_available(void);

/// Floats that a packed A (m, k) takes: ceil(m / 6) panels of 6 × k, zero-padded, stored by blocks of 256 k.
size_t ck_packed_a_count(int m, int k);
/// Packs row-major A (m, k), row stride lda, into ap.
void ck_pack_a(const float *a, int m, int k, int lda, float *ap);

/// Packs row-major A (m, k), row stride lda, into panels of `rows` rows, zero-padded, in k blocks of CK_KC:
/// ap[block][p][kk][r] = a[p·rows + r][block·CK_KC + kk]. ck_pack_a (6 rows) and ck_pack_a16 (16) call it.
void ck_pack_panels(const float *a, int m, int k, int lda, int rows, float *ap);

/// Floats that a packed B (k, n) takes: ceil(n / 16) panels of k × 16, zero-padded.
size_t ck_packed_b_count(int k, int n);
/// Packs column panels [q0, q1) of row-major B (k, n), row stride ldb, into bp (the whole packed B's base).
void ck_pack_b(const float *b, int k, int n, int ldb, float *bp, int q0, int q1);

/// Columns of B that `ck_gemm` packs and uses at a time: 32 panels of 16.
enum { CK_NCQ = 32 };

/// C rows of A-panels [p0, p1) × columns of B-panels [q0, q1) (clipped to m and n) = A · B, then the epilogue e.
/// B is row-major (k, n) with row stride ldb, packed here a block of CK_NCQ panels at a time into `packed`
/// (ck_packed_b_count(k, CK_NCQ · 16) floats, one per thread); c has row stride ldc.
void ck_gemm(const float *ap, const float *b, int ldb, int m, int n, int k, float *c, int ldc,
             const ck_epilogue *e, int p0, int p1, int q0, int q1, float *packed);

/// As ck_gemm over all columns, for rows of A-panels [p0, p1), with the whole of B already packed by ck_pack_b.
void ck_gemm_packed(const float *ap, const float *bp, int m, int n, int k, float *c, int ldc,
                    const ck_epilogue *e, int p0, int p1);

/// The AVX-512 kernel for im2col convolutions: C (o, n) = W (o, k) · B (k, n), computed as 7 pixels (columns of B)
/// by 32 channels (rows of W) at a time and written back transposed. Each element is the same chain of fused
/// multiply-adds over k in order as in ck_gemm, then the same epilogue, so the two kernels agree bit for bit.
enum { CK_PR = 7, CK_QR = 32 };

/// Whether this CPU has AVX-512F and AVX-512VL; the functions below must not be called otherwise.
int ck_available512(void);
/// Floats that packed filters W (o, k) take: ceil(o / 32) panels of k × 32, zero-padded.
size_t ck_packed_w_count(int o, int k);
/// Packs row-major W (o, k) into wp.
void ck_pack_w(const float *w, int o, int k, float *wp);
/// A convolution window over one image (C, H, W) and its output (Ho, Wo), as the engine's ConvGeometry: kernel,
/// stride, padding at the top and left, dilation. Its im2col matrix B is (C·kH·kW, Ho·Wo); a plain row-major matrix
/// (k, n) is the window c = k, h = 1, w = n, with 1×1 kernel, stride and dilation and no padding.
typedef struct { int c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo; } ck_window;

/// Floats that packed columns B (k, n) take: ceil(n / 7) panels of k × 7, zero-padded, and 16 of slack.
size_t ck_packed_p_count(int n, int k);
/// Packs pixel panels [p0, p1) of the im2col matrix of image x under window g into ap (panel p0 first).
void ck_pack_p(const ck_window *g, const float *x, float *ap, int p0, int p1);
/// Floats of the per-thread scratch that ck_gemm_p needs.
size_t ck_gemm_p_scratch(int k);
/// C channel panels [q0, q1) × pixel panels [p0, p1) = W · B then the epilogue e, with B the im2col matrix of x under
/// g, packed here in chunks into `scratch` (ck_gemm_p_scratch(k) floats, one per thread); c has row stride ldc.
void ck_gemm_p(const float *wp, const ck_window *g, const float *x, int o, float *c, int ldc, const ck_epilogue *e,
               int q0, int q1, int p0, int p1, float *scratch);
/// Floats of the accumulators that ck_gemm_p_packed needs (16 pixel panels × 7 × 32).
size_t ck_gemm_p_acc_count(void);
/// As ck_gemm_p over every pixel panel, with the whole of B already packed by ck_pack_p; acc holds
/// ck_gemm_p_acc_count() floats.
void ck_gemm_p_packed(const float *wp, const float *ap, int o, int n, int k, float *c, int ldc, const ck_epilogue *e,
                      int q0, int q1, float *acc);

// Direct convolution on the channel-row tile, for layers whose im2col columns would be long against their height
// (ResNet's stem: 147 rows of 12,544 pixels, 7.4 MB): the image is copied once into a zero-padded "split" layout,
// each row's columns dealt into sw phases, so that the im2col row of tap (channel, i, j) for 16 outputs of one output
// row is 16 consecutive floats at xs + oh · sh · sw · wp + ow + off[tap]. The kernel reads B there in place: the
// same multiply-adds in the same order as ck_gemm on the im2col matrix, so the results agree bit for bit.

/// Floats of the split copy of an image (C, H, W) under g.
size_t ck_split_count(const ck_window *g);
/// Rows of the split copy: C · hp, with hp the padded rows that the outputs read.
int ck_split_rows(const ck_window *g);
/// Writes rows [r0, r1) of the split copy of image x, zeros where they fall outside the image.
void ck_split(const ck_window *g, const float *x, float *xs, int r0, int r1);
/// off[tap] (C · kH · kW of them, in im2col order) for ck_gemm_direct.
void ck_split_offsets(const ck_window *g, int *off);
/// C (m, Ho·Wo), row stride ldc, output rows [oh0, oh1) = A (packed by ck_pack_a for k = C·kH·kW) · the im2col
/// matrix of the image whose split copy is xs, then the epilogue e.
void ck_gemm_direct(const float *ap, const ck_window *g, const float *xs, const int *off, int m, float *c, int ldc,
                    const ck_epilogue *e, int oh0, int oh1);

// The AVX-512 kernel for pointwise convolutions with k ≥ m or k ≥ 256 (gemm_pointwise.c): 16 rows × 16 columns per
// tile, B read in place, a last partial panel of columns 16 rows × its own width. Each element is the same chain of
// fused multiply-adds over k in order as in ck_gemm, then the same epilogue, so the two agree bit for bit.

/// Floats that packed A (m, k) takes: ceil(m / 16) panels, zero-padded, in k blocks of CK_KC.
size_t ck_packed_a16_count(int m, int k);
/// Packs row-major A (m, k) into ap.
void ck_pack_a16(const float *a, int m, int k, float *ap);
/// C rows of A-panels [p0, p1) × columns of 16-column panels [q0, q1) (clipped to m and n) = A · B, then the
/// epilogue e; B is row-major (k, n) with row stride ldb, c has row stride ldc.
void ck_gemm_pw(const float *ap, const float *b, int ldb, int m, int n, int k, float *c, int ldc,
                const ck_epilogue *e, int p0, int p1, int q0, int q1);

/// C (m, n) = A · B on AVX-512, with A row-major (m, k), row stride lda, read in place, and the whole of B packed by
/// ck_pack_b; no epilogue. Each element is the sum of four chains of fused multiply-adds, over k ≡ 0, 1, 2, 3 mod 4,
/// added as (0 + 1) + (2 + 3). For Winograd's 36 GEMMs, whose filters are packed once and whose tiles are used once.
void ck_gemm_rows(const float *a, int lda, const float *bp, int m, int n, int k, float *c, int ldc);

/// One depthwise-convolution output plane dst (ho, wo) = act(bias + Σ_t w[t] · pad[oh · row_step + off[t] + ow]),
/// from a zero-padded input plane laid out as Conv2d+Depthwise.swift's Plane does. Loads may read up to seven
/// values past a row's last output, into the plane's slack, as the Swift loop did.
void ck_depthwise_plane(const float *pad, int row_step, const int *off, int kk, const float *w, float bias,
                        float *dst, int ho, int wo, int act);

/// Floats of the scratch row that ck_max_plane needs.
size_t ck_max_scratch(const ck_window *g);
/// dst (ho, wo) = the maximum of each window of the plane src (h, w) under g (undilated; the padding counts as −∞),
/// with `row` as scratch; returns nonzero, dst then unspecified, when any value it read is NaN, for the caller's
/// exact loop. Per output row: the maximum over the window's rows eight columns at a time, then over each window's
/// columns, eight windows at a time at stride 1 or 2.
int ck_max_plane(const ck_window *g, const float *src, float *dst, float *row);

/// Where a Winograd pass's tiles lie: output tiles m×m (m = 4 or 2) on a th×tw grid per image, over the
/// channels-last input padded to hp×wp and an ho×wo output.
typedef struct { int m, hp, wp, th, tw, ho, wo; } ck_tile_grid;

/// Winograd's input transform: v[ξ · ps + (t − t0) · cp + c] = (Bᵀ d B)[ξ] for the (m+2)×(m+2) patch d of each tile t
/// in [t0, t1) of the channels-last input xt (N, hp, wp, cp), cp a multiple of 8.
void ck_wino_input(const float *xt, const ck_tile_grid *g, int cp, int t0, int t1, float *v, size_t ps);

/// Winograd's output transform: y (N, O, ho, wo) = act(Aᵀ M A + bias (+ res, laid out as y)) where each tile t in
/// [t0, t1) lies inside the output, M[ξ] read at m[ξ · ps + (t − t0) · op + o], op a multiple of 8; bias and res
/// optional (NULL).
void ck_wino_output(const float *m, const ck_tile_grid *g, size_t ps, int o, int op, int t0, int t1, const float *bias,
                    const float *res, int act, float *y);

/// Rows [r0, r1) of xt (N · hp rows of wp × cp) = the images x (N, C, H, W) channels last, at offset (p, p) in a
/// zero border, their channels padded with zeros to cp ≥ C: Winograd's input (Winograd.swift).
void ck_channels_last(const float *x, int c, int h, int w, int p, int hp, int wp, int cp, int r0, int r1, float *xt);

/// One iteration of a parallel loop: body(context, i).
typedef void (*ck_body)(void *context, long i);

/// Runs body(context, i) for i in 0..<count on the calling thread and up to `workers` pool threads (started on first
/// use, spinning briefly between jobs), and returns 1 when done; returns 0 without running anything when the pool is
/// in use (a nested loop, or another thread's), count < 2 or count ≥ 2³¹, and the caller runs the loop itself.
/// Thread t of T (the caller is 0) starts on the t-th of T equal contiguous shares of 0..<count, in order, and when
/// its own is done takes the others' from their ends: with the work cut the same way, a core works on the same part
/// of the data from loop to loop, and a core held up by another process has the rest of its share taken over.
int ck_parallel(long count, ck_body body, void *context, int workers);
/// The number of the calling thread in the ck_parallel job it is running an iteration of: 0 for the job's caller,
/// 1 to `workers` for the pool's threads, each at most one thread at a time; -1 on any other thread (libdispatch's,
/// when the pool was busy). For per-thread scratch that outlives one iteration.
int ck_thread_index(void);

#endif
