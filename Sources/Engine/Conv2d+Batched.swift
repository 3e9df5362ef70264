/// A batch of small images, one image at a time per core: each image's GEMM runs single-threaded on the core that
/// unfolded it, while its columns and output are still in that core's cache (filter patterns, Score-CAM chunks,
/// batched embeddings). Splitting each small image's GEMM over the cores instead would spend more on waking threads
/// than on work; one GEMM over the whole batch's columns side by side made an extra pass over a batch-sized output.
extension Conv2d {
    /// Whether this pass on an (N, C, H, W) input runs image by image on the cores: one group, several images whose
    /// own GEMMs are small (under 16 M multiply-adds).
    func runsImageByImage(_ n: Int, _ g: ConvGeometry) -> Bool {
        groups == 1 && n > 1 && outChannels * g.colRows * g.ho * g.wo < 1 << 24
    }

    /// y (N, O, Ho, Wo) = W (O, K) · cols (K, Ho·Wo) per image, then the bias, the residual (if any) and `act`.
    func forwardBatched(_ x: UnsafePointer<Float>, _ g: ConvGeometry, n: Int, _ y: UnsafeMutablePointer<Float>,
                        residual: UnsafePointer<Float>?, activation act: Activation) {
        let plane = g.ho * g.wo, k = g.colRows
        weight.data.withUnsafeBufferPointer { wp in
            let w = wp.baseAddress!
            parallelChunks(n, work: n * outChannels * k * plane) { images in
                Workspace.shared.borrow(isPointwise || direct ? 0 : k * plane, slot: 0) { cols in   // (K, Ho·Wo)
                    for i in images {
                        let xi = x + i * inChannels * g.h * g.w, yi = y + i * outChannels * plane
                        let ri = residual.map { $0 + i * outChannels * plane }
                        if direct {
                            multiplyDirect(group: 0, xi, g, yi, residual: ri, activation: act, split: false)
                            continue
                        }
                        if !isPointwise { Im2col.unfold(g, xi, cols, parallel: false) }
                        if packs {
                            multiplyPacked(group: 0, isPointwise ? xi : UnsafePointer(cols), plane: plane, k: k, yi, residual: ri,
                                           activation: act, split: false)
                            continue
                        }
                        BLAS.gemm(m: outChannels, n: plane, k: k, a: w, lda: k, b: isPointwise ? xi : UnsafePointer(cols),
                                  ldb: plane, c: yi, ldc: plane, split: false)
                        epilogue(yi, plane, residual: ri, activation: act, parallel: false)
                    }
                }
            }
        }
    }

    /// dx (N, C, H, W) from dy (N, O, Ho, Wo), per image: dY gated by `act` through the output y, then
    /// dcols (K, Ho·Wo) = Wᵀ · dY, folded. dx must be zeroed unless the convolution is pointwise.
    func backwardBatched(_ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: ConvGeometry, n: Int,
                         _ dx: UnsafeMutablePointer<Float>, activation act: Activation) {
        let plane = g.ho * g.wo, k = g.colRows
        weight.data.withUnsafeBufferPointer { wp in
            let w = wp.baseAddress!
            parallelChunks(n, work: n * outChannels * k * plane) { images in
                Workspace.shared.borrow(act == .none ? 0 : outChannels * plane, slot: 0) { gated in   // (O, Ho·Wo)
                    Workspace.shared.borrow(isPointwise ? 0 : k * plane, slot: 1) { dcols in       // (K, Ho·Wo)
                        for i in images {
                            let at = i * outChannels * plane, dxi = dx + i * inChannels * g.h * g.w
                            if act != .none { act.gate(dy + at, y + at, gated, outChannels * plane) }
                            BLAS.gemm(transA: true, m: k, n: plane, k: outChannels, a: w, lda: k,
                                      b: act == .none ? dy + at : UnsafePointer(gated), ldb: plane,
                                      c: isPointwise ? dxi : dcols, ldc: plane, split: false)
                            if !isPointwise { Im2col.fold(g, dcols, dxi, parallel: false) }
                        }
                    }
                }
            }
        }
    }
}
