import Foundation
import Testing
import Analysis
import ConvLens
import Engine
import Imaging
import Models
import Support
import TensorIO

/// `convlens patterns` as a library call on a narrow random SqueezeNet: filter lists, the usage errors a user sees,
/// and the files written.
@Suite struct PatternsJobTests {
    static func model() throws -> LoadedModel {
        try ModelStore.wrap(Model.random(try Zoo.layouts("squeezenet1_1")[0], classes: 10, seed: 3, widthDivisor: 8))
    }

    static func usageMessage(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as UsageError { return e.message } catch { return "not a usage error: \(error)" }
        return nil
    }

    @Test func filterListsReadRangesAndIndices() throws {
        #expect(try PatternsJob.parseFilters("0..3") == [0, 1, 2, 3])
        #expect(try PatternsJob.parseFilters("3,7,9") == [3, 7, 9])
        #expect(try PatternsJob.parseFilters("0..2,32") == [0, 1, 2, 32])
        #expect(try PatternsJob.parseFilters("4...5, 8-9") == [4, 5, 8, 9])
        for bad in ["", "a", "5..2", "1,,2", "-3", "0..x"] {
            #expect(Self.usageMessage { _ = try PatternsJob.parseFilters(bad) }?.contains("--filters") == true, "\(bad)")
        }
    }

    @Test func inputSpacesAreThePreprocessingPresets() {
        let pixels = (0 ..< 3 * 4 * 5).map { Float(($0 * 37) % 256) }                 // (3, 4, 5) RGB
        for p in Preprocessing.presets {
            let space = PatternsJob.inputSpace(p)
            let ours = space.fromPixels(Tensor(shape: [1, 3, 4, 5], data: pixels))
            let theirs = p.tensor(pixels: pixels, height: 4, width: 5)
            #expect(zip(ours.data, theirs).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "\(p.name)")
            let back = space.toPixels(ours).data, expected = p.pixels(theirs, height: 4, width: 5)
            #expect(zip(back, expected).allSatisfy { abs($0 - $1) <= 1e-3 }, "\(p.name) inverse")
        }
    }

    @Test func unknownLayersAndFiltersOutOfRangeAreUsageErrors() throws {
        let lm = try Self.model()
        var o = PatternsOptions()
        o.layers = ["fire44"]
        o.out = NSTemporaryDirectory() + "p.png"
        let unknown = Self.usageMessage { _ = try PatternsJob.run(lm, options: o) }
        #expect(unknown?.hasPrefix("unknown layer 'fire44'; did you mean 'fire4'") == true, "\(unknown ?? "no error")")
        #expect(unknown?.contains("Layers are: conv1, relu_conv1, pool1, fire2.squeeze1x1") == true)
        #expect(unknown?.contains("\n") == false)
        o.layers = ["fire4"]
        o.filters = [0, 40]                                         // fire4 has 256 / 8 = 32 channels here
        #expect(Self.usageMessage { _ = try PatternsJob.run(lm, options: o) } == "filter 40 is out of range: 'fire4' has 32 channels (0…31)")
        o.filters = [0]
        o.out = NSTemporaryDirectory() + "p.gif"
        #expect(Self.usageMessage { _ = try PatternsJob.run(lm, options: o) }?.hasSuffix("use a path ending in .png, .jpg, .svg or .pdf") == true)
        o.out = NSTemporaryDirectory() + "p.png"
        o.recipe = "lucid"
        o.filters = [0]
        #expect(Self.usageMessage { _ = try PatternsJob.run(lm, options: o) }?.hasPrefix("unknown recipe 'lucid'") == true)
    }

    @Test func everyArchitectureDrawsPatterns() throws {
        // (model, layer, the ReLUs the clear recipe passes through) on narrow random copies.
        let cases: [(String, String, Set<String>)] = [
            ("resnet18", "layer2.0", ["layer2.0"]), ("resnet50", "layer1", ["layer1.2"]), ("vgg16", "features.10", []),
            ("vgg16_bn", "features.16", ["features.16"]), ("alexnet", "features.4", ["features.4"]),
            ("mobilenet_v2", "features.6", []), ("mobilenet_v2", "features.0", ["features.0.2"]),
            ("squeezenet1_0", "features.4", ["features.4.expand1x1_activation", "features.4.expand3x3_activation"]),
        ]
        for (name, layer, relus) in cases {
            let lm = try ModelStore.wrap(Model.random(try Zoo.layouts(name)[0], classes: 10, seed: 1, widthDivisor: 16))
            let pre = try FilterPatterns.preActivation(lm.model.graph, layer)
            #expect(pre == relus, "\(name) \(layer)")
            var o = PatternsOptions()
            o.layers = [layer]
            o.filters = [0, 1]
            o.size = 64
            o.steps = 3
            o.out = NSTemporaryDirectory() + "convlens-patterns-\(getpid())-\(name).svg"
            defer { try? FileManager.default.removeItem(atPath: o.out!) }
            let r = try PatternsJob.run(lm, options: o)
            #expect(r.results[0].inputs.shape == [2, 3, 64, 64], "\(name)")
            #expect(r.results[0].inputs.data.allSatisfy { $0.isFinite }, "\(name)")
        }
    }

    @Test func writesTheFigureAndTheRawInputs() throws {
        let dir = NSTemporaryDirectory() + "convlens-patterns-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = PatternsOptions()
        o.layers = ["fire2", "fire3"]
        o.filters = [1, 4, 5]
        o.size = 32
        o.steps = 3
        o.out = dir + "/p.svg"
        o.raw = dir + "/p.npy"
        var calls = 0, last: FilterPatterns.Progress?
        let r = try PatternsJob.run(try Self.model(), options: o) { calls += 1; last = $0 }
        #expect(r.results.map(\.layer) == ["fire2", "fire3"] && r.results.allSatisfy { $0.filters == [1, 4, 5] })
        #expect(calls == 6 && last?.stepsDone == 18 && last?.stepsTotal == 18 && last?.filtersDone == 6 && last?.filtersTotal == 6)
        let raw = try NPY.read(dir + "/p.npy")
        #expect(raw.shape == [6, 3, 32, 32])
        #expect(raw.values == r.results.flatMap(\.inputs.data))
        let svg = try String(contentsOfFile: dir + "/p.svg", encoding: .utf8)
        #expect(svg.contains("<svg"))
    }
}
