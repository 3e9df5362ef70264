import Testing
@testable import ConvLens
import Analysis
import Engine
import Foundation
import TensorIO

/// The reduce step on hand-made shards, where every expected number is worked out from the rows in the test.
@Suite struct DatasetReduceTests {
    /// Two shards of 2-D embeddings: cats along x, dogs along y, one failed item that has no row.
    static func shards(_ dir: String) throws -> [String] {
        func record(_ path: String, _ label: String?, error: String? = nil) -> DatasetRecord {
            DatasetRecord(path: path, config: "c", top: label.map { [Prediction(index: $0 == "cat" ? 0 : 1, label: $0, probability: 0.9)] },
                          error: error)
        }
        let a = [record("a1", "cat"), record("bad", nil, error: "broken"), record("a2", "dog")]
        let b = [record("b1", "cat"), record("b2", "dog"), record("b3", "dog")]
        try DatasetStore.lines(a).write(toFile: dir + "/e-0of2.index.jsonl", atomically: true, encoding: .utf8)
        try DatasetStore.lines(b).write(toFile: dir + "/e-1of2.index.jsonl", atomically: true, encoding: .utf8)
        try NPY.write(TensorData(shape: [2, 2], values: [2, 0, 0, 1]), to: dir + "/e-0of2.embeddings.npy")
        try NPY.write(TensorData(shape: [3, 2], values: [4, 2, 1, 3, 0, 5]), to: dir + "/e-1of2.embeddings.npy")
        return [dir + "/e-0of2.embeddings.npy", dir + "/e-1of2.embeddings.npy"]
    }

    @Test func classMeansNeighboursAndTheFullMatrixFollowTheRows() throws {
        let dir = try DatasetManifestTests.tempDir("reduce")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = ReduceOptions()
        o.shards = try Self.shards(dir)
        o.out = dir + "/out"
        o.neighbours = 1
        o.fullMatrix = true
        o.projector = true
        _ = try EmbeddingReduce.run(o)
        // cat rows (2, 0) and (4, 2): mean (3, 1); dog rows (0, 1), (1, 3), (0, 5): mean (1/3, 3).
        let means = try NPY.read(o.out + "/class_means.npy")
        #expect(means.shape == [2, 2] && zip(means.values, [3, 1, 1.0 / 3, 3]).allSatisfy { abs($0 - Float($1)) < 1e-6 })
        // Pearson of two 2-vectors is ±1: (3, 1) falls, (1/3, 3) rises.
        #expect(try NPY.read(o.out + "/class_correlation.npy").values.map { ($0 * 1000).rounded() / 1000 } == [1, -1, -1, 1])
        // Cosine of unit rows, in shard order a1, a2, b1, b2, b3: compared with the dot products done here in Double.
        let rows: [[Double]] = [[2, 0], [0, 1], [4, 2], [1, 3], [0, 5]]
        let unit = rows.map { r in r.map { $0 / (r[0] * r[0] + r[1] * r[1]).squareRoot() } }
        let full = try NPY.read(o.out + "/similarity.npy")
        #expect(full.shape == [5, 5])
        for i in 0 ..< 5 { for j in 0 ..< 5 {
            #expect(abs(Double(full.values[i * 5 + j]) - (unit[i][0] * unit[j][0] + unit[i][1] * unit[j][1])) < 1e-6)
        } }
        // a1 (2, 0) is nearest to b1 (4, 2); b3 (0, 5) to a2 (0, 1).
        let lines = try String(contentsOfFile: o.out + "/neighbours.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5 && lines[0].contains("\"path\":\"a1\",\"neighbours\":[{\"path\":\"b1\""))
        #expect(lines[4].contains("\"path\":\"b3\",\"neighbours\":[{\"path\":\"a2\""))
        let metadata = try String(contentsOfFile: o.out + "/projector/metadata.tsv", encoding: .utf8)
        #expect(metadata == "path\tclass\na1\tcat\na2\tdog\nb1\tcat\nb2\tdog\nb3\tdog\n")
        #expect(try String(contentsOfFile: o.out + "/projector/vectors.tsv", encoding: .utf8).hasPrefix("2.0\t0.0\n0.0\t1.0\n4.0\t2.0\n"))
    }

    @Test func aShardWhoseArrayDisagreesWithItsIndexIsRefused() throws {
        let dir = try DatasetManifestTests.tempDir("reduce-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = ReduceOptions()
        o.shards = try Self.shards(dir)
        o.out = dir + "/out"
        try NPY.write(TensorData(shape: [1, 2], values: [1, 2]), to: o.shards[1])
        #expect { try EmbeddingReduce.run(o) } throws: { "\($0)".contains("its index lists 3") }
    }
}
