import Engine
import TensorIO

/// The layers that carry kernels, and the layout changes of channels-last to channels-first: convolutions (HWIO →
/// OIHW), Dense (rows reordered after a Flatten), Flatten and Reshape.
extension KerasImport.Builder {
    /// Conv2D, DepthwiseConv2D, SeparableConv2D and Conv2DTranspose, with their activation after them.
    mutating func convolution(_ layer: KerasLayer, _ v: KerasValue, name: String,
                              params: ([(String, [Int])]) throws -> [Tensor]) throws -> KerasValue {
        let c = layer.config, cls = layer.className
        guard v.shape.count == 4 else { throw error("needs a 4-D input, not \(v.shape)") }
        let cin = v.shape[1], k = try pair(c["kernel_size"], "kernel_size"), s = try pair(c["strides"] ?? .number(1), "strides")
        let d = try pair(c["dilation_rate"] ?? .number(1), "dilation_rate"), bias = c["use_bias"]?.bool ?? true
        let act = c["activation"] ?? .string("linear"), linear = act.string == "linear"
        let out = linear ? name : name + ".preact"
        let mode = (c["padding"]?.string ?? "valid").lowercased()
        let filters = c["filters"]?.int ?? 0, groups = c["groups"]?.int ?? 1, dm = c["depth_multiplier"]?.int ?? 1
        guard (1 ... 1 << 20).contains(dm), cls == "DepthwiseConv2D" || (1 ... 1 << 20).contains(filters) else {
            throw error("bad filters \(filters) or depth_multiplier \(dm)")
        }
        let conv: KerasValue
        switch cls {
        case "Conv2D":
            guard groups >= 1, cin % groups == 0, filters % groups == 0 else { throw error("\(groups) groups do not divide \(cin) → \(filters) channels") }
            let p = try params([("kernel", [k.0, k.1, cin / groups, filters])] + (bias ? [("bias", [filters])] : []))
            let layer = Conv2d(cin, filters, kernel: k, stride: s, padding: try padding(mode, v, kernel: k, stride: s, dilation: d),
                               dilation: d, groups: groups, bias: bias)
            layer.weight = hwioToOIHW(p[0], [k.0, k.1, cin / groups, filters])
            if bias { layer.bias = p[1] }
            conv = try emit(out, layer, [v])
        case "DepthwiseConv2D":
            let p = try params([("depthwise_kernel", [k.0, k.1, cin, dm])] + (bias ? [("bias", [cin * dm])] : []))
            conv = try emit(out, try depthwise(p[0], cin: cin, dm: dm, k: k, s: s, d: d, mode: mode, v, bias: bias ? p[1] : nil), [v])
        case "SeparableConv2D":
            let p = try params([("depthwise_kernel", [k.0, k.1, cin, dm]), ("pointwise_kernel", [1, 1, cin * dm, filters])]
                + (bias ? [("bias", [filters])] : []))
            let dw = try emit(name + ".depthwise", try depthwise(p[0], cin: cin, dm: dm, k: k, s: s, d: d, mode: mode, v, bias: nil), [v])
            let pw = Conv2d(cin * dm, filters, kernel: (1, 1), stride: (1, 1), padding: .zero,
                               dilation: (1, 1), groups: 1, bias: bias)
            pw.weight = hwioToOIHW(p[1], [1, 1, cin * dm, filters])
            if bias { pw.bias = p[2] }
            conv = try emit(out, pw, [dw])
        default:                                                     // Conv2DTranspose: kernel (kh, kw, out, in)
            let p = try params([("kernel", [k.0, k.1, filters, cin])] + (bias ? [("bias", [filters])] : []))
            let extra = c["output_padding"].flatMap { $0.isNull ? nil : $0.ints }
            var pads = [Padding.zero, .zero], opad = [0, 0]
            for a in 0 ..< 2 {
                let (size, kk, st, dd) = (v.shape[2 + a], a == 0 ? k.0 : k.1, a == 0 ? s.0 : s.1, a == 0 ? d.0 : d.1)
                let span = (kk - 1) * dd + 1
                // TensorFlow's deconv_output_length, then the crop of the full (size − 1)·stride + span that gives it.
                let length: Int
                if let e = extra, e.count >= 1 {
                    length = (size - 1) * st + span - 2 * (mode == "same" ? span / 2 : 0) + e[min(a, e.count - 1)]
                } else {
                    length = mode == "same" ? size * st : size * st + max(span - st, 0)
                }
                let total = (size - 1) * st + span - length
                if total >= 0 { pads[a] = Padding(top: total / 2, left: 0, bottom: total - total / 2, right: 0) } else { opad[a] = -total }
            }
            let layer = ConvTranspose2d(cin, filters, kernel: k, stride: s,
                                        padding: Padding(top: pads[0].top, left: pads[1].top, bottom: pads[0].bottom, right: pads[1].bottom),
                                        outputPadding: (opad[0], opad[1]), dilation: d, groups: 1, bias: bias)
            // (kh, kw, O, I) → (I, O, kh, kw)
            let w = p[0]                                             // (kh, kw, O, I)
            layer.weight = Tensor(shape: [cin, filters, k.0, k.1], data: (0 ..< cin * filters * k.0 * k.1).map { idx in
                let (i, o, y, x) = (idx / (filters * k.0 * k.1), idx / (k.0 * k.1) % filters, idx / k.1 % k.0, idx % k.1)
                return w.data[((y * k.1 + x) * filters + o) * cin + i]
            })
            if bias { layer.bias = p[1] }
            conv = try emit(out, layer, [v])
        }
        return linear ? conv : try activation(act, conv, name: name)
    }

