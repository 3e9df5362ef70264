import Engine
import TensorIO

/// The ONNX ops that move, cut or resample values: lowered onto Linear/MatMul, Slice, Pad and Resize.
extension ONNXImport.Builder {
    /// MatMul: a known (K, N) right-hand side becomes a Linear layer over the last axis (ConvNeXt's MLPs, exported as
    /// MatMul then Add), so it runs as torch's nn.Linear does; anything else the general batched MatMul.
    mutating func matMul(_ n: ONNXNode, _ a: Arg, _ b: Arg) throws -> Value {
        if case let .known(w) = b.value, w.shape.count == 2, case .computed = a.value, a.value.shape.count >= 2,
           a.value.shape.last == w.shape[0] {
            let (k, o) = (w.shape[0], w.shape[1])
            let layer = Linear(k, o, bias: false)
            layer.weight = Tensor(shape: [o, k], data: (0 ..< o * k).map { w.floats[($0 % k) * o + $0 / k] })   // Wᵀ, (out, in)
            return try emit(layer, [a])
        }
        return try emit(MatMul(), [a, b])
    }

    /// Split into the node's outputs along an axis: sizes from the second input (opset ≥ 13), the `split` attribute,
    /// or equal parts (`num_outputs` from opset 18), each output a Slice.
    mutating func split(_ n: ONNXNode, _ x: Arg) throws -> [Value] {
        let shape = x.value.shape, r = shape.count, a0 = n.int("axis", 0), a = a0 < 0 ? a0 + r : a0
        guard a >= 0 && a < r else { throw error("axis \(a0) is out of range for rank \(r)") }
        let outputs = n.outputs.count
        var sizes = try ints(n, 1, "split") ?? n.ints("split")
        if sizes == nil {
            let parts = n.attributes["num_outputs"] != nil ? n.int("num_outputs", outputs) : outputs
            guard parts >= 1 else { throw error("splits into \(parts) parts") }
            let each = (shape[a] + parts - 1) / parts                 // the last part takes what is left
            sizes = (0 ..< parts).map { Swift.max(0, Swift.min(each, shape[a] - $0 * each)) }
        }
        guard let sizes, sizes.count == outputs, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[a] else {
            throw error("split sizes \(sizes ?? []) do not cover the \(shape[a]) entries of axis \(a) in \(outputs) outputs")
        }
        if case .computed = x.value, a == 0 { throw error("splitting the batch axis is not supported") }
        var values: [Value] = [], start = 0
        for size in sizes {
            if case let .known(f) = x.value {
                guard let r = IntFold.slice(f, starts: [start], ends: [start + size], axes: [a], steps: [1]) else { throw error("bad split") }
                values.append(.known(r))
            } else {
                values.append(try emit(Slice(starts: [start], ends: [start + size], axes: [a]), [x]))
            }
            start += size
        }
        return values
    }

    /// Pad (opset ≥ 11: pads, the constant and the axes as inputs) with modes constant, reflect and edge.
    mutating func pad(_ n: ONNXNode, _ x: Arg) throws -> Value {
        let r = x.value.shape.count
        guard let pads = try ints(n, 1, "pads") ?? n.ints("pads") else { throw error("pads are missing") }
        let value = try knownIfPresent(n, 2, "constant value")?.floats.first ?? n.float("value", 0)
        let axes = (try ints(n, 3, "axes") ?? Array(0 ..< pads.count / 2)).map { $0 < 0 ? $0 + r : $0 }
        guard pads.count == 2 * axes.count, axes.allSatisfy({ $0 >= 0 && $0 < r }) else {
            throw error("\(pads.count) pads for \(axes.count) axes of a rank-\(r) tensor")
        }
        let mode: Pad.Mode
        switch n.string("mode", "constant") {
        case "constant": mode = .constant
        case "reflect": mode = .reflect
        case "edge": mode = .edge
        case let m: throw error("pad mode '\(m)' is not supported (constant, reflect, edge are)")
        }
        if case .computed = x.value, let b = axes.firstIndex(of: 0), pads[b] != 0 || pads[b + axes.count] != 0 {
            throw error("padding the batch axis is not supported")
        }
        return try emit(Pad(pads, axes: axes, mode: mode, value: value), [x])
    }

    /// Resize (opset ≥ 11: roi, scales and sizes as inputs) and Upsample (scales), nearest or linear, over the axes
    /// after the batch and channels, which must keep their sizes.
    mutating func resize(_ n: ONNXNode, _ x: Arg) throws -> Value {
        let shape = x.value.shape, r = shape.count
        let scales = try knownIfPresent(n, n.opType == "Upsample" ? 1 : 2, "scales")?.floats ?? n.floats("scales")
        let sizes = try ints(n, 3, "sizes")
        guard r >= 3, scales?.count ?? sizes?.count == r else { throw error("needs scales or sizes for each of the \(r) axes") }
        if let s = sizes, s.count == r {
            guard s[0] == shape[0], s[1] == shape[1] else { throw error("resizing the batch or channel axis (sizes \(s)) is not supported") }
        } else if let s = scales, s.count == r {
            guard s[0] == 1, s[1] == 1 else { throw error("resizing the batch or channel axis (scales \(s)) is not supported") }
        } else {
            throw error("scales or sizes are missing")
        }
        guard n.int("antialias", 0) == 0, n.int("exclude_outside", 0) == 0,
              n.string("keep_aspect_ratio_policy", "stretch") == "stretch", n.ints("axes") == nil else {
            throw error("antialias, exclude_outside, keep_aspect_ratio_policy and axes are not supported")
        }
        let mode: Resize.Mode
        switch n.string("mode", "nearest") {
        case "nearest": mode = .nearest
        case "linear", "bilinear": mode = .linear
        case let m: throw error("resize mode '\(m)' is not supported (nearest and linear are)")
        }
        let transformName = n.opType == "Upsample" ? "asymmetric" : n.string("coordinate_transformation_mode", "half_pixel")
        guard let transform = Resize.CoordinateTransform(rawValue: transformName) else {
            throw error("coordinate_transformation_mode '\(transformName)' is not supported (half_pixel, pytorch_half_pixel, align_corners, asymmetric are)")
        }
        let nearestName = n.opType == "Upsample" ? "floor" : n.string("nearest_mode", "round_prefer_floor")
        guard let nearest = Resize.NearestMode(rawValue: nearestName) else { throw error("nearest_mode '\(nearestName)' is not supported") }
        let layer = Resize(sizes: sizes.map { Array($0.dropFirst(2)) }, scales: sizes == nil ? scales.map { Array($0.dropFirst(2)) } : nil,
                           mode: mode, coordinateTransform: transform, nearestMode: nearest)
        return try emit(layer, [x])
    }
}
