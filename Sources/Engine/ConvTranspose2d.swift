/// 2-D transposed convolution, as PyTorch's ConvTranspose2d and ONNX's ConvTranspose: the adjoint (input gradient)
/// of a Conv2d with the same kernel, stride, padding, dilation and groups. Each input pixel scatters its kernel-sized
/// contribution into the output; `padding` crops the result on each side and `outputPadding` adds rows and columns
/// at the bottom and right, so Ho = (H − 1)·sh − top − bottom + dh·(kH − 1) + outputPadding.h + 1.
///
/// Forward: cols (O/G·kH·kW, H·W) = W_gᵀ · x_g per image and group, folded into y (col2im).
/// Backward: dX_g = W_g · unfold(dY); dW_g = x_g · unfold(dY)ᵀ; db = Σ dY.
public final class ConvTranspose2d: WeightedLayer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: (h: Int, w: Int)
    public let stride: (h: Int, w: Int)
    public let padding: Padding
    public let outputPadding: (h: Int, w: Int)
    public let dilation: (h: Int, w: Int)
    public let groups: Int
    /// Filters, (C, O/G, kH, kW): torch's layout, input channels first.
    public var weight: Tensor
    /// (O), or nil.
    public var bias: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding = .zero,
                outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "ConvTranspose2d: channels \(inChannels)→\(outChannels) do not divide into \(groups) groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = padding
        self.outputPadding = (outputPadding.0, outputPadding.1)
        self.dilation = (dilation.0, dilation.1)
        self.groups = groups
        weight = Tensor(zeros: [inChannels, outChannels / groups, kernel.0, kernel.1])
        self.bias = bias ? Tensor(zeros: [outChannels]) : nil
    }

    public var kind: String { "ConvTranspose2d" }
    public var summary: String {
        var s = "\(inChannels)→\(outChannels), \(kernel.h)x\(kernel.w)"
        if stride != (1, 1) { s += ", stride \(stride.h == stride.w ? "\(stride.h)" : "\(stride.h)x\(stride.w)")" }
        if padding != .zero { s += ", pad \(padding)" }
        if outputPadding != (0, 0) { s += ", output pad \(outputPadding.h)x\(outputPadding.w)" }
        if dilation != (1, 1) { s += ", dilation \(dilation.h)x\(dilation.w)" }
        if groups > 1 { s += ", groups \(groups)" }
        if bias == nil { s += ", no bias" }
        return s
    }

    var cg: Int { inChannels / groups }
    var og: Int { outChannels / groups }

    /// The output extent of one axis.
    func outSize(_ n: Int, _ k: Int, _ s: Int, _ d: Int, _ begin: Int, _ end: Int, _ extra: Int) -> Int {
        (n - 1) * s - begin - end + d * (k - 1) + extra + 1
    }

    /// The geometry of the Conv2d this layer is the adjoint of: it reads the output (O/G, Ho, Wo) and gives the
    /// input's (H, W), so col2im of it scatters into y and im2col of it gathers from dY.
    func adjointGeometry(_ shape: [Int]) -> ConvGeometry {
        let (h, w) = (shape[2], shape[3])
        return ConvGeometry(c: og, h: outSize(h, kernel.h, stride.h, dilation.h, padding.top, padding.bottom, outputPadding.h),
                            w: outSize(w, kernel.w, stride.w, dilation.w, padding.left, padding.right, outputPadding.w),
                            kh: kernel.h, kw: kernel.w, sh: stride.h, sw: stride.w, ph: padding.top, pw: padding.left,
                            dh: dilation.h, dw: dilation.w, ho: h, wo: w)
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4 && s[1] == inChannels, "ConvTranspose2d expects (N, \(inChannels), H, W) input, got \(s)")
        try checkWindow("ConvTranspose2d", kernel, stride, padding, dilation)
        try expect(outputPadding.h >= 0 && outputPadding.w >= 0 && outputPadding.h < Swift.max(stride.h, dilation.h)
                   && outputPadding.w < Swift.max(stride.w, dilation.w),
                   "ConvTranspose2d: output padding \(outputPadding.h)x\(outputPadding.w) must be below the stride or dilation")
        let g = adjointGeometry(s)
        try expect(g.h > 0 && g.w > 0, "ConvTranspose2d: padding \(padding) crops a \(s[2])x\(s[3]) input to nothing")
        return [s[0], outChannels, g.h, g.w]
    }

    public func macs(_ inputs: [[Int]], _ output: [Int]) -> Int {
        inputs[0][1] * inputs[0][2] * inputs[0][3] * og * kernel.h * kernel.w
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, H, W)
        let g = adjointGeometry(x.shape), n = x.shape[0]
        let plane = g.ho * g.wo, outPlane = g.h * g.w, k = g.colRows   // k = O/G·kH·kW
        y.prepare([n, outChannels, g.h, g.w], zero: true)   // (N, O, Ho, Wo)
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    Workspace.shared.borrow(k * plane) { cols in          // (O/G·kH·kW, H·W)
                        for i in 0 ..< n {
                            for gi in 0 ..< groups {
                                BLAS.gemm(transA: true, m: k, n: plane, k: cg, a: wp.baseAddress! + gi * cg * k, lda: k,
                                          b: xp.baseAddress! + (i * inChannels + gi * cg) * plane, ldb: plane, c: cols, ldc: plane)
                                Im2col.fold(g, cols, yp.baseAddress! + (i * outChannels + gi * og) * outPlane)
                            }
                            if let b = bias?.data {
                                for o in 0 ..< outChannels {
                                    let row = yp.baseAddress! + (i * outChannels + o) * outPlane
                                    for j in 0 ..< outPlane { row[j] += b[o] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        guard needed[0] else { return [nil] }
        let x = inputs[0]                                   // (N, C, H, W)
        let g = adjointGeometry(x.shape), n = x.shape[0]
        let plane = g.ho * g.wo, outPlane = g.h * g.w, k = g.colRows
        var dx = Tensor(uninitialized: x.shape)             // (N, C, H, W)
        dy.data.withUnsafeBufferPointer { dyp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    Workspace.shared.borrow(k * plane) { cols in          // (O/G·kH·kW, H·W)
                        for i in 0 ..< n {
                            for gi in 0 ..< groups {
                                Im2col.unfold(g, dyp.baseAddress! + (i * outChannels + gi * og) * outPlane, cols)
                                BLAS.gemm(m: cg, n: plane, k: k, a: wp.baseAddress! + gi * cg * k, lda: k, b: cols, ldb: plane,
                                          c: dxp.baseAddress! + (i * inChannels + gi * cg) * plane, ldc: plane)
                            }
                        }
                    }
                }
            }
        }
        return [dx]
    }

    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor] {
        let x = inputs[0]                                   // (N, C, H, W)
        let g = adjointGeometry(x.shape), n = x.shape[0]
        let plane = g.ho * g.wo, outPlane = g.h * g.w, k = g.colRows
        var dw = Tensor(zeros: weight.shape)                // (C, O/G, kH, kW)
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dyp in
                dw.data.withUnsafeMutableBufferPointer { dwp in
                    Workspace.shared.borrow(k * plane) { cols in          // (O/G·kH·kW, H·W)
                        for i in 0 ..< n {
                            for gi in 0 ..< groups {
                                Im2col.unfold(g, dyp.baseAddress! + (i * outChannels + gi * og) * outPlane, cols)
                                BLAS.gemm(transB: true, m: cg, n: k, k: plane, a: xp.baseAddress! + (i * inChannels + gi * cg) * plane,
                                          lda: plane, b: cols, ldb: plane, beta: 1, c: dwp.baseAddress! + gi * cg * k, ldc: k)
                            }
                        }
                    }
                }
            }
        }
        var grads = ["weight": dw]
        if bias != nil {
            var db = Tensor(zeros: [outChannels])           // (O)
            for i in 0 ..< n * outChannels {
                var s: Float = 0
                for j in 0 ..< outPlane { s += dy.data[i * outPlane + j] }
                db.data[i % outChannels] += s
            }
            grads["bias"] = db
        }
        return grads
    }
}
