import Engine
import TensorIO

extension KerasImport {
    /// Every layer class the importer reads, for messages.
    public static let supportedLayers: [String] = [
        "Activation", "ActivityRegularization", "Add", "AlphaDropout", "AveragePooling2D", "BatchNormalization", "Concatenate",
        "Conv2D", "Conv2DTranspose", "Cropping2D", "Dense", "DepthwiseConv2D", "Dropout", "ELU", "Flatten", "GaussianDropout",
        "GaussianNoise", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "InputLayer", "LeakyReLU", "MaxPooling2D", "Maximum",
        "Minimum", "Multiply", "Normalization", "ReLU", "Rescaling", "Reshape", "SeparableConv2D", "Softmax", "SpatialDropout2D",
        "Subtract", "ZeroPadding2D",
    ]
}

extension KerasImport {
    /// Layers that compute nothing at inference: their name is an alias of their input.
    static let passThrough: Set<String> = ["Dropout", "SpatialDropout2D", "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization"]
}

extension KerasImport.Builder {
    /// Lowers one call of a layer onto engine layers: the importer's one switch.
    /// - Parameters:
    ///   - layer: the layer.
    ///   - x: its inputs' values.
    ///   - name: the engine name of its output.
    ///   - savePath: where Keras 3 stores its variables.
    ///   - scope: the nested models around it.
    ///   - consumers: the layers reading its output (a Flatten looks whether only Dense layers do).
    mutating func lower(_ layer: KerasLayer, _ x: [KerasValue], name: String, savePath: String, scope: [String],
                        consumers: [(layer: KerasLayer, output: KerasRef)]) throws -> KerasValue {
        let c = layer.config
        var x = x
        // A Flatten kept ConvLens's (C, H, W) order for Dense layers; anything else gets Keras's (H, W, C) order.
        if !["Dense"].contains(layer.className) && !KerasImport.passThrough.contains(layer.className) {
            for i in x.indices { if let f = x[i].flattened, f.h * f.w > 1 { x[i] = try kerasOrder(x[i], f) } }
        }
        func one() throws -> KerasValue {
            guard x.count == 1 else { throw error("takes one input, not \(x.count)") }
            return x[0]
        }
        let (store, file) = (weights, source)                      // not self: the closure runs inside mutating calls
        let params = { (expected: [(String, [Int])]) throws -> [Tensor] in
            try store.tensors(for: layer, scope: scope, savePath: savePath, expected: expected, source: file)
        }
        guard c["data_format"]?.string ?? "channels_last" == "channels_last" else {
            throw error("is channels_first; ConvLens reads channels_last Keras models (Keras's default)")
        }
        switch layer.className {
        case "Lambda":
            throw ModelError("\(source): layer '\(layer.name)' is a Lambda layer: it holds Python code, which ConvLens does not run")
        case _ where layer.custom:
            throw ModelError("\(source): layer '\(layer.name)' is a custom class ('\(layer.className)'): it holds Python code, which ConvLens does not run")
        case "InputLayer":
            return try one()
        case _ where KerasImport.passThrough.contains(layer.className):
            let v = try one()
            if v.node != Graph.inputName { try graph.addAlias(name, v.node) }
            return v
        case "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose":
            return try convolution(layer, try one(), name: name, params: params)
        case "Dense":
            return try dense(layer, try one(), name: name, params: params)
        case "BatchNormalization":
            let v = try one(), ch = try channels(v, axis: c["axis"])
            let scale = c["scale"]?.bool ?? true, center = c["center"]?.bool ?? true
            let p = try params((scale ? [("gamma", [ch])] : []) + (center ? [("beta", [ch])] : []) + [("moving_mean", [ch]), ("moving_variance", [ch])])   // (C) each
            let bn = BatchNorm2d(ch, eps: Float(c["epsilon"]?.number ?? 1e-3))
            bn.weight = scale ? p[0] : Tensor(shape: [ch], repeating: 1)
            bn.bias = center ? p[scale ? 1 : 0] : Tensor(zeros: [ch])
            bn.runningMean = p[p.count - 2]
            bn.runningVar = p[p.count - 1]
            return try emit(name, bn, [v])
        case "Activation":
            return try activation(c["activation"], try one(), name: name)
        case "ReLU":
            let v = try one(), slope = Float(c["negative_slope"]?.number ?? 0), threshold = c["threshold"]?.number ?? 0
            let top = c["max_value"]?.number.map { Float($0) }
            guard threshold == 0 else { throw error("a ReLU with threshold \(threshold) is not supported") }
            if slope == 0 && (top == nil || top == 6) { return try emit(name, ActivationLayer(top == nil ? .relu : .relu6), [v]) }
            if slope == 0 { return try emit(name, Unary(.clip(min: 0, max: top!)), [v]) }
            guard let top else { return try emit(name, Unary(.leakyRelu(alpha: slope)), [v]) }
            return try emit(name, Unary(.clip(min: -.infinity, max: top)), [try emit(name + ".leaky", Unary(.leakyRelu(alpha: slope)), [v])])
        case "LeakyReLU":
            return try emit(name, Unary(.leakyRelu(alpha: Float(c["negative_slope"]?.number ?? c["alpha"]?.number ?? 0.3))), [try one()])
        case "ELU":
            return try emit(name, Unary(.elu(alpha: Float(c["alpha"]?.number ?? 1))), [try one()])
        case "Softmax":
            let v = try one()
            return try emit(name, Softmax(axis: try axis(c["axis"]?.ints?.first ?? -1, v.shape.count)), [v])
        case "MaxPooling2D", "AveragePooling2D":
            let v = try one()
            let k = try pair(c["pool_size"], "pool_size")
            var s = k
            if let given = c["strides"], !given.isNull { s = try pair(given, "strides") }
            let pad = try padding(c["padding"]?.string ?? "valid", v, kernel: k, stride: s, dilation: (1, 1))
            if layer.className == "MaxPooling2D" { return try emit(name, MaxPool2d(kernel: k, stride: s, padding: pad), [v]) }
            return try emit(name, AvgPool2d(kernel: k, stride: s, padding: pad, countIncludePad: false), [v])
        case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
            let v = try one()
            let mode: GlobalPool.Mode = layer.className == "GlobalMaxPooling2D" ? .max : .average
            if c["keepdims"]?.bool == true { return try emit(name, GlobalPool(mode), [v]) }
            return try emit(name, Flatten(axis: 1), [try emit(name + ".pool", GlobalPool(mode), [v])])
        case "ZeroPadding2D", "Cropping2D":
            let v = try one(), p = try sides(c[layer.className == "ZeroPadding2D" ? "padding" : "cropping"])
            let sign = layer.className == "ZeroPadding2D" ? 1 : -1
            guard v.shape.count == 4 else { throw error("needs a 4-D input, not \(v.shape)") }
            return try emit(name, Pad([p.top, p.left, p.bottom, p.right].map { $0 * sign }, axes: [2, 3]), [v])
        case "Add":
            return try emit(name, Add(), x)
        case "Subtract":
            return try emit(name, Sub(), x)
        case "Multiply":
            guard x.count >= 2 else { throw error("multiplies \(x.count) inputs") }
            var v = x[0]
            for (i, y) in x.dropFirst().enumerated() { v = try emit(i == x.count - 2 ? name : "\(name).\(i)", Mul(), [v, y]) }
            return v
        case "Maximum", "Minimum":
            guard x.count >= 2 else { throw error("takes \(x.count) inputs") }
            var v = x[0]
            for (i, y) in x.dropFirst().enumerated() {
                v = try emit(i == x.count - 2 ? name : "\(name).\(i)", layer.className == "Maximum" ? Max() as Layer : Min(), [v, y])
            }
            return v
        case "Concatenate":
            guard let r = x.first?.shape.count else { throw error("concatenates nothing") }
            return try emit(name, Concat(axis: try axis(c["axis"]?.int ?? -1, r)), x)
        case "Flatten":
            return try flatten(try one(), name: name, consumers: consumers)
        case "Reshape":
            return try reshape(try one(), target: c["target_shape"]?.ints ?? [], name: name)
        case "Rescaling":
            let v = try one(), ch = v.shape.count > 1 ? v.shape[1] : 1
            let scale = c["scale"]?.numbers ?? [1], offset = c["offset"]?.numbers ?? [0]
            guard [1, ch].contains(scale.count), [1, ch].contains(offset.count) else { throw error("has \(scale.count) scales and \(offset.count) offsets for \(ch) channels") }
            return try emit(name, affine(ch, scale: scale.map { Float($0) }, shift: offset.map { Float($0) }), [v])
        case "Normalization":
            let v = try one(), ch = try channels(v, axis: c["axis"])
            guard c["invert"]?.bool != true else { throw error("an inverted Normalization is not supported") }
            var mean = c["mean"]?.numbers.map { $0.map { Float($0) } }, variance = c["variance"]?.numbers.map { $0.map { Float($0) } }
            if mean == nil || variance == nil {
                let p = try params([("mean", [ch]), ("variance", [ch]), ("count", [])])
                (mean, variance) = (p[0].data, p[1].data)
            }
            guard let mean, let variance, [1, ch].contains(mean.count), [1, ch].contains(variance.count) else {
                throw error("its mean and variance do not have \(ch) values")
            }
            // Keras: (x − mean) / max(√variance, 1e-7).
            let scale = (0 ..< ch).map { 1 / max(variance[variance.count == 1 ? 0 : $0].squareRoot(), 1e-7) }
            return try emit(name, affine(ch, scale: scale, shift: (0 ..< ch).map { -mean[mean.count == 1 ? 0 : $0] * scale[$0] }), [v])
        default:
            throw ModelError("\(source): layer '\(layer.name)' has class '\(layer.className)', which ConvLens does not know; "
                + "it reads: \(KerasImport.supportedLayers.joined(separator: ", "))")
        }
    }

