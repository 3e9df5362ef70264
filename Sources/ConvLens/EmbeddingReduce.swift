import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// What `convlens correlate --embeddings 'DIR/*.embeddings.npy'` computes from embedding shards.
public struct ReduceOptions {
    /// Shards: .npy files, each with its index (`<stem>.index.jsonl`) beside it.
    public var shards: [String] = []
    /// The output directory.
    public var out = "Reports/reduce"
    public var metric = Correlation.Metric.pearson
    /// Neighbours listed per image (by cosine similarity); 0 for none.
    public var neighbours = 5
    /// Write the full (N, N) cosine-similarity matrix, block by block, when it fits on disk.
    public var fullMatrix = false
    /// Write a TensorBoard projector export (vectors, metadata, sprite).
    public var projector = false
    public var colormap = Colormap.rdbu
    public init() {}
}

/// The reduce step of a dataset run: joins embedding shards, correlates class means, finds neighbours.
public enum EmbeddingReduce {
    /// Rows of similarities computed at once for the neighbours and the full matrix: memory is rows × N floats.
    static let block = 256

    /// The joined shards: every embedded item's path and class, and the embeddings, (N, D), in shard order.
    struct Joined {
        var paths: [String] = [], classes: [String] = []
        var values: [Float] = []                            // (N, D)
        var d = 0
        var n: Int { paths.count }
    }

    /// Runs the reduce; returns the files written.
    public static func run(_ o: ReduceOptions) throws -> [String] {
        guard !o.shards.isEmpty else { throw UsageError("--embeddings matched no .npy files") }
        try OptionLimits.neighbours.check(o.neighbours)
        let colormap = o.colormap
        let j = try join(o.shards)
        guard j.n >= 2 else { throw UsageError("--embeddings: \(j.n) embedded image\(j.n == 1 ? "" : "s") in the shards; need at least 2") }
        try MemoryBudget.check(j.n.multipliedSaturating(j.d * 4 * 2).addingSaturating(block.multipliedSaturating(j.n * 8)),
                               "correlate --embeddings of \(j.n) images", hint: "reduce fewer shards at a time")
        try FileManager.default.createDirectory(atPath: o.out, withIntermediateDirectories: true)
        var written: [String] = []

        // Class means and their correlation, clustered.
        let names = Array(Set(j.classes)).sorted()
        let slot = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var means = [Float](repeating: 0, count: names.count * j.d), counts = [Int](repeating: 0, count: names.count)  // (C, D)
        for i in 0 ..< j.n {
            let c = slot[j.classes[i]]!
            counts[c] += 1
            for k in 0 ..< j.d { means[c * j.d + k] += j.values[i * j.d + k] }
        }
        for c in names.indices { for k in 0 ..< j.d { means[c * j.d + k] /= Float(counts[c]) } }
        let classMeans = Tensor(shape: [names.count, j.d], data: means)
        let m = Correlation.matrix(classMeans, classMeans, metric: o.metric)         // (C, C)
        try NPY.write(TensorData(shape: [names.count, j.d], values: means), to: o.out + "/class_means.npy")
        try NPY.write(TensorData(shape: m.shape, values: m.data), to: o.out + "/class_correlation.npy")
        try AtomicFile.write(Array((names.enumerated().map { "\($1)\t\(counts[$0])" }.joined(separator: "\n") + "\n").utf8),
                             to: o.out + "/class_means.tsv")
        var plot = CorrelateJob.matrixPlot(m, rows: names, columns: [], title: "\(o.metric.rawValue) correlation of class means (\(j.n) images)",
                                           metric: o.metric, colormap: colormap)
        if names.count >= 2 {
            plot.dendrogram = Clustering.averageLinkage(m.data.map { 1 - $0 }, n: names.count).map { ($0.a, $0.b, $0.height) }
        }
        try Outputs.writeFigure(plot, to: o.out + "/class_correlation.png", scale: 2)
        written += ["class_means.npy", "class_means.tsv", "class_correlation.npy", "class_correlation.png"]

        if o.neighbours > 0 || o.fullMatrix {
            written += try similarities(j, o)
        }
        if o.projector { written += try projector(j, o) }
        return written.map { o.out + "/" + $0 }
    }

    /// Reads shards and their indexes: rows of an array belong, in order, to its index's lines without an error.
    static func join(_ shards: [String]) throws -> Joined {
        var j = Joined()
        for file in shards {
            guard file.hasSuffix(".npy") else { throw UsageError("--embeddings takes .npy files, got '\(file.printable)'") }
            let stem = String(file.dropLast(".npy".count)).replacingOccurrences(of: ".embeddings", with: "").replacingOccurrences(of: ".activations", with: "")
            let records = try DatasetStore.records(stem + ".index.jsonl").filter { $0.error == nil }
            let t = try NPY.read(file)                                                // (n, D)
            guard t.shape.count == 2, t.shape[0] == records.count, j.d == 0 || t.shape[1] == j.d else {
                throw FileError(path: file, message: "has shape \(t.shape) but its index lists \(records.count) embedded images"
                    + (j.d > 0 ? " of width \(j.d)" : "") + "; rerun the shard")
            }
            j.d = t.shape[1]
            j.values += t.values
            j.paths += records.map(\.path)
            j.classes += records.map { r in r.target.map { "class \($0)" } ?? r.givenTarget ?? r.top?.first?.label ?? "(no class)" }
        }
        return j
    }

