import Engine
import TensorIO

/// The ONNX ops that compute values elementwise, normalise or reduce: lowered onto the broadcasting binary ops,
/// `Unary`, the norms and `Reduce`.
extension ONNXImport.Builder {
    /// The engine op of an elementwise ONNX op, or nil.
    func unaryOp(_ n: ONNXNode) -> Unary.Op? {
        switch n.opType {
        case "LeakyRelu": .leakyRelu(alpha: n.float("alpha", 0.01))
        case "Elu": .elu(alpha: n.float("alpha", 1))
        case "Selu": .selu(alpha: n.float("alpha", 1.67326319217681884765625), gamma: n.float("gamma", 1.05070102214813232421875))
        case "Softplus": .softplus
        case "Mish": .mish
        case "Sigmoid": .sigmoid
        case "HardSigmoid": .hardSigmoid(alpha: n.float("alpha", 0.2), beta: n.float("beta", 0.5))
        case "HardSwish": .hardSwish
        case "Tanh": .tanh
        case "Erf": .erf
        case "Gelu": n.string("approximate", "none") == "tanh" ? .geluTanh : .gelu
        case "Exp": .exp
        case "Log": .log
        case "Sqrt": .sqrt
        case "Reciprocal": .reciprocal
        case "Neg": .neg
        case "Abs": .abs
        default: nil
        }
    }

    /// Add, Sub, Mul, Div, Pow, Max, Min and Sum with numpy broadcasting; Sum, Max and Min of several inputs as a
    /// chain of pairs. A known scalar exponent makes Pow a `Unary` power, as torch exports x**2 and x**0.5.
    mutating func elementwise(_ n: ONNXNode) throws -> Value {
        let args = try n.inputs.indices.filter { !n.inputs[$0].isEmpty }.map { ($0 == 0 ? n.inputs[0] : n.inputs[$0], try required(n, $0)) }
        guard let first = args.first else { throw error("has no inputs") }
        if n.opType == "Pow", args.count == 2, case let .known(p) = args[1].1, p.count == 1 {
            return try emit(Unary(.pow(p.floats[0])), [first])
        }
        func layer() -> Layer {
            switch n.opType {
            case "Sub": Sub()
            case "Mul": Mul()
            case "Div": Div()
            case "Pow": Pow()
            case "Max": Max()
            case "Min": Min()
            default: Add()
            }
        }
        var acc: (name: String, value: Value) = first
        for (k, next) in args.dropFirst().enumerated() {
            let value = try emit(layer(), [acc, next])
            acc = ("\(n.outputs.first ?? "")#\(k)", value)
        }
        return acc.value
    }

    /// BatchNormalization at inference for any rank (N, C, ...), its statistics known at import.
    mutating func batchNorm(_ n: ONNXNode, _ x: Arg) throws -> Value {
        guard n.outputs.filter({ !$0.isEmpty }).count == 1, n.int("training_mode", 0) == 0 else {
            throw error("training-mode BatchNormalization (running statistics as outputs) is not supported; export in eval mode")
        }
        guard x.value.shape.count >= 2 else { throw error("needs an input of rank 2 or more, got \(x.value.shape)") }
        let c = x.value.shape[1]
        let params = try (1 ... 4).map { try known(n, $0, ["", "scale", "bias", "mean", "variance"][$0]) }
        guard params.allSatisfy({ $0.count == c }) else { throw error("parameters of \(params.map(\.count)) values for \(c) channels") }
        let bn = BatchNorm2d(c, eps: n.float("epsilon", 1e-5))
        for (key, p) in zip(["weight", "bias", "running_mean", "running_var"], params) { bn.setParameter(key, Tensor(shape: [c], data: p.floats)) }
        return try emit(bn, [x])
    }

