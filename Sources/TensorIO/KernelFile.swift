// The kernel file of `convlens activations --kernel FILE.json`: hand-made convolution kernels and the pipeline they
// run in (padding, stride, transposed or not, pooling kinds). Parsing validates every key against its range here,
// once, so nothing downstream divides by zero or allocates from an unchecked number.

import Support

/// A parsed and validated kernel file.
///
///     {"title": "Sobel", "size": 160, "stride": 1, "padding": "same", "pooling": ["max", "average"], "pool": 2,
///      "kernels": [{"name": "Sobel x", "weights": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "bias": 0}]}
public struct KernelFile: Equatable, Sendable {
    /// How the convolution treats the image's border.
    public enum Padding: Equatable, Sendable, CustomStringConvertible {
        /// TensorFlow's "SAME": output = ceil(input / stride), the padding split with the odd pixel at the bottom/right.
        case same
        /// TensorFlow's "VALID": no padding, the same as `.zeros(0)`, named as the file named it.
        case valid
        /// PyTorch's `padding=p`: p zeros on every side.
        case zeros(Int)

        public var description: String {
            switch self {
            case .same: return "SAME"
            case .valid: return "VALID"
            case let .zeros(p): return "padding \(p)"
            }
        }
    }

    /// A pooling applied to the ReLU's output.
    public enum Pooling: String, CaseIterable, Equatable, Sendable {
        /// `pool` x `pool` windows, stride `pool`: PyTorch's MaxPool2d(pool), Keras's MaxPool2D(pool).
        case max
        /// The mean of each `pool` x `pool` window, stride `pool`: AvgPool2d(pool), AveragePooling2D(pool).
        case average
        /// The maximum over groups of `depth_pool` consecutive channels at each pixel: TensorFlow's
        /// tf.nn.max_pool(x, ksize=(1, 1, 1, d), strides=(1, 1, 1, d), padding="VALID").
        case depthMax = "depth_max"
        /// One mean per channel: GlobalAveragePooling2D, AdaptiveAvgPool2d(1).
        case globalAverage = "global_average"
    }

    /// One kernel.
    public struct Kernel: Equatable, Sendable {
        public var name: String
        /// (C, k, k) row-major: C = 1 for a grey image, 3 (R, G, B) for a colour one.
        public var weights: [Float]
        public var bias: Float
    }

    public var title: String?
    /// The image's shorter side after resizing, in pixels.
    public var size: Int
    public var stride: Int
    /// One or several (drawn side by side, each running the whole pipeline).
    public var paddings: [Padding]
    public var transpose: Bool
    /// Empty for no pooling.
    public var poolings: [Pooling]
    /// Window and stride of max and average pooling.
    public var pool: Int
    /// Channels per window of depth-wise max pooling; divides the number of kernels.
    public var depthPool: Int
    /// C: 1 (grey) or 3 (colour).
    public var channels: Int
    /// k: every kernel is k x k.
    public var kernelSize: Int
    public var kernels: [Kernel]

    /// The accepted range of each integer key, and other bounds.
    public enum Bounds {
        public static let size = 8 ... 1024
        public static let stride = 1 ... 16
        public static let padding = 0 ... 32
        public static let pool = 1 ... 16
        public static let depthPool = 1 ... 32
        public static let kernels = 1 ... 32
        public static let kernelSize = 1 ... 31
        /// Largest |weight| and |bias|: far above any real filter, far below where a sum of 3·31² products could
        /// overflow Float32.
        public static let magnitude: Double = 1e6
        public static let nameLength = 100
        public static let titleLength = 200
        public static let paddings = 4
        /// The longer side of the resized image is at most this many times `size`.
        public static let aspect = 4
        /// The largest kernel file read, in bytes (32 colour 31x31 kernels take under 1 MB of JSON).
        public static let fileBytes = 2 << 20
    }

