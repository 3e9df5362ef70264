import Testing
@testable import ConvLens
import Engine
import Analysis
import Foundation
import Models
import Support
import TensorIO

/// Dataset runs end to end on a small random-weight SqueezeNet: bad items recorded, parts committed and joined,
/// reruns skipping what is done, a killed run resumed to the same outputs as one clean run.
@Suite(.serialized) struct DatasetRunTests {
    static func model() throws -> LoadedModel {
        try ModelStore.wrap(Model.random(try Zoo.layouts("squeezenet1_1")[0], classes: 10, seed: 3, widthDivisor: 8))
    }

    /// `n` copies of Samples/chelsea.png and coffee.png in `dir/data`, and one file that is not an image.
    static func dataset(_ dir: String, n: Int) throws -> [ManifestItem] {
        let data = dir + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        for i in 0 ..< n {
            try FileManager.default.copyItem(atPath: root + "/Samples/" + (i % 2 == 0 ? "chelsea.png" : "coffee.png"), toPath: data + "/img\(i).png")
        }
        #expect(FileManager.default.createFile(atPath: data + "/broken.png", contents: Data("not an image".utf8)))
        return try Manifest.load(data)
    }

    /// Embeddings as the dataset work, counting the images it computes; it stops the run (as a kill would) once
    /// `killAfter` images are done.
    final class Counting: @unchecked Sendable {  // used from one thread
        var computed: [String] = []
        var killAfter = Int.max
        struct Killed: Error {}
        func work(_ lm: LoadedModel) throws -> DatasetWork {
            let inner = try DatasetWork.embeddings(lm, feature: "pooled")
            return DatasetWork(command: inner.command, settings: inner.settings, array: inner.array) { images, targets in
                if self.computed.count >= self.killAfter { throw UsageError("killed") }   // a usage error stops the run
                self.computed += images.map(\.path)
                return try inner.run(images, targets)
            }
        }
    }

    static func run(_ lm: LoadedModel, _ items: [ManifestItem], out: String?, counting: Counting, shard: Shard = .whole) throws
        -> (DatasetSummary, [DatasetRecord]) {
        var o = DatasetOptions()
        o.out = out
        o.batch = 3
        o.shard = shard
        var lines: [DatasetRecord] = []
        let s = try DatasetRun.run(lm, items: items, work: try counting.work(lm), options: o, emit: { lines.append($0) })
        return (s, lines)
    }

