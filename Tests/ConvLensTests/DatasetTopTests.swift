import Testing
@testable import ConvLens
import Analysis
import Foundation
import Support
import TensorIO

/// `gradcam --top K` in dataset mode on the small random-weight SqueezeNet of `DatasetRunTests` (10 classes): K maps
/// per image in (N, K, H, W) shards. The expected maps are those of the single-image `gradcam --top K`
/// (`GradCAMJob.compute`), which the CAM fixture tests check against pytorch-grad-cam.
@Suite(.serialized) struct DatasetTopTests {
    static func run(_ lm: LoadedModel, _ items: [ManifestItem], out: String, top: Int, faithfulness: Bool = false) throws
        -> (DatasetSummary, [DatasetRecord]) {
        var o = DatasetOptions()
        o.out = out
        o.batch = 2
        o.faithfulness = faithfulness
        var records: [DatasetRecord] = []
        let work = try DatasetWork.gradcam(lm, options: GradCAMOptions(), dataset: o, top: top)
        let s = try DatasetRun.run(lm, items: items, work: work, options: o, emit: { records.append($0) })
        return (s, records)
    }

    @Test func topKStoresTheKBestClassesMapsOfEachImageAndARerunSkipsThem() throws {
        let dir = try DatasetManifestTests.tempDir("top")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try DatasetRunTests.dataset(dir, n: 3), lm = try DatasetRunTests.model()
        let (summary, records) = try Self.run(lm, items, out: dir + "/out", top: 3)
        #expect(summary.processed == 3 && summary.failed == 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        let stem = try #require(names.first { $0.hasSuffix(".maps.npy") }).dropLast(".maps.npy".count)
        let maps = try NPY.read(dir + "/out/\(stem).maps.npy")              // (3, 3, H, W)
        let index = try DatasetStore.records(dir + "/out/\(stem).index.jsonl")
        #expect(maps.shape.count == 4 && maps.shape[0] == 3 && maps.shape[1] == 3, "\(maps.shape)")
        let size = 3 * maps.shape[2] * maps.shape[3]
        for r in index where r.error == nil {
            // The index lists the K classes explained: the image's three best, best first.
            #expect(r.classes == r.top?.prefix(3).map(\.index) && r.target == nil, "\(r)")
            var o = GradCAMOptions()
            o.top = 3
            o.metrics = false
            o.view = .input
            let single = try GradCAMJob.compute(lm, images: try ImageBatch.prepare([r.path], lm.preprocessing).images, options: o).maps  // (3, H, W)
            let row = try #require(r.row)
            let got = Array(maps.values[row * size ..< (row + 1) * size])
            let diff = zip(got, single.values).map { abs($0 - $1) }.max() ?? .infinity
            print("\(r.path): dataset --top 3 vs single-image gradcam --top 3, maxdiff \(diff)")
            #expect(single.shape == Array(maps.shape.dropFirst()) && got == single.values, "maxdiff \(diff)")
        }
        #expect(records.filter { $0.error == nil }.allSatisfy { $0.classes?.count == 3 })
        let (again, _) = try Self.run(lm, items, out: dir + "/out", top: 3)
        #expect(again.skipped == 3 && again.processed == 0)
        // Another K is another configuration: its own files, nothing skipped.
        let (other, _) = try Self.run(lm, items, out: dir + "/out", top: 2)
        #expect(other.skipped == 0 && other.processed == 3)
    }

    @Test func topKRefusesManifestTargetsFaithfulnessAndMoreClassesThanTheModelHas() throws {
        let dir = try DatasetManifestTests.tempDir("top-refusals")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try DatasetRunTests.dataset(dir, n: 2).map(\.path), lm = try DatasetRunTests.model()
        let items = [ManifestItem(path: paths[0]), ManifestItem(path: paths[1], target: ItemTarget("class:3", origin: "m.jsonl: line 2"))]
        #expect { try Self.run(lm, items, out: dir + "/a", top: 2) } throws: {
            "\($0)" == "m.jsonl: line 2 gives a target, but --top 2 explains each image's 2 best classes; drop one or the other"
        }
        #expect { try Self.run(lm, [items[0]], out: dir + "/b", top: 2, faithfulness: true) } throws: {
            "\($0)" == "--faithfulness measures one map per image; drop --top or --faithfulness"
        }
        #expect { try Self.run(lm, [items[0]], out: dir + "/c", top: 11) } throws: { "\($0)" == "--top must be in [1, 10], got 11" }
        // Refused before anything is computed or written.
        for out in ["a", "b", "c"] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + out)) ?? []
            #expect(files.allSatisfy { $0.hasSuffix(".config.json") }, "\(out): \(files)")
        }
    }
}