    /// LayerNormalization over the axes from `axis` on, with its scale (and bias) known at import.
    mutating func layerNorm(_ n: ONNXNode, _ x: Arg) throws -> Value {
        let r = x.value.shape.count, a0 = n.int("axis", -1), a = a0 < 0 ? a0 + r : a0
        guard a >= 1 && a < r else { throw error("axis \(a0) of a rank-\(r) input would normalise over the batch") }
        guard n.outputs.filter({ !$0.isEmpty }).count == 1 else { throw error("the mean and inverse deviation outputs are not supported") }
        let shape = Array(x.value.shape[a...]), count = shape.reduce(1, *)
        let scale = try known(n, 1, "scale"), bias = try knownIfPresent(n, 2, "bias")
        guard scale.count == count, bias == nil || bias!.count == count else { throw error("scale or bias does not cover \(shape)") }
        let ln = LayerNorm(shape, eps: n.float("epsilon", 1e-5), affine: true, bias: bias != nil)
        ln.setParameter("weight", Tensor(shape: shape, data: scale.floats))
        if let bias { ln.setParameter("bias", Tensor(shape: shape, data: bias.floats)) }
        return try emit(ln, [x])
    }

    /// InstanceNormalization and GroupNormalization (scale and bias per channel; opset 18's per-group ones are
    /// repeated over each group's channels).
    mutating func groupNorm(_ n: ONNXNode, _ x: Arg) throws -> Value {
        guard x.value.shape.count >= 3 else { throw error("needs (N, C, ...) with spatial axes, got \(x.value.shape)") }
        let c = x.value.shape[1], eps = n.float("epsilon", 1e-5)
        let instance = n.opType == "InstanceNormalization"
        let groups = instance ? c : n.int("num_groups", 0)
        guard groups >= 1, c % groups == 0 else { throw error("\(groups) groups do not divide \(c) channels") }
        var scale = try known(n, 1, "scale").floats, bias = try known(n, 2, "bias").floats
        if !instance && scale.count == groups && groups != c {
            scale = scale.flatMap { [Float](repeating: $0, count: c / groups) }
            bias = bias.flatMap { [Float](repeating: $0, count: c / groups) }
        }
        guard scale.count == c, bias.count == c else { throw error("scale and bias have \(scale.count) and \(bias.count) values for \(c) channels") }
        let layer = instance ? GroupNorm(instance: c, eps: eps) : GroupNorm(groups: groups, channels: c, eps: eps)
        layer.setParameter("weight", Tensor(shape: [c], data: scale))
        layer.setParameter("bias", Tensor(shape: [c], data: bias))
        return try emit(layer, [x])
    }

    /// ReduceMean, ReduceSum, ReduceMax, ReduceMin and ReduceL2: axes from the attribute (older opsets) or the second
    /// input; the batch axis of a computed tensor is never reduced.
    mutating func reduce(_ n: ONNXNode, _ x: Arg) throws -> Value {
        let r = x.value.shape.count
        var axes = (try ints(n, 1, "axes") ?? n.ints("axes") ?? []).map { $0 < 0 ? $0 + r : $0 }
        guard axes.allSatisfy({ $0 >= 0 && $0 < r }) else { throw error("axes out of range for rank \(r)") }
        if axes.isEmpty {
            if n.int("noop_with_empty_axes", 0) != 0 { return x.value }
            axes = Array(0 ..< r)
        }
        if case .computed = x.value, axes.contains(0) { throw error("reducing over the batch axis is not supported") }
        let op: Reduce.Op
        switch n.opType {
        case "ReduceSum": op = .sum
        case "ReduceMax": op = .max
        case "ReduceMin": op = .min
        case "ReduceL2": op = .l2
        default: op = .mean
        }
        let keep = n.int("keepdims", 1) != 0
        // A mean over every spatial axis, kept, is global average pooling.
        if op == .mean, keep, r >= 3, Set(axes) == Set(2 ..< r) { return try emit(GlobalPool(.average), [x]) }
        return try emit(Reduce(op, axes: axes, keepDims: keep), [x])
    }
}