    /// A flattened (C, H, W) tensor put in Keras's (H, W, C) order.
    mutating func kerasOrder(_ v: KerasValue, _ f: (c: Int, h: Int, w: Int)) throws -> KerasValue {
        let base = v.node + ".keras_order"
        var name = base, n = 1
        while taken(name) { name = "\(base)_\(n)"; n += 1 }
        let chw = try emit(name + ".chw", Reshape([-1, f.c, f.h, f.w]), [v])
        return try emit(name, Flatten(axis: 1), [try emit(name + ".nhwc", Transpose([0, 2, 3, 1]), [chw])])
    }

    /// A per-channel affine map y = scale·x + shift over axis 1, as a BatchNorm2d with mean 0 and variance 1.
    func affine(_ ch: Int, scale: [Float], shift: [Float]) -> BatchNorm2d {
        let bn = BatchNorm2d(ch, eps: 0)
        bn.weight = Tensor(shape: [ch], data: scale.count == ch ? scale : [Float](repeating: scale[0], count: ch))
        bn.bias = Tensor(shape: [ch], data: shift.count == ch ? shift : [Float](repeating: shift[0], count: ch))
        bn.runningMean = Tensor(zeros: [ch])
        bn.runningVar = Tensor(shape: [ch], repeating: 1)
        return bn
    }

