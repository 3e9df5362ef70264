import Engine
import TensorIO

/// The ONNX ops that carry weights or window geometry, built as the same engine layers the zoo uses (Conv2d with
/// its fused epilogue and Winograd, the pools, Linear), so an imported ResNet runs the built-in one's code.
extension ONNXImport.Builder {
    typealias Arg = (name: String, value: Value)

    /// The 2-D window attributes of Conv, ConvTranspose and the pools: kernel, strides, dilations and pads, with
    /// auto_pad SAME_UPPER / SAME_LOWER / VALID resolved against the input's size.
    func window(_ n: ONNXNode, input: [Int], kernel: [Int]) throws -> (kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int), padding: Padding) {
        guard input.count == 4, kernel.count == 2 else {
            throw error("only 2-D windows over (N, C, H, W) are supported (input \(input), kernel \(kernel))")
        }
        let strides = n.ints("strides") ?? [1, 1], dilations = n.ints("dilations") ?? [1, 1]
        guard strides.count == 2, dilations.count == 2, strides.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }),
              dilations.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }), kernel.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
            throw error("bad kernel \(kernel), strides \(strides) or dilations \(dilations)")
        }
        var padding = Padding.zero
        switch n.string("auto_pad", "NOTSET") {
        case "NOTSET":
            let p = n.ints("pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else { throw error("bad pads \(p)") }
            padding = Padding(top: p[0], left: p[1], bottom: p[2], right: p[3])
        case "VALID":
            break
        case let mode where mode == "SAME_UPPER" || mode == "SAME_LOWER":
            let h = Padding.same(input[2], kernel: kernel[0], stride: strides[0], dilation: dilations[0], lower: mode == "SAME_LOWER")
            let w = Padding.same(input[3], kernel: kernel[1], stride: strides[1], dilation: dilations[1], lower: mode == "SAME_LOWER")
            padding = Padding(top: h.0, left: w.0, bottom: h.1, right: w.1)
        case let mode:
            throw error("auto_pad '\(mode)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
        }
        return ((kernel[0], kernel[1]), (strides[0], strides[1]), (dilations[0], dilations[1]), padding)
    }

    /// Conv: weight (O, C/G, kH, kW) and bias (O) known at import.
    mutating func conv(_ n: ONNXNode, _ x: Arg) throws -> Value {
        let w = try known(n, 1, "weight"), b = try knownIfPresent(n, 2, "bias")
        guard w.shape.count == 4 else { throw error("only 2-D convolutions are supported (weight \(w.shape))") }
        let groups = n.int("group", 1), cin = x.value.shape.count > 1 ? x.value.shape[1] : 0, o = w.shape[0]
        guard groups >= 1, cin == w.shape[1] * groups, o % groups == 0 else {
            throw error("weight \(w.shape) with \(groups) groups does not fit an input of \(cin) channels")
        }
        guard b == nil || b!.count == o else { throw error("bias has \(b!.count) values for \(o) filters") }
        let win = try window(n, input: x.value.shape, kernel: n.ints("kernel_shape") ?? Array(w.shape[2...]))
        guard win.kernel == (w.shape[2], w.shape[3]) else { throw error("kernel_shape disagrees with the weight \(w.shape)") }
        let layer = Conv2d(cin, o, kernel: win.kernel, stride: win.stride, padding: win.padding, dilation: win.dilation,
                           groups: groups, bias: b != nil)
        layer.weight = w.tensor
        layer.bias = b.map { Tensor(shape: [o], data: $0.floats) }
        return try emit(layer, [x])
    }

    /// ConvTranspose: weight (C, O/G, kH, kW); output_shape, when given, sets the padding as ONNX defines it.
    mutating func convTranspose(_ n: ONNXNode, _ x: Arg) throws -> Value {
        let w = try known(n, 1, "weight"), b = try knownIfPresent(n, 2, "bias")
        guard w.shape.count == 4 else { throw error("only 2-D transposed convolutions are supported (weight \(w.shape))") }
        let groups = n.int("group", 1), s = x.value.shape, cin = s.count > 1 ? s[1] : 0, o = w.shape[1] * groups
        guard groups >= 1, cin == w.shape[0], cin % groups == 0 else { throw error("weight \(w.shape) does not fit \(cin) channels") }
        guard b == nil || b!.count == o else { throw error("bias has \(b!.count) values for \(o) channels") }
        var win = try window(n, input: s, kernel: n.ints("kernel_shape") ?? Array(w.shape[2...]))
        var extra = n.ints("output_padding") ?? [0, 0]
        guard extra.count == 2 else { throw error("bad output_padding \(extra)") }
        if let shape = n.ints("output_shape") {
            // ONNX: total padding = stride·(in − 1) + output_padding + ((k − 1)·d + 1) − out, split SAME_UPPER-style.
            let out = Array(shape.suffix(2))
            guard out.count == 2 else { throw error("bad output_shape \(shape)") }
            var pads = [(Int, Int)]()
            for a in 0 ..< 2 {
                let k = a == 0 ? win.kernel.0 : win.kernel.1, st = a == 0 ? win.stride.0 : win.stride.1, d = a == 0 ? win.dilation.0 : win.dilation.1
                let total = st * (s[2 + a] - 1) + extra[a] + (k - 1) * d + 1 - out[a]
                if total < 0 { extra[a] -= total; pads.append((0, 0)) } else {
                    pads.append(n.string("auto_pad", "NOTSET") == "SAME_LOWER" ? (total - total / 2, total / 2) : (total / 2, total - total / 2))
                }
            }
            win.padding = Padding(top: pads[0].0, left: pads[1].0, bottom: pads[0].1, right: pads[1].1)
        } else if n.string("auto_pad", "NOTSET").hasPrefix("SAME") {
            // Output = input·stride; the padding that gives it.
            var pads = [(Int, Int)]()
            for a in 0 ..< 2 {
                let k = a == 0 ? win.kernel.0 : win.kernel.1, st = a == 0 ? win.stride.0 : win.stride.1, d = a == 0 ? win.dilation.0 : win.dilation.1
                let total = Swift.max(0, st * (s[2 + a] - 1) + extra[a] + (k - 1) * d + 1 - s[2 + a] * st)
                pads.append(n.string("auto_pad", "NOTSET") == "SAME_LOWER" ? (total - total / 2, total / 2) : (total / 2, total - total / 2))
            }
            win.padding = Padding(top: pads[0].0, left: pads[1].0, bottom: pads[0].1, right: pads[1].1)
        }
        let layer = ConvTranspose2d(cin, o, kernel: win.kernel, stride: win.stride, padding: win.padding,
                                    outputPadding: (extra[0], extra[1]), dilation: win.dilation, groups: groups, bias: b != nil)
        layer.weight = w.tensor
        layer.bias = b.map { Tensor(shape: [o], data: $0.floats) }
        return try emit(layer, [x])
    }

    /// MaxPool and AveragePool over (N, C, H, W).
    mutating func pool(_ n: ONNXNode, _ x: Arg) throws -> Value {
        guard let k = n.ints("kernel_shape") else { throw error("kernel_shape is missing") }
        let win = try window(n, input: x.value.shape, kernel: k), ceil = n.int("ceil_mode", 0) != 0
        if n.opType == "MaxPool" {
            guard n.int("storage_order", 0) == 0 else { throw error("column-major storage_order is not supported") }
            return try emit(MaxPool2d(kernel: win.kernel, stride: win.stride, padding: win.padding, dilation: win.dilation, ceilMode: ceil), [x])
        }
        guard win.dilation == (1, 1) else { throw error("dilated average pooling is not supported") }
        return try emit(AvgPool2d(kernel: win.kernel, stride: win.stride, padding: win.padding, ceilMode: ceil,
                                  countIncludePad: n.int("count_include_pad", 0) != 0), [x])
    }

    /// Gemm as a Linear layer when B and C are known (torch's nn.Linear exports Gemm with transB = 1):
    /// y = alpha·A·op(B) + beta·C.
    mutating func gemm(_ n: ONNXNode, _ a: Arg) throws -> Value {
        guard a.value.shape.count == 2, n.int("transA", 0) == 0 else {
            throw error("Gemm on a transposed or non-2-D computed input is not supported yet")
        }
        var w = try known(n, 1, "weight"), c = try knownIfPresent(n, 2, "bias")
        let alpha = n.float("alpha", 1), beta = n.float("beta", 1)
        guard w.shape.count == 2 else { throw error("weight shape \(w.shape) is not 2-D") }
        if n.int("transB", 0) == 0 {                                 // (in, out) → (out, in)
            let (r, k) = (w.shape[0], w.shape[1])
            w = Folded(shape: [k, r], floats: (0 ..< k * r).map { w.floats[($0 % r) * k + $0 / r] })
        }
        let (out, inp) = (w.shape[0], w.shape[1])
        guard inp == a.value.shape[1] else { throw error("weight \(w.shape) does not fit input \(a.value.shape)") }
        let layer = Linear(inp, out, bias: c != nil)
        layer.weight = Tensor(shape: [out, inp], data: alpha == 1 ? w.floats : w.floats.map { $0 * alpha })
        if let cv = c {
            guard cv.count == out || cv.count == 1 else { throw error("bias of \(cv.count) values for \(out) outputs") }
            layer.bias = Tensor(shape: [out], data: (0 ..< out).map { beta * cv.floats[cv.count == 1 ? 0 : $0] })
        }
        return try emit(layer, [a])
    }
}
