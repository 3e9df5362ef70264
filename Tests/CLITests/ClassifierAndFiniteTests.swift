// Wrong results, caught before they are printed or written: a model without a classifier (a features-only backbone,
// or a head that did not fit and was skipped) refuses the commands that need class scores and runs the others; a
// NaN or infinity in any result is an error naming the layer where it first appears, and nothing is written.
import Engine
import Foundation
import Testing
import TensorIO
import TestSupport

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet and MobileNetV2"))
struct ClassifierAndFiniteTests {
    static let chelsea = CLI.path("Samples/chelsea.png")

    /// The installed SqueezeNet (Caffe layout) with some tensors replaced, written as safetensors into the scratch.
    static func squeezeNet(_ s: Scratch, _ name: String, _ edit: (inout [String: Tensor]) -> Void) throws -> String {
        var dict = try Fixture.stateDict(CLI.weights + "/squeezenet1_1.safetensors")
        edit(&dict)
        let path = s.dir + "/" + name
        try Safetensors.write(StateDict(names: dict.keys.sorted(), tensors: dict.mapValues { TensorData(shape: $0.shape, values: $0.data) },
                                        format: "safetensors", metadata: [:]), to: path)
        return path
    }

    /// The installed MobileNetV2 is features only (deep-sort layout): today's main printed "class 121, p = 0.010"
    /// from whatever the last layer held.
    @Test func classifyRefusesAFeaturesOnlyModel() throws {
        expectRefusal(try convlens(["classify", Self.chelsea, "--model", "mobilenet_v2"]), code: 2,
                      "error: classify needs a classifier", "mobilenet_v2 (deep-sort layout", "is features only")
    }

    @Test func gradcamRefusesAFeaturesOnlyModelButEigenCAMRuns() throws {
        let s = try Scratch()
        expectRefusal(try convlens(["gradcam", Self.chelsea, "--model", "mobilenet_v2", "--out", s.out + "/m.png"]), code: 2,
                      "error: gradcam --method gradcam needs a classifier", "gradcam --method eigencam work", scratch: s)
        expectRefusal(try convlens(["gradcam", Self.chelsea, "--model", "mobilenet_v2", "--method", "scorecam", "--out", s.out + "/m.png"]),
                      code: 2, "gradcam --method scorecam needs a classifier", scratch: s)
        // Eigen-CAM needs no class: it runs, and the JSON has no class, label or probability to invent.
        let ok = try convlens(["gradcam", Self.chelsea, "--model", "mobilenet_v2", "--method", "eigencam", "--out", s.out + "/e.png", "--json"])
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(s.outputs == ["e.png"])
        let doc = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any]
        let map = try #require((doc?["maps"] as? [[String: Any]])?.first)
        #expect(map["class"] == nil && map["probability"] == nil && map["label"] == nil, "\(map)")
        #expect(map["method"] as? String == "eigencam")
    }

    /// Pooled features need no classifier; labels fall back to file names, and logits are refused.
    @Test func correlateWorksOnPooledFeaturesOfAFeaturesOnlyModel() throws {
        let s = try Scratch()
        let coffee = CLI.path("Samples/coffee.png")
        let ok = try convlens(["correlate", Self.chelsea, coffee, "--model", "mobilenet_v2", "--out", s.out + "/c.png", "--json"])
        #expect(ok.code == 0, "\(ok.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any]
        let labels = (doc?["rows"] as? [[String: Any]])?.compactMap { $0["label"] as? String }
        #expect(labels == ["chelsea.png", "coffee.png"])
        #expect(doc?["feature"] as? String == "pooled features.18")
        try FileManager.default.removeItem(atPath: s.out + "/c.png")
        expectRefusal(try convlens(["correlate", Self.chelsea, coffee, "--model", "mobilenet_v2", "--feature", "logits", "--out", s.out + "/c.png"]),
                      code: 2, "correlate --feature logits needs a classifier", scratch: s)
    }

    /// A fine-tuned head of another shape (here a 10-class linear layer where SqueezeNet has conv10): every layer
    /// below it loads, with one note of what was skipped, and the commands that need the head say so. On today's main
    /// the whole file was refused ("weights do not fit the model").
    @Test func aHeadThatDoesNotFitIsSkippedWithANote() throws {
        let s = try Scratch()
        let weights = try Self.squeezeNet(s, "finetuned.safetensors") { d in
            d["conv10.weight"] = nil
            d["conv10.bias"] = nil
            d["conv10.fc.weight"] = Tensor(zeros: [10, 512])
            d["conv10.fc.bias"] = Tensor(zeros: [10])
        }
        let refused = try convlens(["classify", "--model", "squeezenet1_1", Self.chelsea, "--weights", weights])
        #expect(refused.code == 2, "\(refused.stderr)")
        #expect(refused.lines.count == 2 && refused.lines[0].hasPrefix("note: \(weights): the classifier does not fit squeezenet1_1"),
                "\(refused.stderr)")
        #expect(refused.lines.first?.contains("skipped 4 keys (conv10.bias, conv10.fc.bias, conv10.fc.weight, conv10.weight)") == true)
        #expect(refused.lines.last?.hasPrefix("error: classify needs a classifier, but the classifier in \(weights) does not fit") == true)
        // The features are the installed ones: the pooled fire9 embeddings match the intact model's.
        let a = try convlens(["correlate", "--model", "squeezenet1_1", Self.chelsea, CLI.path("Samples/coffee.png"), "--weights", weights, "--label-by", "file",
                              "--out", s.out + "/a.png", "--save-embeddings", s.out + "/a.npy"])
        let b = try convlens(["correlate", "--model", "squeezenet1_1", Self.chelsea, CLI.path("Samples/coffee.png"), "--label-by", "file",
                              "--out", s.out + "/b.png", "--save-embeddings", s.out + "/b.npy"])
        #expect(a.code == 0 && b.code == 0, "\(a.stderr) \(b.stderr)")
        #expect(a.lines.count == 1 && a.lines[0].hasPrefix("note: "), "one note line: \(a.stderr)")
        let ea = try NPY.read(s.out + "/a.npy"), eb = try NPY.read(s.out + "/b.npy")
        #expect(ea.shape == [2, 512] && ea.values == eb.values)
    }

    /// Finite but huge weights in fire5's squeeze convolution overflow Float32 there: today's main printed "-nan%" (or
    /// "nan%") and exited 0; `gradcam --json` wrote the figure and then failed.
    @Test func hugeWeightsNameTheLayerWhereNaNFirstAppearsAndWriteNothing() throws {
        let s = try Scratch()
        let weights = try Self.squeezeNet(s, "huge.safetensors") { d in
            d["fire5.squeeze1x1.weight"] = d["fire5.squeeze1x1.weight"].map { Tensor(shape: $0.shape, data: $0.data.map { $0 * 3e38 }) }
        }
        let layer = "the output of layer 'fire5.squeeze1x1'"
        expectRefusal(try convlens(["classify", "--model", "squeezenet1_1", Self.chelsea, "--weights", weights]), code: 1,
                      weights + ": the class probabilities of chelsea.png hold NaN or infinite values", layer, "nothing was written")
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--weights", weights, "--json", "--out", s.out + "/g.png", "--raw", s.out + "/g.npy"]),
                      code: 1, "the logits of chelsea.png hold NaN or infinite values", layer, scratch: s)
        expectRefusal(try convlens(["correlate", "--model", "squeezenet1_1", Self.chelsea, Self.chelsea, "--weights", weights, "--out", s.out + "/c.png"]),
                      code: 1, "the embeddings of chelsea.png hold NaN or infinite values", layer, scratch: s)
    }
}