    /// The file format, for `convlens activations --help` and the README: every key, its type, range and default.
    public static let documentation = """
        A kernel file is a JSON object with these keys (only "kernels" is required):
          kernels     1 to 32 kernels, each {"name": ..., "weights": ..., "bias": ...}
            weights   k x k numbers (run on the grey image) or 3 x k x k (R, G, B
                      planes, run on the colour image); k from 1 to 31, the same
                      for every kernel; each number finite, |w| <= 1e6
            name      text, at most 100 characters (default "kernel N")
            bias      number, |b| <= 1e6 (default 0)
          title       text, at most 200 characters (default "IMAGE: hand-made kernels")
          size        integer 8 to 1024 (default 160): the image's shorter side after
                      resizing (Pillow bilinear); the longer side is capped at 4 x size
                      (torchvision's max_size), so a thin strip shrinks to fit
          stride      integer 1 to 16 (default 1)
          padding     integer 0 to 32 (zeros on every side, PyTorch's padding), "valid"
                      (none) or "same" (TensorFlow's: output = ceil(input / stride),
                      the odd padding pixel at the bottom and right); or an array of
                      up to 4 of these, drawn side by side (default 0)
          transpose   true or false (default false): a transposed convolution
                      (PyTorch's ConvTranspose2d, TensorFlow's conv2d_transpose) that
                      spreads each pixel over a k x k patch, stride pixels apart;
                      output = (input - 1) x stride + k - 2 x padding, or input x
                      stride with "same"
          pooling     "max", "average", "depth_max" or "global_average", or an array
                      of distinct ones, each drawn (default "max"); [] for none
          pool        integer 1 to 16 (default 2): window and stride of max and
                      average pooling
          depth_pool  integer 1 to 32 dividing the number of kernels (default: all of
                      them): channels per window of depth_max pooling
        Pixels are scaled to [0, 1]; grey is Pillow's "L" (0.299 R + 0.587 G +
        0.114 B). The pipeline is convolution, ReLU, then each pooling.
        """

    static let keys = ["kernels", "title", "size", "stride", "padding", "transpose", "pooling", "pool", "depth_pool"]
    static let kernelKeys = ["name", "weights", "bias"]