    /// A depthwise convolution: kernel (kh, kw, C, M) as a grouped Conv2d with C·M outputs, output c·M + m.
    func depthwise(_ w: Tensor, cin: Int, dm: Int, k: (Int, Int), s: (Int, Int), d: (Int, Int), mode: String, _ v: KerasValue,
                   bias: Tensor?) throws -> Conv2d {
        let layer = Conv2d(cin, cin * dm, kernel: k, stride: s, padding: try padding(mode, v, kernel: k, stride: s, dilation: d),
                           dilation: d, groups: cin, bias: bias != nil)
        layer.weight = hwioToOIHW(w, [k.0, k.1, 1, cin * dm])           // (kh, kw, C, M) is (kh, kw, 1, C·M) in memory
        layer.bias = bias
        return layer
    }

    /// A Keras kernel (kh, kw, I, O) as ConvLens's (O, I, kh, kw).
    func hwioToOIHW(_ w: Tensor, _ s: [Int]) -> Tensor {           // w: (kh, kw, I, O)
        let (kh, kw, i, o) = (s[0], s[1], s[2], s[3])
        return Tensor(shape: [o, i, kh, kw], data: (0 ..< o * i * kh * kw).map { idx in
            let (oo, ii, y, x) = (idx / (i * kh * kw), idx / (kh * kw) % i, idx / kw % kh, idx % kw)
            return w.data[((y * kw + x) * i + ii) * o + oo]
        })
    }

