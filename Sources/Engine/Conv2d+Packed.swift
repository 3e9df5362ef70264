import CKernels

/// A convolution's forward GEMMs on the engine's own kernels (`PackedGEMM`): the filters packed when the weights
/// are set, the columns packed straight from the image (AVX-512) or read in place from a split copy of it.
extension Conv2d {
    /// Whether the GEMMs of this layer's forward pass run on the engine's kernel (`PackedGEMM`).
    var packs: Bool { !packed.values.isEmpty }
    /// Whether the forward pass reads its im2col matrix in place from a split copy of the input (`multiplyDirect`).
    var direct: Bool { !isPointwise && !isStridedPointwise && packed.kernel == .channelRows }

    /// y (O/G, Ho·Wo) of group `group` = act(its packed filters applied to x (C/G, H, W) + bias + residual), on the
    /// channel-row kernel with no column matrix (`ck_gemm_direct`): the image is copied once with its padding and
    /// its columns dealt into stride phases (720 KB for ResNet's stem), and the kernel reads each tap's 16 columns
    /// from there in place. ResNet-50's stem took 2.25 ms on one core so, against 2.45 with its columns packed from
    /// the image a block of output rows at a time, and 2.9 unfolded (7.4 MB for the whole column matrix).
    /// - Parameter split: output rows spread over the cores; false when the caller already runs images in parallel.
    func multiplyDirect(group: Int, _ x: UnsafePointer<Float>, _ g: ConvGeometry, _ y: UnsafeMutablePointer<Float>,
                        residual: UnsafePointer<Float>?, activation: Activation, split: Bool) {
        let k = g.colRows, plane = g.ho * g.wo
        withUnsafePointer(to: g.kernelWindow) { gp in
            let count = ck_split_count(gp), rows = Int(ck_split_rows(gp))
            let xs = UnsafeMutablePointer<Float>.allocate(capacity: count)     // (C/G · hp, sw, wp): the split copy
            defer { xs.deallocate() }
            let off = [Int32](unsafeUninitializedCapacity: k) { o, n in ck_split_offsets(gp, o.baseAddress!); n = k }   // (K)
            parallelChunks(rows, work: split ? count : 0) { r in ck_split(gp, x, xs, Int32(r.lowerBound), Int32(r.upperBound)) }
            packed.values.withUnsafeBufferPointer { ap in withBias(group: group) { bias in
                withUnsafePointer(to: ck_epilogue(bias: bias, res: residual, act: PackedGEMM.code(activation))) { e in
                    off.withUnsafeBufferPointer { o in
                        parallelChunks(g.ho, work: split ? og * k * plane : 0) { r in
                            ck_gemm_direct(ap.baseAddress! + group * packed.stride, gp, xs, o.baseAddress!, Int32(og), y, Int32(plane), e,
                                           Int32(r.lowerBound), Int32(r.upperBound))
                        }
                    }
                }
            } }
        }
    }

    /// `weight` packed for `PackedGEMM` if this layer's forward pass uses it, else nothing.
    func packedFilters() -> PackedGEMM.Filters {
        let k = cg * kernel.h * kernel.w
        // A strided pointwise layer multiplies its subsampled input as a pointwise one does: ResNet-50's 256→512
        // shortcut onto 28×28 took 2.18 ms on one core with the pixel-row kernel packing from the image at stride 2,
        // 1.87 ms copied out (0.05 ms) and multiplied on the channel-row one.
        let pointwise = isPointwise || isStridedPointwise
        return PackedGEMM.Filters(weight.data, groups: groups, m: og, k: k, kernel: isDepthwise ? .blas : PackedGEMM.kernel(pointwise: pointwise, k: k, m: og))
    }

    /// The pixel-row copy of a pointwise layer's filters for small planes, where this CPU runs that kernel.
    func lazyFilters() -> PackedGEMM.LazyFilters? {
        guard isPointwise || isStridedPointwise, !isDepthwise && PackedGEMM.wide && PackedGEMM.mode == "auto" else { return nil }
        return PackedGEMM.LazyFilters(weight.data, groups: groups, m: og, k: cg)
    }

    /// y (O/G, Ho·Wo) of group `group` = act(its packed filters applied to x (C/G, H, W) + bias + residual), on the
    /// pixel-row kernel, which packs its columns straight from the image.
    func multiplyPacked(group: Int, window g: ConvGeometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                        residual: UnsafePointer<Float>?, activation: Activation) {
        let w = g.kernelWindow
        packed.values.withUnsafeBufferPointer { ap in
            let a = ap.baseAddress! + group * packed.stride
            withBias(group: group) { b in
                PackedGEMM.multiply(a, window: w, x, m: og, y, ldc: g.ho * g.wo, bias: b, residual: residual, activation: activation, split: true)
            }
        }
    }

    /// y (O/G, plane) of group `group` = act(its packed filters · b (K, plane) + bias + residual).
    func multiplyPacked(group: Int, _ b: UnsafePointer<Float>, plane: Int, k: Int, _ y: UnsafeMutablePointer<Float>,
                        residual: UnsafePointer<Float>?, activation: Activation, split: Bool) {
        let filters = plane < PackedGEMM.smallPlane ? packedForSmallPlanes?.filters ?? packed : packed
        filters.values.withUnsafeBufferPointer { ap in
            let a = ap.baseAddress! + group * filters.stride
            withBias(group: group) { bias in
                PackedGEMM.multiply(a, kernel: filters.kernel, b, ldb: plane, m: og, n: plane, k: k, y, bias: bias,
                                    residual: residual, activation: activation, split: split)
            }
        }
    }

    /// Runs `body` with group `group`'s biases (O/G), or nil for a layer without a bias.
    func withBias(group: Int = 0, _ body: (UnsafePointer<Float>?) -> Void) {
        guard let bias else { return body(nil) }
        bias.data.withUnsafeBufferPointer { body($0.baseAddress! + group * og) }
    }
}
