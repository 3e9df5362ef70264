import Testing
@testable import ConvLens
import Foundation
import Support
import TensorIO

/// `activations --full-maps` in dataset mode on the small random-weight SqueezeNet of `DatasetRunTests`: each image's
/// whole layer output in (N, C, H, W) shards. The expected maps are the single-image `activations --raw` files
/// (`ActivationsJob`) of the same images; their channel means are the dataset's default (N, C) rows.
@Suite(.serialized) struct DatasetMapsTests {
    static func run(_ lm: LoadedModel, _ items: [ManifestItem], out: String, fullMaps: Bool) throws -> DatasetSummary {
        var o = DatasetOptions()
        o.out = out
        o.batch = 2
        let work = try DatasetWork.embeddings(lm, feature: "fire3", command: "activations", fullMaps: fullMaps, dataset: o)
        return try DatasetRun.run(lm, items: items, work: work, options: o, emit: { _ in })
    }

    /// The shard's array and index in `dir` for the configuration whose feature is `feature`.
    static func shard(_ dir: String, feature: String) throws -> (TensorData, [DatasetRecord]) {
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".config.json") {
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) as? [String: String]
            guard config?["feature"] == feature else { continue }
            let stem = dir + "/" + name.dropLast(".config.json".count) + "-0of1"
            return (try NPY.read(stem + ".activations.npy"), try DatasetStore.records(stem + ".index.jsonl"))
        }
        throw UsageError("no outputs for \(feature) in \(dir)")
    }

    @Test func fullMapsAreEachImagesLayerOutputAndAverageToTheChannelMeans() throws {
        let dir = try DatasetManifestTests.tempDir("maps")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try DatasetRunTests.dataset(dir, n: 3), lm = try DatasetRunTests.model()
        let summary = try Self.run(lm, items, out: dir + "/out", fullMaps: true)
        #expect(summary.processed == 3 && summary.failed == 1)
        _ = try Self.run(lm, items, out: dir + "/out", fullMaps: false)
        let (maps, index) = try Self.shard(dir + "/out", feature: "maps fire3")              // (3, C, H, W)
        let (means, meanIndex) = try Self.shard(dir + "/out", feature: "pooled fire3")       // (3, C)
        #expect(maps.shape.count == 4 && maps.shape[0] == 3 && means.shape == Array(maps.shape.prefix(2)), "\(maps.shape) \(means.shape)")
        let (c, plane) = (maps.shape[1], maps.shape[2] * maps.shape[3])
        for r in index where r.error == nil {
            var o = ActivationsOptions()
            o.layers = ["fire3"]
            o.out = dir + "/single.png"
            o.raw = dir + "/single.npy"
            _ = try ActivationsJob.run(lm, image: try ImageBatch.prepare([r.path], lm.preprocessing).images[0], options: o)
            let single = try NPY.read(dir + "/single.npy")                                  // (C, H, W)
            let row = try #require(r.row)
            let got = Array(maps.values[row * c * plane ..< (row + 1) * c * plane])
            #expect(single.shape == Array(maps.shape.dropFirst()) && got == single.values, "\(r.path)")
            let m = try #require(meanIndex.first { $0.path == r.path }?.row)
            for k in 0 ..< c {
                let mean = got[k * plane ..< (k + 1) * plane].reduce(0, +) / Float(plane)
                #expect(abs(mean - means.values[m * c + k]) <= 1e-5 * max(1, abs(mean)), "\(r.path) channel \(k)")
            }
        }
        let again = try Self.run(lm, items, out: dir + "/out", fullMaps: true)
        #expect(again.skipped == 3 && again.processed == 0)
    }

    @Test func aShardThatWouldNotFitOnDiskIsRefusedNamingWhatItNeeds() throws {
        do {
            try DatasetStore.checkRoom(3 << 30, out: "/data/out", what: "activations of 1000 images, 2 MB each, in shard 1/4", free: 1 << 30)
            Issue.record("3 GB fitted in 1 GB")
        } catch {
            #expect("\(error)" == "/data/out: activations of 1000 images, 2 MB each, in shard 1/4 need ~3.0 GB on disk (twice the shard's array "
                + "while its parts are joined), and 1.0 GB are free; take a smaller part with --shard i/N or a layer with smaller maps")
        }
        #expect(throws: Never.self) { try DatasetStore.checkRoom(1 << 20, out: "/data/out", what: "x", free: 1 << 30) }
    }
}