    @Test func aBadImageIsRecordedAndTheRunGoesOn() throws {
        let dir = try DatasetManifestTests.tempDir("run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try Self.dataset(dir, n: 5), lm = try Self.model()
        let (summary, lines) = try Self.run(lm, items, out: nil, counting: Counting())
        #expect(summary.processed == 5 && summary.failed == 1)
        #expect(lines.map(\.path) == items.map(\.path))
        let bad = try #require(lines.first { $0.path.hasSuffix("broken.png") })
        #expect(bad.error?.contains("not a PNG or JPEG") == true && bad.sha256 != nil)
        // The content hash is the SHA-256 of the file's bytes (sha256sum Samples/chelsea.png).
        #expect(lines.first { $0.path.hasSuffix("img0.png") }?.sha256 == "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb")
    }

    @Test func aKilledRunResumesToTheSameOutputsAsOneCleanRunAndLeavesNoParts() throws {
        let dir = try DatasetManifestTests.tempDir("resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try Self.dataset(dir, n: 10), lm = try Self.model()
        let clean = Counting()
        _ = try Self.run(lm, items, out: dir + "/clean", counting: clean)
        #expect(clean.computed.count == 10)

        let killed = Counting()
        killed.killAfter = 5     // batches of 3: broken + 2 images, then 3 images committed; the third batch is lost
        #expect(throws: UsageError.self) { try Self.run(lm, items, out: dir + "/resumed", counting: killed) }
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir + "/resumed").filter { $0.contains(".part") }
        #expect(parts.count == 4, "\(parts)")                          // index and array of two parts, nothing half-written
        let again = Counting()
        let (summary, _) = try Self.run(lm, items, out: dir + "/resumed", counting: again)
        #expect(summary.skipped == 5 && again.computed.count == 5)     // only what was not committed (and broken.png fails again)
        let third = Counting()
        _ = try Self.run(lm, items, out: dir + "/resumed", counting: third)
        #expect(third.computed.isEmpty)                                // a rerun of a finished run computes nothing

        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/resumed")
        #expect(!names.contains { $0.hasPrefix(".") }, "\(names)")
        let stem = try #require(names.first { $0.hasSuffix("-0of1.index.jsonl") }).dropLast(".index.jsonl".count)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/clean").contains { $0.hasPrefix(stem) })
        let a = try NPY.read(dir + "/clean/\(stem).embeddings.npy"), b = try NPY.read(dir + "/resumed/\(stem).embeddings.npy")
        #expect(a.shape == [10, 64] && a.shape == b.shape)
        // Rows in index order: the same image has the same embedding in both runs, bit for bit.
        let ia = try DatasetStore.records(dir + "/clean/\(stem).index.jsonl"), ib = try DatasetStore.records(dir + "/resumed/\(stem).index.jsonl")
        #expect(ia.count == 11 && ib.count == 11)
        let d = a.shape[1]
        for r in ib where r.error == nil {
            let ra = try #require(ia.first { $0.path == r.path }?.row), rb = try #require(r.row)
            #expect(Array(a.values[ra * d ..< (ra + 1) * d]) == Array(b.values[rb * d ..< (rb + 1) * d]), "\(r.path)")
        }
        #expect(ib.filter { $0.error != nil }.map(\.path) == [dir + "/data/broken.png"])
    }

    @Test func shardsWrittenSeparatelyHoldEveryImageOnce() throws {
        let dir = try DatasetManifestTests.tempDir("shards")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try Self.dataset(dir, n: 8), lm = try Self.model()
        for s in 0 ..< 3 { _ = try Self.run(lm, items, out: dir + "/out", counting: Counting(), shard: Shard(index: s, count: 3)) }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        var paths: [String] = [], rows = 0
        for name in names where name.hasSuffix(".index.jsonl") {
            let records = try DatasetStore.records(dir + "/out/" + name)
            paths += records.map(\.path)
            let array = dir + "/out/" + name.dropLast(".index.jsonl".count) + ".embeddings.npy"
            if FileManager.default.fileExists(atPath: array) { rows += try NPY.header(array).shape[0] }
            #expect(records.filter { $0.error == nil }.compactMap(\.row) == Array(0 ..< records.filter { $0.error == nil }.count))
        }
        #expect(paths.sorted() == items.map(\.path).sorted() && rows == 8)
    }

    @Test func gradcamExplainsEachImagesTargetAndRecordsAnOutOfRangeOne() throws {
        let dir = try DatasetManifestTests.tempDir("gradcam")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try Self.dataset(dir, n: 3).map(\.path).filter { !$0.hasSuffix("broken.png") }
        let items = [ManifestItem(path: paths[0], target: ItemTarget("class:3", origin: "m.jsonl: line 1")),
                     ManifestItem(path: paths[1], target: ItemTarget("class:50", origin: "m.jsonl: line 2")), ManifestItem(path: paths[2])]
        let lm = try Self.model()                                       // 10 classes
        var o = DatasetOptions()
        o.out = dir + "/out"
        o.figures = true
        var lines: [DatasetRecord] = []
        let work = try DatasetWork.gradcam(lm, options: GradCAMOptions(), dataset: o)
        let summary = try DatasetRun.run(lm, items: items, work: work, options: o, emit: { lines.append($0) })
        #expect(summary.processed == 2 && summary.failed == 1)
        #expect(lines[0].target == 3 && lines[0].givenTarget == "class:3")
        #expect(lines[1].error == "m.jsonl: line 2: target 'class:50': class index 50 is out of range: the model has 10 classes (0…9)",
                "\(lines[1])")
        #expect(lines[2].target != nil && lines[2].target == lines[2].top?.first?.index)      // the top class by default
        // The stored map is the library's Grad-CAM of that image alone, for its class, bit for bit.
        let maps = try NPY.read(dir + "/out/" + (try FileManager.default.contentsOfDirectory(atPath: dir + "/out").first { $0.hasSuffix(".maps.npy") }!))
        let image = try ImageBatch.prepare([paths[0]], lm.preprocessing).images
        let reference = try CAM.compute(try CAMMethod.named("gradcam"), graph: lm.model.inference(keeping: [lm.model.architecture.camLayer]),
                                        input: ImageBatch.tensor(image), layers: [lm.model.architecture.camLayer], classes: [3])
        #expect(maps.shape == [2] + Array(reference.maps.shape.dropFirst()))
        #expect(Array(maps.values[0 ..< reference.maps.count]) == reference.maps.data)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/out/figures").filter { $0.hasSuffix("_gradcam.png") }.count == 2)
    }

    @Test func concatenatingRowRangesMatchesSlicingTheArrays() throws {
        let dir = try DatasetManifestTests.tempDir("npy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = TensorData(shape: [4, 2, 3], values: (0 ..< 24).map(Float.init))
        let b = TensorData(shape: [2, 2, 3], values: (100 ..< 112).map(Float.init))
        try NPY.write(a, to: dir + "/a.npy")
        try NPY.write(b, to: dir + "/b.npy")
        let shape = try NPY.concatenate([(dir + "/a.npy", 1 ..< 3), (dir + "/b.npy", 0 ..< 2), (dir + "/a.npy", 3 ..< 4)], to: dir + "/c.npy")
        let c = try NPY.read(dir + "/c.npy")
        #expect(shape == [5, 2, 3] && c.shape == [5, 2, 3])
        #expect(c.values == Array(a.values[6 ..< 18]) + b.values + Array(a.values[18 ..< 24]))
        #expect(throws: (any Error).self) { try NPY.concatenate([(dir + "/a.npy", 3 ..< 5)], to: dir + "/d.npy") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/d.npy"))
    }
}