    /// The engine axis of a Keras axis on a tensor of rank `r`: on 4-D tensors Keras's (N, H, W, C) axes 0, 1, 2, 3
    /// are ConvLens's 0, 2, 3, 1.
    func axis(_ a: Int, _ r: Int) throws -> Int {
        guard a >= -r, a < r else { throw error("axis \(a) is out of range for rank \(r)") }
        let n = a < 0 ? a + r : a
        guard n != 0 else { throw error("works along the batch axis, which ConvLens keeps as the batch") }
        return r == 4 ? [0, 2, 3, 1][n] : n
    }

    /// The channel count of a per-channel layer (BatchNormalization, Normalization), whose axis must be the last.
    func channels(_ v: KerasValue, axis a: KerasJSON?) throws -> Int {
        let given = a?.ints ?? [-1]
        guard given.count == 1, v.shape.count >= 2, try axis(given[0], v.shape.count) == 1 || v.shape.count == 2 else {
            throw error("normalises along axis \(given) of a rank-\(v.shape.count) tensor; ConvLens supports the channel axis")
        }
        return v.shape[1]
    }

    /// An (h, w) pair from an int or a list of two.
    func pair(_ j: KerasJSON?, _ what: String) throws -> (Int, Int) {
        guard let v = j?.ints, (1 ... 2).contains(v.count), v.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
            throw error("bad \(what) \(j?.ints ?? [])")
        }
        return (v[0], v.count == 2 ? v[1] : v[0])
    }

    /// ZeroPadding2D's and Cropping2D's ((top, bottom), (left, right)), from an int, a pair or a pair of pairs.
    func sides(_ j: KerasJSON?) throws -> Padding {
        if let a = j?.array, a.count == 2, let h = a[0].ints, let w = a[1].ints, h.count == 2, w.count == 2 {
            guard (h + w).allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else { throw error("bad padding \(h), \(w)") }
            return Padding(top: h[0], left: w[0], bottom: h[1], right: w[1])
        }
        let (h, w) = try pair(j, "padding")
        return Padding(h, w)
    }

    /// Keras's "valid" (none) or "same" (TensorFlow's SAME: the odd pixel at the bottom and right) for a window.
    func padding(_ mode: String, _ v: KerasValue, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)) throws -> Padding {
        guard v.shape.count == 4 else { throw error("needs a 4-D input, not \(v.shape)") }
        switch mode.lowercased() {
        case "valid": return .zero
        case "same":
            let h = Padding.same(v.shape[2], kernel: kernel.0, stride: stride.0, dilation: dilation.0)
            let w = Padding.same(v.shape[3], kernel: kernel.1, stride: stride.1, dilation: dilation.1)
            return Padding(top: h.0, left: w.0, bottom: h.1, right: w.1)
        default: throw error("padding '\(mode)' is not supported (valid or same)")
        }
    }

    /// An activation by its Keras name, as the node `name`; "linear" adds nothing and returns `v`.
    mutating func activation(_ j: KerasJSON?, _ v: KerasValue, name: String) throws -> KerasValue {
        guard let a = j?.string ?? (j?["class_name"]?.string).map({ $0.lowercased() }) else {
            throw error("has an activation that is not a name; a custom activation holds Python code, which ConvLens does not run")
        }
        let layer: Layer
        switch a {
        case "linear": return v
        case "relu": layer = ActivationLayer(.relu)
        case "relu6": layer = ActivationLayer(.relu6)
        case "sigmoid": layer = Unary(.sigmoid)
        case "hard_sigmoid": layer = Unary(.hardSigmoid(alpha: 1 / 6, beta: 0.5))      // Keras 3: relu6(x + 3) / 6
        case "swish", "silu": layer = Unary(.silu)
        case "hard_swish", "hard_silu": layer = Unary(.hardSwish)
        case "tanh": layer = Unary(.tanh)
        case "gelu": layer = Unary(.gelu)
        case "elu": layer = Unary(.elu(alpha: 1))
        case "selu": layer = Unary(.selu(alpha: 1.67326319217681884765625, gamma: 1.05070102214813232421875))
        case "softplus": layer = Unary(.softplus)
        case "mish": layer = Unary(.mish)
        case "exponential": layer = Unary(.exp)
        case "leaky_relu": layer = Unary(.leakyRelu(alpha: 0.2))
        case "softmax": layer = Softmax(axis: v.shape.count == 4 ? 1 : -1)
        default:
            throw error("activation '\(a)' is not supported; ConvLens reads linear, relu, relu6, sigmoid, hard_sigmoid, swish, silu, "
                + "hard_swish, tanh, gelu, elu, selu, softplus, mish, exponential, leaky_relu, softmax")
        }
        return try emit(name, layer, [v])
    }
}
