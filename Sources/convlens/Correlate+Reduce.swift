import ArgumentParser
import ConvLens
import Foundation

extension Correlate {
    /// `correlate --embeddings 'shards/*.npy'`: the reduce step over the embedding shards of dataset runs.
    func reduce(_ pattern: String) throws {
        guard images.isEmpty, vs.isEmpty else { throw ValidationError("--embeddings reads shards; give no images with it") }
        var o = ReduceOptions()
        o.shards = try Self.expand(pattern)
        o.out = out ?? "Reports/reduce"
        o.metric = metric
        o.neighbours = neighbours
        o.fullMatrix = fullMatrix
        o.projector = projector
        o.colormap = colormap
        for path in try EmbeddingReduce.run(o) { print("wrote \(path)") }
    }

    /// The files a shell pattern matches, sorted; a plain path is itself.
    static func expand(_ pattern: String) throws -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0 ..< Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
