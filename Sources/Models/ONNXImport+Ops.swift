import Engine
import TensorIO

extension ONNXImport {
    /// Every op type the importer reads, for messages.
    public static let supportedOps: [String] = [
        "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv",
        "ConvTranspose", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Flatten", "Gather", "Gelu", "Gemm",
        "GlobalAveragePool", "GlobalMaxPool", "GroupNormalization", "HardSigmoid", "HardSwish", "Identity",
        "InstanceNormalization", "LayerNormalization", "LeakyRelu", "Log", "LogSoftmax", "MatMul", "Max", "MaxPool", "Min",
        "Mish", "Mul", "Neg", "Pad", "Pow", "PRelu", "Range", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceSum", "Relu",
        "Reshape", "Resize", "Shape", "Sigmoid", "Slice", "Softmax", "Softplus", "Split", "Sqrt", "Squeeze", "Sub", "Sum",
        "Tanh", "Transpose", "Unsqueeze", "Upsample", "Where",
    ]
}

extension ONNXNode {
    func int(_ key: String, _ fallback: Int) -> Int {
        switch attributes[key] {
        case let .int(v)?: v
        case let .float(v)?: Int(v)
        default: fallback
        }
    }
    func float(_ key: String, _ fallback: Float) -> Float {
        switch attributes[key] {
        case let .float(v)?: v
        case let .int(v)?: Float(v)
        default: fallback
        }
    }
    func ints(_ key: String) -> [Int]? { if case let .ints(v)? = attributes[key] { v } else { nil } }
    func floats(_ key: String) -> [Float]? { if case let .floats(v)? = attributes[key] { v } else { nil } }
    func string(_ key: String, _ fallback: String) -> String { if case let .string(v)? = attributes[key] { v } else { fallback } }
}

