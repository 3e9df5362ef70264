import Testing
@testable import ConvLens
import Analysis
import Engine
import Foundation
import Imaging
import Models
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

    /// A small segmentation network with seeded random weights: conv1 → ReLU → conv2 [the target layer] → ReLU →
    /// a 1×1 convolution to 3 classes, (N, 3, 32, 32) for a 32×32 input; no classifier.
    static func segmentation() throws -> LoadedModel {
        let arch = Architecture(name: "tinyseg", layout: "torchvision", preprocessing: "torchvision", inputSize: 32, camLayer: "conv2",
                                embeddingLayer: "conv2", classifierKey: nil, defaultClasses: 3) { v in
            let g = Graph()
            g.add("conv1", Conv2d(3, 4, kernel: 3, padding: 1))
            g.add("relu1", ActivationLayer(.relu))
            g.add("conv2", Conv2d(4, 6, kernel: 3, padding: 1))
            g.add("relu2", ActivationLayer(.relu))
            g.add("out", Conv2d(6, v.classes, kernel: 1))                   // (N, K, 32, 32)
            return g
        }
        return try ModelStore.wrap(Model.random(arch, classes: 3, seed: 5))
    }

    @Test func maskTargetsOfASegmentationModelReadTheirMaskFromTheManifestsFolder() throws {
        let dir = try DatasetManifestTests.tempDir("targets-mask")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DatasetRunTests.dataset(dir, n: 3)
        try FileManager.default.createDirectory(atPath: dir + "/masks", withIntermediateDirectories: true)
        let pixels = (0 ..< 32 * 32).flatMap { p -> [UInt8] in p % 32 < 12 ? [255, 255, 255] : [0, 0, 0] }   // the left 12 columns
        try ImageIO.writePNG(RGBImage(width: 32, height: 32, pixels: pixels), to: dir + "/masks/m.png")
        let lm = try Self.segmentation()
        let items = try Self.manifest(dir, [("img0.png", "\"mask:1@masks/m.png\""), ("img1.png", "\"output:5\""),
                                            ("img2.png", "\"mask:2@masks/missing.png\"")])
        let (summary, records) = try Self.run(lm, items, out: dir + "/out")
        #expect(summary.processed == 2 && summary.failed == 1)
        #expect(records[2].error?.hasPrefix("\(dir)/m.jsonl: line 3: target 'mask:2@masks/missing.png': \(dir)/masks/missing.png") == true,
                "\(records[2])")
        let stem = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").first { $0.hasSuffix(".maps.npy") })
        let maps = try NPY.read(dir + "/out/" + stem)                       // (2, 32, 32)
        #expect(maps.shape == [2, 32, 32])
        for (row, spec) in [(0, CAMTargetSpec.mask(class: 1, file: dir + "/masks/m.png")), (1, .value(.output(5)))] {
            var o = GradCAMOptions()
            o.targets = [spec]
            o.metrics = false
            o.view = .input
            let single = try GradCAMJob.compute(lm, images: try ImageBatch.prepare([records[row].path], lm.preprocessing).images, options: o).maps
            let got = Array(maps.values[row * 1024 ..< (row + 1) * 1024])
            #expect(got == single.values && got.contains { $0 > 0 }, "\(spec): maxdiff \(zip(got, single.values).map { abs($0 - $1) }.max() ?? 0)")
        }
        // Without a classifier there is no top class: every image needs its target, checked before anything runs.
        #expect { try Self.run(lm, items + [ManifestItem(path: items[0].path)], out: dir + "/out2") } throws: {
            "\($0)".contains("needs a classifier") && "\($0)".hasSuffix("or give every image a target in a JSON Lines manifest ('\(items[0].path)' has none)")
        }
    }
}
