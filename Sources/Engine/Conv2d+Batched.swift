/// A batch of small images as one GEMM: the im2col matrices of all images side by side, (C·kH·kW, N·Ho·Wo), so
/// OpenBLAS gets one matrix wide enough to use every core instead of N thin ones (filter patterns, Score-CAM
/// chunks, batched embeddings).
extension Conv2d {
    /// Whether this pass on an (N, C, H, W) input runs as one GEMM over the batch: one group, several images whose
    /// own GEMMs are small (under 16 M multiply-adds), and a shared im2col matrix of at most 8 M values.
    func batchesIntoOneGEMM(_ n: Int, _ g: ConvGeometry) -> Bool {
        let plane = g.ho * g.wo
        return groups == 1 && n > 1 && outChannels * g.colRows * plane < 1 << 24
            && g.colRows * n * plane <= 1 << 23 && outChannels * n * plane <= 1 << 23
    }

    /// y (N, O, Ho, Wo) = W (O, K) · cols (K, N·Ho·Wo), then bias and activation, scattered back per image.
    func forwardBatched(_ x: UnsafePointer<Float>, _ g: ConvGeometry, n: Int, _ y: UnsafeMutablePointer<Float>) {
        let plane = g.ho * g.wo, k = g.colRows, wide = n * plane
        Workspace.shared.borrow(k * wide, slot: 0) { cols in                     // (K, N·Ho·Wo)
            Workspace.shared.borrow(outChannels * wide, slot: 1) { out in       // (O, N·Ho·Wo)
                parallelFor(n, work: k * wide) { i in                              // images write disjoint columns
                    let xi = x + i * inChannels * g.h * g.w
                    if isPointwise {
                        for c in 0 ..< inChannels { (cols + c * wide + i * plane).update(from: xi + c * plane, count: plane) }
                    } else {
                        Im2col.unfold(g, xi, cols + i * plane, ld: wide, parallel: false)
                    }
                }
                weight.data.withUnsafeBufferPointer { wp in
                    BLAS.gemm(m: outChannels, n: wide, k: k, a: wp.baseAddress!, lda: k, b: cols, ldb: wide, c: out, ldc: wide)
                }
                let bias = self.bias?.data ?? [Float](repeating: 0, count: outChannels)
                parallelFor(outChannels, work: outChannels * wide) { o in
                    let b = bias[o]
                    for i in 0 ..< n {
                        let src = out + o * wide + i * plane, dst = y + (i * outChannels + o) * plane
                        for j in 0 ..< plane { dst[j] = src[j] + b }
                        activation.apply(dst, plane)
                    }
                }
            }
        }
    }

    /// dx (N, C, H, W) from dy (N, O, Ho, Wo), gated by the activation through the output y while it is gathered:
    /// dcols (K, N·Ho·Wo) = Wᵀ · dY, folded per image.
    func backwardBatched(_ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: ConvGeometry, n: Int,
                         _ dx: UnsafeMutablePointer<Float>) {
        let plane = g.ho * g.wo, k = g.colRows, wide = n * plane
        Workspace.shared.borrow(outChannels * wide, slot: 0) { dyb in          // (O, N·Ho·Wo)
            Workspace.shared.borrow(k * wide, slot: 1) { dcols in               // (K, N·Ho·Wo)
                let act = activation
                parallelFor(n, work: outChannels * wide) { i in
                    for o in 0 ..< outChannels {
                        let at = (i * outChannels + o) * plane
                        act.gate(dy + at, y + at, dyb + o * wide + i * plane, plane)
                    }
                }
                weight.data.withUnsafeBufferPointer { wp in
                    BLAS.gemm(transA: true, m: k, n: wide, k: outChannels, a: wp.baseAddress!, lda: k, b: dyb, ldb: wide, c: dcols, ldc: wide)
                }
                parallelFor(n, work: k * wide) { i in                              // images write disjoint planes
                    let dxi = dx + i * inChannels * g.h * g.w
                    if isPointwise {
                        for c in 0 ..< inChannels { (dxi + c * plane).update(from: dcols + c * wide + i * plane, count: plane) }
                    } else {
                        Im2col.fold(g, dcols + i * plane, dxi, ld: wide, parallel: false)
                    }
                }
            }
        }
    }
}
