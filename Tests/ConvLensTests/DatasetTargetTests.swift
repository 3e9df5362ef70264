import Testing
@testable import ConvLens
import Analysis
import Foundation
import Support
import TensorIO

/// Per-image targets of any kind from a JSON Lines manifest, on the small random-weight SqueezeNet of
/// `DatasetRunTests` (10 classes). The expected maps are those of single-image `gradcam --target T` runs
/// (`GradCAMJob.compute`), whose targets are fixture-checked against pytorch-grad-cam 1.5.7 in `CAMTargetTests`.
@Suite(.serialized) struct DatasetTargetTests {
    /// The manifest's lines: each image of `DatasetRunTests.dataset` with a target, and targets that fail.
    static let lines = [("img0.png", "\"prob:3\""), ("img1.png", "\"sigmoid:3\""), ("img2.png", "\"classes:1,2\""),
                        ("img3.png", "\"output:4\""), ("img4.png", "7"), ("img0.png", "\"class:x\""),
                        ("img1.png", "\"mask:1@mask.png\""), ("img2.png", "\"prob:10\"")]

    static func manifest(_ dir: String, _ lines: [(String, String)]) throws -> [ManifestItem] {
        try lines.map { "{\"path\": \"data/\($0.0)\", \"target\": \($0.1)}\n" }.joined()
            .write(toFile: dir + "/m.jsonl", atomically: true, encoding: .utf8)
        return try Manifest.load(dir + "/m.jsonl")
    }

    static func run(_ lm: LoadedModel, _ items: [ManifestItem], out: String) throws -> (DatasetSummary, [DatasetRecord]) {
        var o = DatasetOptions()
        o.out = out
        var records: [DatasetRecord] = []
        let s = try DatasetRun.run(lm, items: items, work: try DatasetWork.gradcam(lm, options: GradCAMOptions(), dataset: o),
                                   options: o, emit: { records.append($0) })
        return (s, records)
    }

    @Test func eachItemsTargetGivesTheMapOfASingleImageRunWithThatTarget() throws {
        let dir = try DatasetManifestTests.tempDir("targets")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DatasetRunTests.dataset(dir, n: 5)
        #expect(FileManager.default.createFile(atPath: dir + "/mask.png", contents: try Data(contentsOf: URL(fileURLWithPath: dir + "/data/img0.png"))))
        let items = try Self.manifest(dir, Self.lines), lm = try DatasetRunTests.model()
        let (summary, records) = try Self.run(lm, items, out: dir + "/out")
        #expect(summary.processed == 5 && summary.failed == 3)
        #expect(records.map(\.givenTarget) == ["prob:3", "sigmoid:3", "classes:1,2", "output:4", "class:7", "class:x", "mask:1@mask.png", "prob:10"])
        #expect(records.map(\.target) == [3, nil, nil, nil, 7, nil, nil, nil])
        // A bad target fails its item alone, naming the manifest and the line; the run goes on.
        let m = dir + "/m.jsonl"
        #expect(records[5].error?.hasPrefix("\(m): line 6: target 'class:x': 'x' is not an index") == true, "\(records[5])")
        #expect(records[6].error?.hasPrefix("\(m): line 7: target 'mask:1@mask.png': target class 1 over a mask of") == true, "\(records[6])")
        #expect(records[7].error == "\(m): line 8: target 'prob:10': class index 10 is out of range: the model has 10 classes (0…9)")

        let stem = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").first { $0.hasSuffix(".maps.npy") })
        let maps = try NPY.read(dir + "/out/" + stem)                       // (5, H, W)
        let index = try DatasetStore.records(dir + "/out/" + stem.replacingOccurrences(of: ".maps.npy", with: ".index.jsonl"))
        #expect(maps.shape.count == 3 && maps.shape[0] == 5 && index.count == 8)
        let plane = maps.shape[1] * maps.shape[2]
        for r in index where r.error == nil {
            var o = GradCAMOptions()
            o.targets = [try CAMTargetSpec(parsing: try #require(r.givenTarget))]
            o.metrics = false
            o.view = .input
            let image = try ImageBatch.prepare([r.path], lm.preprocessing).images
            let single = try GradCAMJob.compute(lm, images: image, options: o).maps      // (H, W)
            let row = try #require(r.row)
            let got = Array(maps.values[row * plane ..< (row + 1) * plane])
            let diff = zip(got, single.values).map { abs($0 - $1) }.max() ?? .infinity
            print("\(r.givenTarget!): dataset map vs single-image gradcam --target, maxdiff \(diff)")
            #expect(single.shape == Array(maps.shape.dropFirst()) && got == single.values, "\(r.givenTarget!): maxdiff \(diff)")
        }
    }

    @Test func aChangedTargetIsRecomputedOnRerunAndTheRestSkipped() throws {
        let dir = try DatasetManifestTests.tempDir("targets-rerun")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DatasetRunTests.dataset(dir, n: 3)
        let lm = try DatasetRunTests.model()
        let first = [("img0.png", "\"prob:3\""), ("img1.png", "5"), ("img2.png", "\"output:4\"")]
        _ = try Self.run(lm, try Self.manifest(dir, first), out: dir + "/out")
        var second = first
        second[1].1 = "\"class:6\""
        let (summary, records) = try Self.run(lm, try Self.manifest(dir, second), out: dir + "/out")
        #expect(summary.skipped == 2 && summary.processed == 1 && records.map(\.givenTarget) == ["class:6"])
        let index = try DatasetStore.records(dir + "/out/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
            .first { $0.hasSuffix(".index.jsonl") })))
        // Both targets of img1 stay indexed: each (path, content, target) is its own item.
        #expect(index.map(\.givenTarget).sorted { ($0 ?? "") < ($1 ?? "") } == ["class:5", "class:6", "output:4", "prob:3"])
    }
}
