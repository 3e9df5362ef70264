// What a kernel file asks of an image: the resized size, every stage's shape and the memory they take, computed
// from the numbers alone before anything is allocated.

import Support

extension KernelFile {
    /// The bytes the demo may use for its tensors, scratch and output copies.
    public static let memoryLimit = 512 << 20

    /// One axis of the convolution on an axis of length n.
    ///
    /// Forward: the image is padded with `before` zeros ahead and `canvas - n - before` after, then convolved
    /// unpadded. Transposed: each input pixel is spread over k outputs, `stride` apart, into a line of `canvas`
    /// = (n − 1)·stride + k, and the output is that line from position `before` on, `output` long (zeros past its
    /// end when "same" asks for more).
    public struct Axis: Equatable, Sendable {
        public var before: Int
        public var canvas: Int
        public var output: Int
    }

    /// One run of the pipeline, for one padding.
    public struct Column: Equatable, Sendable {
        public var padding: Padding
        public var rows: Axis, columns: Axis
        /// The convolution's (and the ReLU's) output, (N, Ho, Wo).
        public var conv: [Int]
        /// Each pooling's output, in the file's order: (N, Ho/pool, Wo/pool), (N/depth_pool, Ho, Wo) or (N, 1, 1).
        public var pooled: [(kind: Pooling, shape: [Int])]

        public static func == (a: Column, b: Column) -> Bool {
            a.padding == b.padding && a.rows == b.rows && a.columns == b.columns && a.conv == b.conv
                && a.pooled.map(\.kind) == b.pooled.map(\.kind) && a.pooled.map(\.shape) == b.pooled.map(\.shape)
        }
    }

    /// Every shape of the demo on one image.
    public struct Plan: Equatable, Sendable {
        /// The image as the kernels see it, (C, H, W).
        public var input: [Int]
        public var columns: [Column]
        /// What the demo allocates at most, in bytes.
        public var bytes: Int
    }

    /// The size the image is resized to: torchvision's Resize(size, max_size=4·size). The shorter side becomes
    /// `size` and the longer int(size·long/short), unless that passes 4·size: then the longer side is 4·size and
    /// the shorter int(4·size·size/newLong), at least 1. A 100000x1 strip becomes 640x1, not 16000000x160.
    /// - Parameters:
    ///   - width: the image's width, at least 1.
    ///   - height: the image's height, at least 1.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let (short, long) = (max(min(width, height), 1), max(width, height, 1))
        let cap = Bounds.aspect * size
        var newShort = size, newLong = Double(size) * Double(long) / Double(short)
        if newLong > Double(cap) {
            newShort = max(Int(Double(cap) * Double(size) / newLong), 1)
            newLong = Double(cap)
        }
        return width <= height ? (newShort, Int(newLong)) : (Int(newLong), newShort)
    }

    /// The convolution on one axis of length `n` (see `Axis`); the output is 0 or less when nothing is left.
    func axis(_ n: Int, _ padding: Padding) -> Axis {
        let (k, s) = (kernelSize, stride)
        if transpose {
            let full = (n - 1) * s + k
            switch padding {
            case .same: return Axis(before: max(k - s, 0) / 2, canvas: full, output: n * s)
            case .valid: return Axis(before: 0, canvas: full, output: full)
            case let .zeros(p): return Axis(before: p, canvas: full, output: full - 2 * p)
            }
        }
        var (before, after) = (0, 0)
        switch padding {
        case .same:
            let total = max(((n + s - 1) / s - 1) * s + k - n, 0)  // TensorFlow: output ceil(n / s)
            (before, after) = (total / 2, total - total / 2)
        case .valid: break
        case let .zeros(p): (before, after) = (p, p)
        }
        let canvas = n + before + after
        return Axis(before: before, canvas: canvas, output: canvas >= k ? (canvas - k) / s + 1 : 0)
    }

    /// Every stage's shape for an image of `width` x `height` after resizing, and the memory they take.
    /// - Parameters:
    ///   - width: the resized image's width (`resizedSize`).
    ///   - height: its height.
    ///   - file: the kernel file's name for messages.
    /// - Throws: `TensorFileError` when a stage would be empty or the demo would pass `memoryLimit`.
    public func plan(width: Int, height: Int, file: String) throws -> Plan {
        let largest = Bounds.aspect * Bounds.size.upperBound
        precondition((1 ... largest).contains(width) && (1 ... largest).contains(height),
                     "KernelFile.plan: \(width)x\(height) is not a size resizedSize gives")
        let (n, c, k) = (kernels.count, channels, kernelSize)
        let what = transpose ? "transposed convolution" : "convolution"
        var columns: [Column] = [], kept = c * height * width, scratch = 0
        for padding in paddings {
            let rows = axis(height, padding), cols = axis(width, padding)
            guard rows.output > 0 && cols.output > 0 else {
                throw TensorFileError(file: file, "the \(what) of \(KernelFile.dims(c, k)) kernels, stride \(stride), \(padding), "
                    + "leaves nothing of the \(width)x\(height) image; use \"padding\": \"same\", a smaller padding or a larger \"size\"")
            }
            let (ho, wo) = (rows.output, cols.output)
            var pooled: [(kind: Pooling, shape: [Int])] = []
            for kind in poolings {
                switch kind {
                case .max, .average:
                    guard ho >= pool && wo >= pool else {
                        throw TensorFileError(file: file, "\"pool\" \(pool) is larger than the \(wo)x\(ho) output of the \(what) (\(padding)); use a smaller \"pool\"")
                    }
                    pooled.append((kind, [n, ho / pool, wo / pool]))
                case .depthMax: pooled.append((kind, [n / depthPool, ho, wo]))
                case .globalAverage: pooled.append((kind, [n, 1, 1]))
                }
            }
            columns.append(Column(padding: padding, rows: rows, columns: cols, conv: [n, ho, wo], pooled: pooled))
            // Kept for the figure and the raw file: the convolution, the ReLU and each pooling.
            kept += 2 * n * ho * wo + pooled.reduce(0) { $0 + $1.shape.reduce(1, *) }
            // Scratch, freed between columns (the engine keeps its largest im2col buffer): forward, the padded image
            // and the unfolded windows; transposed, the windows of the input gradient and the full line twice.
            let run = transpose
                ? n * k * k * height * width + 2 * n * rows.canvas * cols.canvas
                : c * rows.canvas * cols.canvas + c * k * k * ho * wo
            scratch = max(scratch, run)
        }
        // Floats kept, once more as the raw file's bytes, plus scratch; and the resized RGB image.
        let bytes = 4 * (2 * kept + scratch) + 3 * height * width
        guard bytes <= KernelFile.memoryLimit else {
            throw TensorFileError(file: file, "the demo would need \(byteCount(bytes)) for \(n) \(KernelFile.dims(c, k)) kernels on a "
                + "\(width)x\(height) image (\(columns.count) padding\(columns.count == 1 ? "" : "s"), stride \(stride)), "
                + "over its \(byteCount(KernelFile.memoryLimit)) limit",
                hint: "lower \"size\" (now \(size)), or use fewer or smaller kernels\(transpose ? ", or a smaller \"stride\"" : "")")
        }
        return Plan(input: [c, height, width], columns: columns, bytes: bytes)
    }
}