    /// Dense: kernel (in, out). On a Flatten of (C, H, W) its rows are put in ConvLens's order; on a 4-D input it
    /// is a 1×1 convolution over the channels, as Keras applies it to the last axis.
    mutating func dense(_ layer: KerasLayer, _ v: KerasValue, name: String, params: ([(String, [Int])]) throws -> [Tensor]) throws -> KerasValue {
        let c = layer.config, units = c["units"]?.int ?? 0, bias = c["use_bias"]?.bool ?? true
        guard (1 ... 1 << 24).contains(units), v.shape.count >= 2 else { throw error("bad units \(units) for input \(v.shape)") }
        let act = c["activation"] ?? .string("linear"), linear = act.string == "linear"
        let out = linear ? name : name + ".preact"
        let features = v.shape.count == 4 ? v.shape[1] : v.shape[v.shape.count - 1]
        let p = try params([("kernel", [features, units])] + (bias ? [("bias", [units])] : []))
        var kernel = p[0]                                              // (in, out), rows in ConvLens's order below
        if let f = v.flattened, f.h * f.w > 1 {
            // Keras's row r = (h·W + w)·C + c feeds ConvLens's feature c·H·W + h·W + w.
            kernel = Tensor(shape: kernel.shape, data: (0 ..< features * units).map { idx in
                let (feature, u) = (idx / units, idx % units)
                let (ch, hw) = (feature / (f.h * f.w), feature % (f.h * f.w))
                return p[0].data[(hw * f.c + ch) * units + u]
            })
        }
        let y: KerasValue
        if v.shape.count == 4 {
            let conv = Conv2d(features, units, kernel: (1, 1), stride: (1, 1), padding: .zero,
                               dilation: (1, 1), groups: 1, bias: bias)
            conv.weight = hwioToOIHW(kernel, [1, 1, features, units])
            if bias { conv.bias = p[1] }
            y = try emit(out, conv, [v])
        } else {
            let lin = Linear(features, units, bias: bias)
            lin.weight = Tensor(shape: [units, features], data: (0 ..< units * features).map { kernel.data[($0 % features) * units + $0 / features] })
            if bias { lin.bias = p[1] }
            y = try emit(out, lin, [v])
        }
        return linear ? y : try activation(act, y, name: name)
    }

    /// Flatten. Keras flattens (H, W, C); when Dense layers read the result (or Dropouts, whose readers get Keras's
    /// order back if they are not Dense), ConvLens flattens its (C, H, W) and the Dense reorders its rows; otherwise
    /// the tensor is transposed first, so the values come out in Keras's order.
    mutating func flatten(_ v: KerasValue, name: String, consumers: [(layer: KerasLayer, output: KerasRef)]) throws -> KerasValue {
        guard v.shape.count == 4, v.shape[2] * v.shape[3] > 1 else { return try emit(name, Flatten(axis: 1), [v]) }
        let (ch, h, w) = (v.shape[1], v.shape[2], v.shape[3])
        if !consumers.isEmpty, consumers.allSatisfy({ $0.layer.className == "Dense" || KerasImport.passThrough.contains($0.layer.className) }) {
            var y = try emit(name, Flatten(axis: 1), [v])
            y.flattened = (ch, h, w)
            return y
        }
        return try emit(name, Flatten(axis: 1), [try emit(name + ".nhwc", Transpose([0, 2, 3, 1]), [v])])
    }

    /// Reshape to Keras's target shape (channels-last), through (N, H, W, C) where the layout matters.
    mutating func reshape(_ v: KerasValue, target: [Int], name: String) throws -> KerasValue {
        let kin = v.shape.count == 4 ? [v.shape[0], v.shape[2], v.shape[3], v.shape[1]] : v.shape
        let total = kin.dropFirst().reduce(1, *)
        // Each dimension at most the total (which the engine bounds), so the product of the known ones cannot overflow.
        guard !target.isEmpty, target.count <= 8, target.filter({ $0 == -1 }).count <= 1,
              target.allSatisfy({ $0 == -1 || (1 ... max(total, 1)).contains($0) }) else {
            throw error("cannot reshape \(Array(kin.dropFirst())) to \(target)")
        }
        let known = target.filter { $0 != -1 }.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard known > 0, total % known == 0 else { throw error("cannot reshape \(Array(kin.dropFirst())) to \(target)") }
        let kout = [1] + target.map { $0 == -1 ? total / known : $0 }
        guard kout.dropFirst().reduce(1, *) == total else { throw error("cannot reshape \(Array(kin.dropFirst())) to \(target)") }
        var x = v
        if v.shape.count == 4 && v.shape[2] * v.shape[3] > 1 { x = try emit(name + ".nhwc", Transpose([0, 2, 3, 1]), [v]) }
        if kout.count == 4 && kout[1] * kout[2] > 1 {
            let nhwc = try emit(name + ".reshape", Reshape([-1] + kout.dropFirst()), [x])
            return try emit(name, Transpose([0, 3, 1, 2]), [nhwc])
        }
        let engine = kout.count == 4 ? [1, kout[3], 1, 1] : kout
        return try emit(name, Reshape([-1] + engine.dropFirst()), [x])
    }
}