    /// The rows scaled to unit length (cosine similarity is then a dot product), (N, D).
    static func unitRows(_ j: Joined) -> [Float] {
        var u = j.values
        for i in 0 ..< j.n {
            let r = i * j.d ..< (i + 1) * j.d
            let norm = u[r].reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for k in r { u[k] /= norm } }
        }
        return u
    }

    /// The k nearest neighbours of every image (neighbours.jsonl) and, when asked, the full (N, N) cosine matrix
    /// (similarity.npy), computed a block of rows at a time.
    static func similarities(_ j: Joined, _ o: ReduceOptions) throws -> [String] {
        let u = unitRows(j), n = j.n, k = min(o.neighbours, n - 1)
        var lines = "", written: [String] = []
        let matrixPath = o.out + "/similarity.npy"
        if o.fullMatrix {
            let bytes = n.multipliedSaturating(n).multipliedSaturating(4)
            var fs = statvfs()
            if statvfs(o.out, &fs) == 0, UInt64(bytes) > UInt64(fs.f_bavail) * UInt64(fs.f_frsize) {
                throw FileError(path: matrixPath, message: "a \(n)x\(n) matrix needs \(MemoryBudget.format(bytes)) and the disk has less free; drop --full-matrix")
            }
        }
        let rows = { (start: Int, count: Int) -> [Float] in                          // (count, N)
            var s = [Float](repeating: 0, count: count * n)
            u.withUnsafeBufferPointer { up in
                s.withUnsafeMutableBufferPointer { sp in
                    BLAS.gemm(transB: true, m: count, n: n, k: j.d, a: up.baseAddress! + start * j.d, lda: j.d, b: up.baseAddress!, ldb: j.d,
                              c: sp.baseAddress!, ldc: n)
                }
            }
            return s
        }
        let each = { (body: (Int, [Float]) throws -> Void) throws in
            for start in stride(from: 0, to: n, by: block) { try body(start, rows(start, min(block, n - start))) }
        }
        if k > 0 {
            try each { start, s in
                for r in 0 ..< s.count / n {
                    let i = start + r
                    let best = (0 ..< n).filter { $0 != i }.sorted { s[r * n + $0] > s[r * n + $1] || s[r * n + $0] == s[r * n + $1] && $0 < $1 }.prefix(k)
                    let items = best.map { "{\"path\":\(jsonString(j.paths[$0])),\"similarity\":\(s[r * n + $0])}" }
                    lines += "{\"path\":\(jsonString(j.paths[i])),\"neighbours\":[\(items.joined(separator: ","))]}\n"
                }
            }
            try AtomicFile.write(Array(lines.utf8), to: o.out + "/neighbours.jsonl")
            written.append("neighbours.jsonl")
        }
        if o.fullMatrix {
            try AtomicFile.write(to: matrixPath) { fd in
                try NPY.header(shape: [n, n]).withUnsafeBytes { try AtomicFile.writeAll(fd: fd, $0, path: matrixPath) }
                try each { _, s in try s.withUnsafeBytes { try AtomicFile.writeAll(fd: fd, $0, path: matrixPath) } }
            }
            written.append("similarity.npy")
        }
        return written
    }

    /// A TensorBoard projector export: vectors.tsv, metadata.tsv (path and class), a sprite of 32-pixel
    /// thumbnails when the images fit in an 8192-pixel square, and projector_config.pbtxt.
    static func projector(_ j: Joined, _ o: ReduceOptions) throws -> [String] {
        let dir = o.out + "/projector"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var vectors = ""
        for i in 0 ..< j.n {
            vectors += j.values[i * j.d ..< (i + 1) * j.d].map { "\($0)" }.joined(separator: "\t") + "\n"
        }
        try AtomicFile.write(Array(vectors.utf8), to: dir + "/vectors.tsv")
        let clean = { (s: String) in s.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ") }
        let metadata = "path\tclass\n" + zip(j.paths, j.classes).map { "\(clean($0))\t\(clean($1))\n" }.joined()
        try AtomicFile.write(Array(metadata.utf8), to: dir + "/metadata.tsv")
        var config = "embeddings {\n  tensor_path: \"vectors.tsv\"\n  metadata_path: \"metadata.tsv\"\n"
        var written = ["projector/vectors.tsv", "projector/metadata.tsv"]
        let side = 32, perRow = Int(Double(j.n).squareRoot().rounded(.up))
        if perRow * side <= 8192 {
            var sprite = RGBImage(width: perRow * side, height: perRow * side)
            for (i, path) in j.paths.enumerated() {
                guard let photo = try? ImageIO.read(path) else { continue }                   // a blank tile for a file gone since
                let thumb = photo.resized(width: side, height: side)
                let (x0, y0) = (i % perRow * side, i / perRow * side)
                for y in 0 ..< side {
                    let dst = ((y0 + y) * sprite.width + x0) * 3
                    sprite.pixels.replaceSubrange(dst ..< dst + side * 3, with: thumb.pixels[y * side * 3 ..< (y + 1) * side * 3])
                }
            }
            try ImageIO.writePNG(sprite, to: dir + "/sprite.png")
            config += "  sprite {\n    image_path: \"sprite.png\"\n    single_image_dim: \(side)\n    single_image_dim: \(side)\n  }\n"
            written.append("projector/sprite.png")
        }
        try AtomicFile.write(Array((config + "}\n").utf8), to: dir + "/projector_config.pbtxt")
        return written + ["projector/projector_config.pbtxt"]
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = .withoutEscapingSlashes
        return String(decoding: (try? enc.encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