    /// Parses and validates a kernel file.
    /// - Parameters:
    ///   - bytes: the file's UTF-8 JSON text.
    ///   - name: the file's name for messages.
    /// - Throws: `TensorFileError` naming the file, the key and what is accepted.
    public static func parse(_ bytes: UnsafeRawBufferPointer, name: String) throws -> KernelFile {
        func fail(_ message: String, hint: String? = nil) -> TensorFileError { TensorFileError(file: name, message, hint: hint) }
        guard bytes.count <= Bounds.fileBytes else {
            throw fail("is \(byteCount(bytes.count)); a kernel file is at most \(byteCount(Bounds.fileBytes))")
        }
        let root: JSON
        switch JSON.parse(bytes, maxDepth: 8) {
        case let .success(v): root = v
        case let .failure(e):
            throw fail("is not JSON (\(e.message))", hint: #"a kernel file looks like {"kernels": [{"name": "edge", "weights": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]}]}"#)
        }
        let top = try Fields(root, at: nil, allowed: keys, file: name)
        guard let list = top["kernels"] else { throw fail(#"has no "kernels" key; it lists 1 to 32 kernels, each {"weights": [[...]]}"#) }
        guard case let .array(items) = list else { throw fail(#""kernels" must be an array of kernels, got \#(list.kind)"#) }
        guard Bounds.kernels.contains(items.count) else {
            throw fail(#""kernels" must list 1 to 32 kernels, got \#(items.count)"#)
        }

        var kernels: [Kernel] = [], shape: (c: Int, k: Int)?
        for (i, item) in items.enumerated() {
            let at = "kernels[\(i)]"
            let f = try Fields(item, at: at, allowed: kernelKeys, file: name)
            guard let w = f["weights"] else { throw fail(#"\#(at) has no "weights"; give k x k or 3 x k x k numbers"#) }
            let (values, c, k) = try weights(w, at: at + ".weights", file: name)
            if let s = shape, s != (c, k) {
                throw fail("\(at).weights is \(dims(c, k)) but kernels[0].weights is \(dims(s.c, s.k)); every kernel has the same shape")
            }
            shape = (c, k)
            let label = try f.text("name", max: Bounds.nameLength) ?? "kernel \(i)"
            let bias = try f.number("bias", magnitude: Bounds.magnitude) ?? 0
            kernels.append(Kernel(name: label, weights: values, bias: Float(bias)))
        }

        let paddings: [Padding]
        switch top["padding"] {
        case nil: paddings = [.zeros(0)]
        case let .array(list)?:
            guard (1 ... Bounds.paddings).contains(list.count) else {
                throw fail(#""padding" lists 1 to \#(Bounds.paddings) paddings to draw side by side, got \#(list.count)"#)
            }
            paddings = try list.map { try padding($0, file: name) }
        case let v?: paddings = [try padding(v, file: name)]
        }
        if let twice = paddings.first(where: { p in paddings.filter { $0 == p }.count > 1 }) {
            throw fail(#""padding" lists \#(twice) twice"#)
        }

        let poolings: [Pooling]
        switch top["pooling"] {
        case nil: poolings = [.max]
        case let .array(list)?:
            guard list.count <= Pooling.allCases.count else {
                throw fail(#""pooling" lists \#(list.count) kinds; there are \#(Pooling.allCases.count), each listed once"#)
            }
            poolings = try list.map { try pooling($0, file: name) }
        case let v?: poolings = [try pooling(v, file: name)]
        }
        if let twice = poolings.first(where: { p in poolings.filter { $0 == p }.count > 1 }) {
            throw fail(#""pooling" lists "\#(twice.rawValue)" twice"#)
        }

        let depthPool = try top.integer("depth_pool", in: Bounds.depthPool) ?? kernels.count
        guard kernels.count % depthPool == 0 else {
            throw fail(#""depth_pool" \#(depthPool) does not divide the \#(kernels.count) kernels; depth-wise max pooling takes the maximum over groups of depth_pool channels"#)
        }
        let transpose: Bool
        switch top["transpose"] {
        case nil: transpose = false
        case let .bool(b)?: transpose = b
        case let v?: throw fail(#""transpose" must be true or false, got \#(v.kind)"#)
        }
        return KernelFile(
            title: try top.text("title", max: Bounds.titleLength), size: try top.integer("size", in: Bounds.size) ?? 160,
            stride: try top.integer("stride", in: Bounds.stride) ?? 1, paddings: paddings, transpose: transpose,
            poolings: poolings, pool: try top.integer("pool", in: Bounds.pool) ?? 2, depthPool: depthPool,
            channels: shape!.c, kernelSize: shape!.k, kernels: kernels)
    }

    /// Reads and parses a kernel file.
    /// - Parameters:
    ///   - path: the file; it must be a regular file of at most `Bounds.fileBytes`.
    // The one place the demo reads its file: switch it to Support's bounded input reader when that lands.
    public static func read(_ path: String) throws -> KernelFile {
        try FileBytes.withContents(path, limits: Limits(maxBytes: Bounds.fileBytes), noun: "a kernel file") { try parse($0, name: path) }
    }

    /// "3x3" or "3x5x5".
    static func dims(_ c: Int, _ k: Int) -> String { c == 1 ? "\(k)x\(k)" : "\(c)x\(k)x\(k)" }

    /// The weights of one kernel: k x k numbers (C = 1) or 3 x k x k (C = 3), flattened to (C, k, k).
    static func weights(_ v: JSON, at: String, file: String) throws -> (values: [Float], c: Int, k: Int) {
        func fail(_ m: String) -> TensorFileError {
            TensorFileError(file: file, "\(at) \(m); weights are k x k numbers, or 3 x k x k for a colour image, k from 1 to 31")
        }
        guard case let .array(outer) = v, let first = outer.first else { throw fail("must be a non-empty array, got \(v.kind)") }
        guard case let .array(inner) = first else { throw fail("must hold arrays of numbers, got \(first.kind)") }
        let colour = inner.first.map { if case .array = $0 { return true } else { return false } } ?? false
        let planes = colour ? outer : [v]
        if colour && planes.count != 3 { throw fail("has \(planes.count) planes; colour kernels have 3 (R, G, B)") }
        var values: [Float] = [], k = 0
        for (p, plane) in planes.enumerated() {
            guard case let .array(rows) = plane else { throw fail("plane \(p) is \(plane.kind), not an array of rows") }
            if p == 0 {
                k = rows.count
                guard Bounds.kernelSize.contains(k) else { throw fail("has \(k) rows") }
                values.reserveCapacity(planes.count * k * k)
            }
            guard rows.count == k else { throw fail("plane \(p) has \(rows.count) rows, plane 0 has \(k)") }
            for (r, row) in rows.enumerated() {
                guard case let .array(cells) = row, cells.count == k else {
                    throw fail("row \(colour ? "[\(p)]" : "")[\(r)] is not \(k) numbers (kernels are square)")
                }
                for cell in cells {
                    guard case let .number(d, _) = cell, d.isFinite, abs(d) <= Bounds.magnitude else {
                        throw fail("row \(colour ? "[\(p)]" : "")[\(r)] holds \(cell.kind), not a number with |w| <= 1e6")
                    }
                    values.append(Float(d))
                }
            }
        }
        return (values, planes.count, k)
    }

    static func padding(_ v: JSON, file: String) throws -> Padding {
        switch v {
        case .string("same"): return .same
        case .string("valid"): return .valid
        case let .number(d, _) where d == d.rounded() && Double(Bounds.padding.lowerBound) <= d && d <= Double(Bounds.padding.upperBound):
            return .zeros(Int(d))
        default:
            throw TensorFileError(file: file, #""padding" must be an integer from 0 to 32, "same" or "valid", got \#(v.kind)"#)
        }
    }

    static func pooling(_ v: JSON, file: String) throws -> Pooling {
        if case let .string(s) = v, let p = Pooling(rawValue: s) { return p }
        let kinds = Pooling.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        throw TensorFileError(file: file, #""pooling" must be one of \#(kinds) or an array of them, got \#(v.kind)"#)
    }
}

/// The members of one JSON object, checked against the keys it may have.
private struct Fields {
    let members: [String: JSON]
    let at: String?
    let file: String

    /// - Parameters:
    ///   - value: must be an object with no unknown or repeated keys.
    ///   - at: where the object is ("kernels[2]"), nil for the top level.
    ///   - allowed: the keys it may have.
    init(_ value: JSON, at: String?, allowed: [String], file: String) throws {
        self.at = at
        self.file = file
        let whose = at.map { "\($0) " } ?? ""
        guard let list = value.members else {
            throw TensorFileError(file: file, at.map { "\($0) must be a JSON object, got \(value.kind)" }
                ?? "is not a kernel file: it holds \(value.kind), not a JSON object")
        }
        var members: [String: JSON] = [:]
        for (key, v) in list {
            guard allowed.contains(key) else {
                throw TensorFileError(file: file, "\(whose)has an unknown key \(KernelFile.quoted(key)); the keys are \(allowed.joined(separator: ", "))")
            }
            guard members.updateValue(v, forKey: key) == nil else {
                throw TensorFileError(file: file, "\(whose)has the key \(KernelFile.quoted(key)) twice")
            }
        }
        self.members = members
    }

    subscript(key: String) -> JSON? { members[key] }

    private func name(_ key: String) -> String { at.map { "\($0).\(key)" } ?? "\"\(key)\"" }

    /// An integer key within `range`, or nil when absent.
    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = members[key] else { return nil }
        guard case let .number(d, _) = v, d == d.rounded(), Double(range.lowerBound) <= d, d <= Double(range.upperBound) else {
            throw TensorFileError(file: file, "\(name(key)) must be an integer from \(range.lowerBound) to \(range.upperBound), got \(v.kind)")
        }
        return Int(d)
    }

    /// A finite number with |x| <= magnitude, or nil when absent.
    func number(_ key: String, magnitude: Double) throws -> Double? {
        guard let v = members[key] else { return nil }
        guard case let .number(d, _) = v, d.isFinite, abs(d) <= magnitude else {
            throw TensorFileError(file: file, "\(name(key)) must be a number with |x| <= 1e6, got \(v.kind)")
        }
        return d
    }

    /// A text of at most `max` characters without control characters, or nil when absent.
    func text(_ key: String, max: Int) throws -> String? {
        guard let v = members[key] else { return nil }
        guard case let .string(s) = v else { throw TensorFileError(file: file, "\(name(key)) must be text, got \(v.kind)") }
        guard s.unicodeScalars.count <= max else {
            throw TensorFileError(file: file, "\(name(key)) has \(s.unicodeScalars.count) characters; at most \(max) fit a figure")
        }
        guard !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw TensorFileError(file: file, "\(name(key)) \(KernelFile.quoted(s)) holds a control character")
        }
        return s
    }
}

extension KernelFile {
    /// A user's text for a message: quoted, control characters escaped, at most 40 characters shown.
    static func quoted(_ s: String) -> String { Support.quoted(s, limit: 40, quote: "\"") }
}

extension JSON {
    /// What the value is, for messages: "a string", "-3", "an array of 2".
    var kind: String {
        switch self {
        case .object: return "an object"
        case let .array(a): return "an array of \(a.count)"
        case let .string(s): return "the text \(KernelFile.quoted(s))"
        case let .number(d, int): return int.map(String.init) ?? (d.isFinite && abs(d) < 1e15 ? "\(d)" : "a number out of range")
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        }
    }
}