extension ONNXImport.Builder {
    /// Lowers one node onto engine layers (or computes it, when its inputs are known): the importer's one switch.
    /// - Returns: the values of the node's outputs, in order (fewer when a trailing output is not computed).
    mutating func lowerOp(_ n: ONNXNode) throws -> [Value] {
        /// Input `i` with its ONNX name, for `emit`.
        func arg(_ i: Int) throws -> (name: String, value: Value) { (n.inputs[i], try required(n, i)) }
        let rank = n.inputs.isEmpty || n.inputs[0].isEmpty ? 0 : (try input(n, 0)?.shape.count ?? 0)
        /// An axis attribute, normalised against the first input's rank.
        func axis(_ fallback: Int, key: String = "axis", rank r: Int? = nil) throws -> Int {
            let r = r ?? rank, a = n.int(key, fallback)
            guard a >= -r && a < Swift.max(r, 1) else { throw error("axis \(a) is out of range for rank \(r)") }
            return a < 0 ? a + r : a
        }

        switch n.opType {
        case "Identity", "Dropout":
            return [try required(n, 0)]
        case "Constant":
            return [.known(try constantValue(n))]
        case "Conv":
            return [try conv(n, arg(0))]
        case "ConvTranspose":
            return [try convTranspose(n, arg(0))]
        case "MaxPool", "AveragePool":
            return [try pool(n, arg(0))]
        case "GlobalAveragePool", "GlobalMaxPool":
            return [try emit(GlobalPool(n.opType == "GlobalMaxPool" ? .max : .average), [arg(0)])]
        case "Relu":
            return [try emit(ActivationLayer(.relu), [arg(0)])]
        case "Clip":
            let lo = try knownIfPresent(n, 1, "minimum")?.floats.first ?? n.attributes["min"].map { _ in n.float("min", 0) }
            let hi = try knownIfPresent(n, 2, "maximum")?.floats.first ?? n.attributes["max"].map { _ in n.float("max", 0) }
            if lo == 0 && hi == 6 { return [try emit(ActivationLayer(.relu6), [arg(0)])] }
            if lo == 0 && (hi == nil || hi == .infinity) { return [try emit(ActivationLayer(.relu), [arg(0)])] }
            return [try emit(Unary(.clip(min: lo ?? -.infinity, max: hi ?? .infinity)), [arg(0)])]
        case "BatchNormalization":
            return [try batchNorm(n, arg(0))]
        case "LayerNormalization":
            return [try layerNorm(n, arg(0))]
        case "InstanceNormalization", "GroupNormalization":
            return [try groupNorm(n, arg(0))]
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2":
            return [try reduce(n, arg(0))]
        case "PRelu":
            return [try emit(PRelu(), [arg(0), arg(1)])]
        case _ where unaryOp(n) != nil:
            return [try emit(Unary(unaryOp(n)!), [arg(0)])]
        case "Flatten":
            let a = try axis(1, rank: rank)
            if case .computed = try required(n, 0), a == 0 { throw error("Flatten at axis 0 would merge the batch into the features") }
            return [try emit(Flatten(axis: a), [arg(0)])]
        case "Gemm":
            return [try gemm(n, arg(0))]
        case "MatMul":
            return [try matMul(n, arg(0), arg(1))]
        case "Softmax", "LogSoftmax":
            let log = n.opType == "LogSoftmax"
            if opset >= 13 { return [try emit(Softmax(axis: try axis(-1), log: log), [arg(0)])] }
            // Before opset 13, softmax ran over everything from `axis` on, the input seen as 2-D.
            let a = try axis(1)
            if a == rank - 1 { return [try emit(Softmax(axis: -1, log: log), [arg(0)])] }
            let flat = try emit(Flatten(axis: a), [arg(0)])
            let soft = try emit(Softmax(axis: -1, log: log), [(n.inputs[0] + "#flat", flat)])
            return [try emit(Reshape(try batchKept(flat.shape, try required(n, 0).shape)), [(n.inputs[0] + "#softmax", soft)])]
        case "Transpose":
            let x = try required(n, 0), perm = n.ints("perm") ?? Array((0 ..< x.shape.count).reversed())
            guard Set(perm) == Set(0 ..< x.shape.count), perm.count == x.shape.count else { throw error("bad perm \(perm) for rank \(x.shape.count)") }
            if case let .known(f) = x, f.ints != nil { return [.known(IntFold.transpose(f, perm))] }
            if case .computed = x, perm[0] != 0 { throw error("a transpose that moves the batch axis (perm \(perm)) is not supported") }
            return [try emit(Transpose(perm), [arg(0)])]
        case "Slice":
            let x = try required(n, 0)
            let starts = try ints(n, 1, "starts") ?? n.ints("starts") ?? []
            let ends = try ints(n, 2, "ends") ?? n.ints("ends") ?? []
            var axes = (try ints(n, 3, "axes") ?? n.ints("axes") ?? Array(0 ..< starts.count)).map { $0 < 0 ? $0 + x.shape.count : $0 }
            var steps = try ints(n, 4, "steps") ?? [Int](repeating: 1, count: starts.count)
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
                throw error("starts, ends, axes and steps differ in length")
            }
            if case let .known(f) = x {
                guard let r = IntFold.slice(f, starts: starts, ends: ends, axes: axes, steps: steps) else { throw error("bad slice") }
                return [.known(r)]
            }
            var (s0, e0) = (starts, ends)
            if let b = axes.firstIndex(of: 0) {                    // the batch axis may only be taken whole
                guard steps[b] == 1, IntFold.sliceRange(dim: 1, start: starts[b], end: ends[b], step: 1).map({ $0.start == 0 && $0.end == 1 }) == true else {
                    throw error("slicing the batch axis is not supported")
                }
                for list in [0, 1, 2, 3] {
                    switch list { case 0: s0.remove(at: b); case 1: e0.remove(at: b); case 2: axes.remove(at: b); default: steps.remove(at: b) }
                }
            }
            if axes.isEmpty { return [x] }
            return [try emit(Slice(starts: s0, ends: e0, axes: axes, steps: steps), [arg(0)])]
        case "Split":
            return try split(n, arg(0))
        case "Pad":
            return [try pad(n, arg(0))]
        case "Resize", "Upsample":
            return [try resize(n, arg(0))]
        case "Gather" where { if case .flattened? = try? input(n, 0) { true } else { false } }():
            guard case let .flattened(x)? = try input(n, 0), let idx = try known(n, 1, "indices").ints, n.int("axis", 0) == 0,
                  idx == Array(0 ..< x.shape.reduce(1, *)), idx.count == x.shape.reduce(1, *) else {
                throw error("a gather of a tensor flattened with its batch is supported only when it takes every element in order")
            }
            let to = try known(n, 1, "indices").shape
            if to == x.shape { return [x] }
            return [try emit(Reshape(try batchKept(x.shape, to)), [(n.inputs[0] + "#unflattened", x)])]
        case "Gather" where { if case .computed? = try? input(n, 0) { true } else { false } }():
            // A gather of computed data at known indices along a non-batch axis: a slice of one index (then the axis
            // dropped) or of a run of consecutive indices.
            let x = try required(n, 0), a = try axis(0, rank: x.shape.count), idx = try known(n, 1, "indices")
            guard a > 0, let list = idx.ints, !list.isEmpty else { throw error("gathering along the batch axis is not supported") }
            let dim = x.shape[a], norm = list.map { $0 < 0 ? $0 + dim : $0 }
            guard norm.allSatisfy({ $0 >= 0 && $0 < dim }), zip(norm, norm.dropFirst()).allSatisfy({ $1 == $0 + 1 }) else {
                throw error("only gathers of consecutive indices are supported (indices \(list.prefix(8)))")
            }
            let sliced = try emit(Slice(starts: [norm[0]], ends: [norm[0] + norm.count], axes: [a]), [arg(0)])
            var shape = Array(x.shape[..<a]) + idx.shape + Array(x.shape[(a + 1)...])
            if shape == sliced.shape { return [sliced] }
            shape = try batchKept(sliced.shape, shape)
            return [try emit(Reshape(shape), [(n.outputs[0] + "#slice", sliced)])]

        // Shape arithmetic, computed at import.
        case "Shape":
            let s = try required(n, 0).shape
            let start = n.int("start", 0), end = n.int("end", s.count)
            guard let r = IntFold.sliceRange(dim: s.count, start: start, end: end, step: 1) else { throw error("bad range") }
            return [.known(Folded(shape: [Swift.max(0, r.end - r.start)], ints: Array(s[r.start ..< Swift.max(r.start, r.end)])))]
        case "Gather":
            let data = try known(n, 0, "data"), idx = try known(n, 1, "indices")
            guard let g = IntFold.gather(data, idx, axis: try axis(0, rank: data.shape.count)) else { throw error("indices out of range") }
            return [.known(g)]
        case "Unsqueeze", "Squeeze":
            let x = try required(n, 0)
            let axes = try ints(n, 1, "axes") ?? n.ints("axes")
            let shape = try squeezed(x.shape, axes: axes, unsqueeze: n.opType == "Unsqueeze")
            if case .computed = x, (axes ?? []).contains(where: { $0 == 0 || $0 == -(n.opType == "Unsqueeze" ? shape.count : x.shape.count) }) {
                throw error("\(n.opType) of the batch axis is not supported")
            }
            if case .known(var f) = x { f.shape = shape; return [.known(f)] }
            return [try emit(Reshape(try batchKept(x.shape, shape)), [arg(0)])]
        case "Reshape":
            let x = try required(n, 0), target = try known(n, 1, "shape").ints ?? []
            let shape = try reshaped(x.shape, target, allowZero: n.int("allowzero", 0) != 0)
            if case .known(var f) = x { f.shape = shape; return [.known(f)] }
            if shape.count == 1, x.shape.count > 1 { return [.flattened(x)] }
            return [try emit(Reshape(try batchKept(x.shape, shape)), [arg(0)])]
        case "Cast":
            let x = try required(n, 0), to = n.int("to", 1)
            let floatTypes: Set<Int> = [1, 10, 11, 16]               // FLOAT, FLOAT16, DOUBLE, BFLOAT16
            guard case var .known(f) = x else {
                guard floatTypes.contains(to) else { throw error("casting a computed tensor to a non-float type (\(to)) is not supported") }
                return [x]
            }
            if floatTypes.contains(to) { f = Folded(shape: f.shape, floats: f.floats) } else if f.ints == nil {
                f = Folded(shape: f.shape, ints: f.floats.map { $0.isFinite ? Int($0.rounded(.towardZero)) : 0 })
            }
            if to == 9 { f = Folded(shape: f.shape, ints: f.ints!.map { $0 != 0 ? 1 : 0 }) }   // BOOL
            return [.known(f)]
        case "ConstantOfShape":
            let shape = try known(n, 0, "shape").ints ?? []
            try checkSize(shape)
            var value = Folded(shape: [1], floats: [0])
            if case let .tensor(t)? = n.attributes["value"] { value = try Self.folded(t, source: source) }
            let count = shape.reduce(1, *)
            if let v = value.ints?.first { return [.known(Folded(shape: shape, ints: [Int](repeating: v, count: count)))] }
            return [.known(Folded(shape: shape, floats: [Float](repeating: value.floats.first ?? 0, count: count)))]
        case "Range":
            let start = try known(n, 0, "start"), limit = try known(n, 1, "limit"), delta = try known(n, 2, "delta")
            if let s = start.ints?.first, let l = limit.ints?.first, let d = delta.ints?.first, d != 0 {
                let count = Swift.max(0, (l - s + d + (d > 0 ? -1 : 1)) / d)
                try checkSize([count])
                return [.known(Folded(shape: [count], ints: (0 ..< count).map { s + $0 * d }))]
            }
            guard let s = start.floats.first, let l = limit.floats.first, let d = delta.floats.first, d != 0 else { throw error("bad range") }
            let count = Swift.max(0, Int(((l - s) / d).rounded(.up)))
            try checkSize([count])
            return [.known(Folded(shape: [count], floats: (0 ..< count).map { s + Float($0) * d }))]
        case "Equal":
            let a = try known(n, 0, "first operand"), b = try known(n, 1, "second operand")
            guard let r = IntFold.binary(a.ints == nil ? Folded(shape: a.shape, ints: a.floats.map { Int($0.bitPattern) }) : a,
                                         b.ints == nil ? Folded(shape: b.shape, ints: b.floats.map { Int($0.bitPattern) }) : b,
                                         { $0 == $1 ? 1 : 0 }) else { throw error("shapes \(a.shape) and \(b.shape) do not broadcast") }
            return [.known(r)]
        case "Where":
            let c = try known(n, 0, "condition"), a = try known(n, 1, "first branch"), b = try known(n, 2, "second branch")
            guard let r = IntFold.select(c, a, b) else { throw error("shapes do not broadcast") }
            return [.known(r)]
        case let op where try ["Add", "Sub", "Mul", "Div", "Sum"].contains(op) && n.inputs.count == 2 && knownInts(n):
            let a = try known(n, 0, "first operand"), b = try known(n, 1, "second operand")
            let op: (Int, Int) -> Int? = switch n.opType {
            case "Sub": { $0 - $1 }
            case "Mul": { $0 * $1 }
            case "Div": { $1 == 0 ? nil : $0 / $1 }             // truncated, as onnxruntime divides integers
            default: { $0 + $1 }
            }
            guard let r = IntFold.binary(a, b, op) else { throw error("shapes \(a.shape) and \(b.shape) do not broadcast") }
            return [.known(r)]
        case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum":
            return [try elementwise(n)]
        case "Concat" where try knownInts(n):
            let parts = try n.inputs.indices.map { try known(n, $0, "input") }
            guard parts.allSatisfy({ $0.shape.count == 1 }) else { throw error("only 1-D integer concatenation is folded") }
            return [.known(Folded(shape: [parts.reduce(0) { $0 + $1.count }], ints: parts.flatMap { $0.ints! }))]
        case "Concat":
            let a = try axis(1)
            let args = try n.inputs.indices.filter { !n.inputs[$0].isEmpty }.map { try arg($0) }
            if a == 0, args.contains(where: { if case .known = $0.value { false } else { true } }) {
                throw error("concatenating along the batch axis is not supported")
            }
            return [try emit(Concat(axis: a), args)]
        default:
            throw error("op '\(n.opType)' is not supported" + (ONNXImport.supportedOps.contains(n.opType) ? " in this form" : "")
                + "; ConvLens reads: \(ONNXImport.supportedOps.joined(separator: ", "))")
        }
    }

    /// Whether every input of the node is a known integer tensor (shape arithmetic).
    func knownInts(_ n: ONNXNode) throws -> Bool {
        try n.inputs.indices.allSatisfy { i in
            if case let .known(f)? = try input(n, i) { f.ints != nil } else { false }
        }
    }

    /// The value of a Constant node.
    func constantValue(_ n: ONNXNode) throws -> Folded {
        switch n.attributes["value"] ?? n.attributes["value_float"] ?? n.attributes["value_floats"] ?? n.attributes["value_int"] ?? n.attributes["value_ints"] {
        case let .tensor(t)?: return try Self.folded(t, source: source)
        case let .float(v)?: return Folded(shape: [], floats: [v])
        case let .floats(v)?: return Folded(shape: [v.count], floats: v)
        case let .int(v)?: return Folded(shape: [], ints: [v])
        case let .ints(v)?: return Folded(shape: [v.count], ints: v)
        default: throw error("a Constant without a value tensor (sparse or string constants are not supported)")
        }
    }

    /// The shape after (un)squeezing `axes` (all size-1 axes when squeezing without axes).
    func squeezed(_ shape: [Int], axes: [Int]?, unsqueeze: Bool) throws -> [Int] {
        if unsqueeze {
            guard let axes else { throw error("Unsqueeze needs axes") }
            let r = shape.count + axes.count
            let norm = Set(axes.map { $0 < 0 ? $0 + r : $0 })
            guard norm.count == axes.count, norm.allSatisfy({ $0 >= 0 && $0 < r }) else { throw error("bad axes \(axes) for rank \(r)") }
            var out: [Int] = [], it = shape.makeIterator()
            for i in 0 ..< r { out.append(norm.contains(i) ? 1 : it.next()!) }
            return out
        }
        let norm = Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map { $0 < 0 ? $0 + shape.count : $0 })
        guard norm.allSatisfy({ $0 >= 0 && $0 < shape.count && shape[$0] == 1 }) else { throw error("cannot squeeze axes \(axes ?? []) of \(shape)") }
        return shape.indices.filter { !norm.contains($0) }.map { shape[$0] }
    }

    /// ONNX Reshape's target: 0 copies the input's dimension (unless `allowZero`), one −1 takes what is left.
    func reshaped(_ shape: [Int], _ target: [Int], allowZero: Bool) throws -> [Int] {
        var out = target.enumerated().map { i, d in d == 0 && !allowZero && i < shape.count ? shape[i] : d }
        let total = shape.reduce(1, *), known = out.filter { $0 != -1 }.reduce(1, *)
        let free = out.indices.filter { out[$0] == -1 }
        guard free.count <= 1, out.allSatisfy({ $0 >= -1 }) else { throw error("bad target shape \(target)") }
        if let i = free.first {
            guard known > 0, total % known == 0 else { throw error("cannot reshape \(shape) to \(target)") }
            out[i] = total / known
        }
        guard out.reduce(1, *) == total else { throw error("cannot reshape \(shape) (\(total) values) to \(target)") }
        return out
    }

    /// A static target shape for an engine Reshape of a computed tensor: the batch axis stays first and its size
    /// is taken from the input at run time (−1), so the graph runs at any batch size.
    func batchKept(_ from: [Int], _ to: [Int]) throws -> [Int] {
        guard from.first == 1, to.first == 1 else {
            throw error("reshaping \(from) to \(to) moves the batch axis; ConvLens keeps axis 0 as the batch")
        }
        return [-1] + to.dropFirst()
    }
}
