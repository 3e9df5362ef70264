/// 2-D convolution (cross-correlation, as PyTorch defines it) with stride, padding, dilation and groups,
/// an optional bias, and an optional residual sum and activation fused into its epilogue.
///
/// Forward: Winograd F(4×4, 3×3), or F(2×2, 3×3) on small planes, for 3×3 stride-1 layers with enough tiles; else a
/// GEMM per image and group of the filters and the im2col columns, on the engine's own kernels where the CPU has them
/// (Conv2d+Packed.swift) or OpenBLAS; a 1×1 stride-1 convolution multiplies its input directly; a depthwise
/// convolution (one input channel per group) runs a direct loop.
/// Backward: dX = col2im(Wᵀ · dY); dW = dY · colsᵀ; db = Σ dY.
public final class Conv2d: WeightedLayer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: (h: Int, w: Int)
    public let stride: (h: Int, w: Int)
    /// Padding on each side; the zoo's is symmetric, imported models' may not be (TensorFlow's SAME at stride 2).
    public let padding: Padding
    public let dilation: (h: Int, w: Int)
    public let groups: Int
    /// Filters, (O, C/G, kH, kW).
    public var weight: Tensor {
        didSet {
            winograd = WinogradFilters(weight.data, o: outChannels, c: inChannels)
            packed = packedFilters()
            packedForSmallPlanes = lazyFilters()
        }
    }
    /// Per-output-channel offsets, (O), or nil.
    public var bias: Tensor?
    /// How the forward and input-gradient passes compute: `.auto` picks Winograd for 3×3 stride-1 convolutions with
    /// enough tiles (`winogradTile`), im2col + sgemm otherwise; `.winograd` and `.winograd2` force F(4×4, 3×3) and
    /// F(2×2, 3×3).
    public var algorithm: Algorithm = .auto
    public enum Algorithm: Sendable { case auto, im2col, winograd, winograd2 }
    /// The Winograd-transformed filters of `weight`, made once on first use; replaced whenever `weight` is set.
    private var winograd: WinogradFilters
    /// `weight` packed for the engine's GEMM kernel (empty where it is not in use), made whenever `weight` is set.
    var packed: PackedGEMM.Filters
    /// A pointwise layer's `weight` packed for the pixel-row kernel, for small planes, made on first use; replaced
    /// whenever `weight` is set; nil where that kernel is not in use.
    var packedForSmallPlanes: PackedGEMM.LazyFilters?
    /// An activation applied in the epilogue; the backward gates dY with it first.
    public var activation: Activation = .none
    /// A residual sum fused into the epilogue (by `Graph.fused`): the layer then takes a second input r, of the
    /// output's shape, and computes act(conv(x) + bias + r), adding in that order as the separate layers would.
    public var residual = false

    /// Creates a convolution with zero weights (load them afterwards).
    /// - Parameters:
    ///   - inChannels: C. outChannels: O.
    ///   - kernel, stride, padding, dilation: square sizes; use the tuple initialiser for rectangular ones.
    ///   - groups: G; C and O must both divide by it.
    ///   - bias: whether the layer has a bias.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                            dilation: Int = 1, groups: Int = 1, bias: Bool = true) {
        self.init(inChannels, outChannels, kernel: (kernel, kernel), stride: (stride, stride),
                  padding: (padding, padding), dilation: (dilation, dilation), groups: groups, bias: bias)
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                            dilation: (Int, Int), groups: Int, bias: Bool) {
        self.init(inChannels, outChannels, kernel: kernel, stride: stride, padding: Padding(padding.0, padding.1),
                  dilation: dilation, groups: groups, bias: bias)
    }

    /// Creates a convolution with any padding on each side.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int), padding: Padding,
                dilation: (Int, Int), groups: Int, bias: Bool) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: channels \(inChannels)→\(outChannels) do not divide into \(groups) groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = (h: kernel.0, w: kernel.1)
        self.stride = (h: stride.0, w: stride.1)
        self.padding = padding
        self.dilation = (h: dilation.0, w: dilation.1)
        self.groups = groups
        let weight = Tensor(zeros: [outChannels, inChannels / groups, kernel.0, kernel.1])
        self.weight = weight
        self.winograd = WinogradFilters(weight.data, o: outChannels, c: inChannels)
        self.packed = PackedGEMM.Filters([], groups: groups, m: 0, k: 0, kernel: .blas)
        self.bias = bias ? Tensor(zeros: [outChannels]) : nil
        self.packed = packedFilters()
        self.packedForSmallPlanes = lazyFilters()
    }

    public var kind: String { "Conv2d" }
    public var summary: String {
        var s = "\(inChannels)→\(outChannels), \(kernel.h)x\(kernel.w)"
        if stride != (1, 1) { s += ", stride \(stride.h == stride.w ? "\(stride.h)" : "\(stride.h)x\(stride.w)")" }
        if padding != .zero { s += ", pad \(padding)" }
        if dilation != (1, 1) { s += ", dilation \(dilation.h)" }
        if groups > 1 { s += ", groups \(groups)" }
        if bias == nil { s += ", no bias" }
        if residual { s += ", +residual" }
        if activation != .none { s += ", +\(activation.rawValue)" }
        return s
    }

    /// Channels per group on each side.
    var cg: Int { inChannels / groups }
    var og: Int { outChannels / groups }
    /// One input channel and one output channel per group: run the direct depthwise loop.
    var isDepthwise: Bool { groups > 1 && cg == 1 && og == 1 }
    /// A 1×1, stride-1, unpadded kernel: the input is already the im2col matrix.
    var isPointwise: Bool { kernel == (1, 1) && stride == (1, 1) && padding == .zero }
    /// A 1×1, unpadded kernel with a stride (ResNet's downsampling shortcuts): its im2col matrix is the input taken
    /// every stride pixels, a pointwise input once that is copied out.
    var isStridedPointwise: Bool { kernel == (1, 1) && stride != (1, 1) && padding == .zero }

    /// The output tile m of the Winograd F(m×m, 3×3) this pass on an (N, C, H, W) input runs through, 4 or 2, or nil
    /// for im2col. Winograd takes 3×3, stride 1, no dilation, one group, padding up to 2 (so the input gradient,
    /// padded 2 − p, qualifies too), and enough output tiles and input channels for its GEMMs to beat one im2col GEMM.
    /// - Parameter backward: whether the pass is the input gradient's (`shape` is then dY's).
    func winogradTile(_ shape: [Int], padding p: Int, backward: Bool = false) -> Int? {
        switch algorithm {
        case .im2col: return nil
        case .winograd, .winograd2, .auto:
            guard kernel == (3, 3), stride == (1, 1), dilation == (1, 1), groups == 1, padding.isUniform, p <= 2 else { return nil }
            if algorithm != .auto { return algorithm == .winograd ? 4 : 2 }
            // Measured with `convlens bench --algorithms`: Winograd wins from 32 tiles with 32 channels, and from 16
            // tiles with 128; im2col wins on fewer tiles (ResNet's 7x7 layer4 at batch 1) and on thin inputs. Since the
            // 36 GEMMs run side by side, Winograd also wins alone on 16 tiles with 48–64 channels (1.25x) and on 4 tiles
            // with 128 (1.47x), but whole SqueezeNet and ResNet-18 passes showed no difference above the noise: kept.
            let (_, _, th, tw) = Winograd.grid(shape[2], shape[3], p)
            let (tiles, c) = (shape[0] * th * tw, shape[1])
            // Under 32 tiles of 4×4 and from 128 channels, F(2×2, 3×3): its filters are 16/36 the size, which is what
            // such passes wait on. ResNet-50's 14×14 layers at batch 1 (16 tiles of 4×4, 49 of 2×2), five of them:
            // 4.08–4.34 → 3.92–4.07 ms (eight interleaved `bench --profile` pairs, one die). Not in the forward of
            // VGG16's 512-channel 14×14 layers (three: 8.28–8.49 ms on F(4×4), 8.48–8.70 on F(2×2), four pairs), nor
            // of ResNet's 7×7 512-channel ones (4 and 16 tiles: 2.35–2.49 ms for two layers on im2col, 2.38–2.61 on
            // F(2×2), whose filters would take 16.8 MB per layer). Their input gradients take it: ResNet-50's 7×7
            // layers 3.89–4.04 → 2.42–2.53 ms; VGG16's 14×14 ones the same either way.
            let (_, _, th2, tw2) = Winograd.grid(shape[2], shape[3], p, m: 2)
            if c >= 128 && tiles < 32 && shape[0] * th2 * tw2 >= 16 && (backward || tiles >= 16 && c <= 256) { return 2 }
            return c >= 32 && (tiles >= 32 || tiles >= 16 && c >= 128) ? 4 : nil
        }
    }

    /// The per-image geometry for an input of `shape` (N, C, H, W), for one group's channels.
    func geometry(_ shape: [Int]) -> ConvGeometry {
        .window(shape, c: cg, kernel: (kernel.h, kernel.w), stride: (stride.h, stride.w), padding: padding,
                dilation: (dilation.h, dilation.w), ceil: false)
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4 && s[1] == inChannels,
                   "Conv2d expects (N, \(inChannels), H, W) input, got \(s)")
        try checkWindow("Conv2d", kernel, stride, padding, dilation)
        let g = geometry(s)
        try expect(g.ho > 0 && g.wo > 0, "Conv2d: input \(s[2])x\(s[3]) is smaller than its \(kernel.h)x\(kernel.w) kernel")
        let out = [s[0], outChannels, g.ho, g.wo]
        if residual {
            try expect(inputs.count == 2 && (try? Broadcast.outputShape([out, inputs[1]], kind, arity: 2 ... 2)) == out,
                       "Conv2d: its fused residual \(inputs.dropFirst().first ?? []) does not add to its output \(out)")
        }
        return out
    }

    public func macs(_ inputs: [[Int]], _ output: [Int]) -> Int {
        output[1] * output[2] * output[3] * cg * kernel.h * kernel.w
    }


    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, H, W)
        guard residual else { return convolve(x, &y, residual: nil, activation: activation) }
        let r = inputs[1]                                   // (N, O, Ho, Wo), or one that broadcasts to it
        let g = geometry(x.shape)
        if r.shape == [x.shape[0], outChannels, g.ho, g.wo] && !isDepthwise {
            r.data.withUnsafeBufferPointer { convolve(x, &y, residual: $0.baseAddress!, activation: activation) }
            return
        }
        var z = Tensor(zeros: [0])                          // (N, O, Ho, Wo): the sum done apart, as the layers were
        convolve(x, &z, residual: nil, activation: .none)
        Add(activation: activation).forward([z, r], &y)
    }

    /// y (N, O, Ho, Wo) = act(conv(x) + bias + residual), the residual (laid out as y) optional.
    private func convolve(_ x: Tensor, _ y: inout Tensor, residual rb: UnsafePointer<Float>?, activation act: Activation) {
        let g = geometry(x.shape)
        let n = x.shape[0]
        y.prepare([n, outChannels, g.ho, g.wo])             // (N, O, Ho, Wo)
        if isDepthwise {
            Depthwise.forward(g, x: x, weight: weight, bias: bias, activation: act, y: &y)
            return
        }
        if let tile = winogradTile(x.shape, padding: padding.top) {
            let (_, _, th, tw) = Winograd.grid(g.h, g.w, padding.top, m: tile)
            let u = winograd.filters(backward: false, packed: Winograd.packs(tiles: n * th * tw, c: inChannels, o: outChannels, tile: tile), tile: tile)   // (P, Op, Cp)
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    u.values.withUnsafeBufferPointer { up in
                        let (xb, yb, ub) = (xp.baseAddress!, yp.baseAddress!, up.baseAddress!)
                        let (c, o, p) = (inChannels, outChannels, padding.top)
                        withBias { b in
                            Winograd.convolve(xb, n: n, c: c, h: g.h, w: g.w, pad: p, u: ub, uStride: u.stride, o: o, bias: b, residual: rb,
                                              activation: act, y: yb, tile: tile)
                        }
                    }
                }
            }
            return
        }
        if runsImageByImage(n, g) {
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in forwardBatched(xp.baseAddress!, g, n: n, yp.baseAddress!, residual: rb, activation: act) }
            }
            return
        }
        let plane = g.ho * g.wo, k = g.colRows
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    // (C/G·kH·kW, Ho·Wo): for OpenBLAS, and for the subsampled input of a strided pointwise layer
                    Workspace.shared.borrow(isPointwise || packs && !isStridedPointwise ? 0 : k * plane) { cols in
                        for i in 0 ..< n {
                            for gi in 0 ..< groups {
                                let xg = xp.baseAddress! + (i * inChannels + gi * cg) * g.h * g.w
                                let at = (i * outChannels + gi * og) * plane
                                let (yg, rg) = (yp.baseAddress! + at, rb.map { $0 + at })
                                var b = UnsafePointer(xg)
                                if direct {
                                    multiplyDirect(group: gi, xg, g, yg, residual: rg, activation: act, split: true)
                                    continue
                                }
                                if packed.kernel == .pixelRows {
                                    multiplyPacked(group: gi, window: g, xg, yg, residual: rg, activation: act)
                                    continue
                                }
                                if !isPointwise {
                                    Im2col.unfold(g, xg, cols)
                                    b = UnsafePointer(cols)
                                }
                                if packs {
                                    multiplyPacked(group: gi, b, plane: plane, k: k, yg, residual: rg, activation: act, split: true)
                                    continue
                                }
                                BLAS.gemm(m: og, n: plane, k: k, a: wp.baseAddress! + gi * og * k, lda: k,
                                          b: b, ldb: plane, c: yg, ldc: plane)
                            }
                            if !packs {
                                let at = i * outChannels * plane
                                epilogue(yp.baseAddress! + at, plane, residual: rb.map { $0 + at }, activation: act)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the bias and the residual and applies the activation to one image's output (O, Ho·Wo), one pass per
    /// channel, on all cores unless `parallel` is false.
    func epilogue(_ y: UnsafeMutablePointer<Float>, _ plane: Int, residual: UnsafePointer<Float>?, activation act: Activation,
                  parallel: Bool = true) {
        if bias == nil && residual == nil && act == .none { return }
        let bias = self.bias?.data
        parallelFor(outChannels, work: parallel ? outChannels * plane : 0) { o in
            let row = y + o * plane
            if let b = bias?[o] { for j in 0 ..< plane { row[j] += b } }
            if let r = residual.map({ $0 + o * plane }) { for j in 0 ..< plane { row[j] += r[j] } }
            act.apply(row, plane)
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dyIn: Tensor, needed: [Bool]) -> [Tensor?] {
        guard residual else { return [needed[0] ? inputGradient(inputs[0], y, dyIn, activation: activation) : nil] }
        let dy = activation.gate(dyIn, y)                   // (N, O, Ho, Wo): the sum's gradient, which both terms get
        return [needed[0] ? inputGradient(inputs[0], y, dy, activation: .none) : nil,
                needed[1] ? Broadcast.sum(dy, to: inputs[1].shape) : nil]
    }

    /// dx (N, C, H, W) from dy (N, O, Ho, Wo), gated by `act` through the output y first.
    private func inputGradient(_ x: Tensor, _ y: Tensor, _ dyIn: Tensor, activation act: Activation) -> Tensor {
        let g = geometry(x.shape)
        let n = x.shape[0]
        let tile = isDepthwise || !padding.isUniform ? nil : winogradTile(dyIn.shape, padding: 2 - padding.top, backward: true)
        let winograd = tile != nil
        let batched = !isDepthwise && !winograd && runsImageByImage(n, g)
        // (N, C, H, W): zeroed only where the pass accumulates into it (col2im, depthwise).
        let overwrites = !isDepthwise && (isPointwise || winograd)
        var dx = overwrites ? Tensor(uninitialized: x.shape) : Tensor(zeros: x.shape)
        if batched {                                        // gates dy with the activation while gathering it
            dyIn.data.withUnsafeBufferPointer { dyp in
                y.data.withUnsafeBufferPointer { yp in
                    dx.data.withUnsafeMutableBufferPointer { dxp in
                        backwardBatched(dyp.baseAddress!, yp.baseAddress!, g, n: n, dxp.baseAddress!, activation: act)
                    }
                }
            }
            return dx
        }
        let dy = act.gate(dyIn, y)                          // (N, O, Ho, Wo)
        if isDepthwise {
            Depthwise.backwardInput(g, dy: dy, weight: weight, dx: &dx)
            return dx
        }
        // dX is the 3x3 convolution of dY with the flipped, transposed filters and padding 2 − p.
        if let tile {
            let (_, _, th, tw) = Winograd.grid(g.ho, g.wo, 2 - padding.top, m: tile)
            let u = self.winograd.filters(backward: true, packed: Winograd.packs(tiles: n * th * tw, c: outChannels, o: inChannels, tile: tile), tile: tile)   // (P, Cp, Op)
            dy.data.withUnsafeBufferPointer { dyp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    u.values.withUnsafeBufferPointer { up in
                        Winograd.convolve(dyp.baseAddress!, n: n, c: outChannels, h: g.ho, w: g.wo, pad: 2 - padding.top, u: up.baseAddress!,
                                          uStride: u.stride,
                                          o: inChannels, bias: nil, activation: .none, y: dxp.baseAddress!, tile: tile)
                    }
                }
            }
            return dx
        }
        let plane = g.ho * g.wo, k = g.colRows
        dy.data.withUnsafeBufferPointer { dyp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    Workspace.shared.borrow(isPointwise ? 0 : k * plane) { dc in     // (C/G·kH·kW, Ho·Wo)
                        for i in 0 ..< n {
                            for gi in 0 ..< groups {
                                let dyg = dyp.baseAddress! + (i * outChannels + gi * og) * plane
                                let dxg = dxp.baseAddress! + (i * inChannels + gi * cg) * g.h * g.w
                                let target = isPointwise ? dxg : dc
                                BLAS.gemm(transA: true, m: k, n: plane, k: og, a: wp.baseAddress! + gi * og * k, lda: k,
                                          b: dyg, ldb: plane, c: target, ldc: plane)
                                if !isPointwise { Im2col.fold(g, dc, dxg) }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dyIn: Tensor) -> [String: Tensor] {
        let x = inputs[0]                                   // (N, C, H, W)
        let dy = activation.gate(dyIn, y)                   // (N, O, Ho, Wo)
        let g = geometry(x.shape)
        let n = x.shape[0], plane = g.ho * g.wo, k = g.colRows
        var dw = Tensor(zeros: weight.shape)                // (O, C/G, kH, kW)
        var db = Tensor(zeros: [outChannels])               // (O)
        if isDepthwise {
            Depthwise.backwardWeight(g, x: x, dy: dy, dw: &dw)
        } else {
            x.data.withUnsafeBufferPointer { xp in
                dy.data.withUnsafeBufferPointer { dyp in
                    dw.data.withUnsafeMutableBufferPointer { dwp in
                        Workspace.shared.borrow(isPointwise ? 0 : k * plane) { cp in   // (C/G·kH·kW, Ho·Wo)
                            for i in 0 ..< n {
                                for gi in 0 ..< groups {
                                    let xg = xp.baseAddress! + (i * inChannels + gi * cg) * g.h * g.w
                                    var b = xg
                                    if !isPointwise { Im2col.unfold(g, xg, cp); b = UnsafePointer(cp) }
                                    BLAS.gemm(transB: true, m: og, n: k, k: plane,
                                              a: dyp.baseAddress! + (i * outChannels + gi * og) * plane, lda: plane,
                                              b: b, ldb: plane, beta: 1, c: dwp.baseAddress! + gi * og * k, ldc: k)
                                }
                            }
                        }
                    }
                }
            }
        }
        var grads = ["weight": dw]
        if bias != nil {
            for i in 0 ..< n {
                for o in 0 ..< outChannels {
                    var s: Float = 0
                    let base = (i * outChannels + o) * plane
                    for j in 0 ..< plane { s += dy.data[base + j] }
                    db.data[o] += s
                }
            }
            grads["bias"] = db
        }
        return grads
    }
}
