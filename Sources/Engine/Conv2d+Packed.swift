import CKernels

/// A convolution's forward GEMMs on the engine's own kernels (`PackedGEMM`): the filters packed when the weights
/// are set, the columns packed straight from the image (AVX-512) or unfolded a block of output rows at a time (AVX2).
extension Conv2d {
    /// Whether the GEMMs of this layer's forward pass run on the engine's kernel (`PackedGEMM`).
    var packs: Bool { !packed.values.isEmpty }
    /// Whether the forward pass takes its input a block of output rows at a time (`multiplyByRowBlocks`).
    var byRowBlocks: Bool { !isPointwise && !isStridedPointwise && packed.kernel == .channelRows }

    /// y (O/G, Ho·Wo) of group `group` = act(its packed filters applied to x (C/G, H, W) + bias + residual), on the
    /// channel-row kernel a block of output rows at a time: each block's columns are unfolded into a buffer of about
    /// 256 KB that stays in the core's L2 cache while it is multiplied, where the whole column matrix (7.4 MB for
    /// ResNet's stem) would go out to memory and back.
    func multiplyByRowBlocks(group: Int, _ x: UnsafePointer<Float>, _ g: ConvGeometry, _ y: UnsafeMutablePointer<Float>,
                             residual: UnsafePointer<Float>?, activation: Activation, split: Bool) {
        let k = g.colRows, plane = g.ho * g.wo
        let rows = Swift.max(1, (1 << 16) / Swift.max(1, k * g.wo))            // output rows per block
        let blocks = (g.ho + rows - 1) / rows
        parallelChunks(blocks, work: split ? og * k * plane : 0) { range in
            // With AVX-512, each block's columns are packed for the kernel straight from the image; else unfolded,
            // then packed by the kernel: ResNet's stem took 1.34–1.36 ms on two cores, against 1.42–1.45 unfolded.
            let wide = PackedGEMM.wide
            let count = wide ? ck_packed_b_count(Int32(k), Int32(rows * g.wo)) : k * rows * g.wo
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: count)   // (K, rows·Wo), packed or not
            defer { cols.deallocate() }
            for block in range {
                let r = block * rows ..< Swift.min(g.ho, (block + 1) * rows)
                let at = r.lowerBound * g.wo
                if wide {
                    packed.values.withUnsafeBufferPointer { ap in withBias(group: group) { bias in
                        PackedGEMM.multiply(ap.baseAddress! + group * packed.stride, channelRowsOf: g.window(rows: r), x, m: og, y + at,
                                            ldc: plane, bias: bias, residual: residual.map { $0 + at }, activation: activation, scratch: cols)
                    } }
                    continue
                }
                Im2col.unfold(g, x, cols, rows: r, parallel: false)
                multiplyPacked(group: group, cols, plane: r.count * g.wo, k: k, y + at, ldc: plane, residual: residual.map { $0 + at },
                               activation: activation, split: false)
            }
        }
    }

    /// `weight` packed for `PackedGEMM` if this layer's forward pass uses it, else nothing.
    func packedFilters() -> PackedGEMM.Filters {
        let k = cg * kernel.h * kernel.w
        // A strided pointwise layer multiplies its subsampled input as a pointwise one does: ResNet-50's 256→512
        // shortcut onto 28×28 took 2.18 ms on one core with the pixel-row kernel packing from the image at stride 2,
        // 1.87 ms copied out (0.05 ms) and multiplied on the channel-row one.
        let pointwise = isPointwise || isStridedPointwise
        return PackedGEMM.Filters(weight.data, groups: groups, m: og, k: k, kernel: isDepthwise ? .blas : PackedGEMM.kernel(pointwise: pointwise, k: k))
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
        let w = g.window(rows: 0 ..< g.ho)
        packed.values.withUnsafeBufferPointer { ap in
            let a = ap.baseAddress! + group * packed.stride
            withBias(group: group) { b in
                PackedGEMM.multiply(a, window: w, x, m: og, y, ldc: g.ho * g.wo, bias: b, residual: residual, activation: activation, split: true)
            }
        }
    }

    /// y (O/G, plane) of group `group` = act(its packed filters · b (K, plane) + bias + residual).
    func multiplyPacked(group: Int, _ b: UnsafePointer<Float>, plane: Int, k: Int, _ y: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                        residual: UnsafePointer<Float>?, activation: Activation, split: Bool) {
        let filters = plane < PackedGEMM.smallPlane ? packedForSmallPlanes?.filters ?? packed : packed
        filters.values.withUnsafeBufferPointer { ap in
            let a = ap.baseAddress! + group * filters.stride
            withBias(group: group) { bias in
                PackedGEMM.multiply(a, kernel: filters.kernel, b, ldb: plane, m: og, n: plane, k: k, y, ldc: ldc, bias: bias,
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

extension ConvGeometry {
    /// The C kernels' window over output rows `rows` of this one: the same input, with the top padding moved so that
    /// row `rows.lowerBound` comes first.
    func window(rows: Range<Int>) -> ck_window {
        ck_window(c: Int32(c), h: Int32(h), w: Int32(w), kh: Int32(kh), kw: Int32(kw), sh: Int32(sh), sw: Int32(sw),
                  ph: Int32(ph - rows.lowerBound * sh), pw: Int32(pw), dh: Int32(dh), dw: Int32(dw), ho: Int32(rows.count), wo: Int32(wo))
    }
}
