import Foundation
import Testing
import TestSupport

/// The installed default, EfficientNet-Lite0, as a user meets it: no --model. Expected classes: ImageNet's espresso
/// (967) for coffee.png and a cat (281–285) for chelsea.png, the acceptance (SqueezeNet, the old default, gets
/// them too, with other probabilities); expected probabilities: the softmax of the reference package's logits on the
/// same crops, Tests/Fixtures/efficientnet/real/<photo>_logits.npy (Scripts/make_efficientnet_fixtures.py).
@Suite(.serialized) struct DefaultModelTests {
    static let installed = FileManager.default.fileExists(atPath: CLI.weights + "/efficientnet_lite0.safetensors")

    @Test(.enabled(if: installed, "needs Weights/efficientnet_lite0.safetensors (run the setup)"))
    func classifyWithoutAModelRunsEfficientNetLite0() throws {
        let r = try convlens(["classify", CLI.path("Samples/coffee.png"), CLI.path("Samples/chelsea.png"), "--top", "1", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let best = json.compactMap { ($0["top"] as? [[String: Any]])?.first }
        let top = best.compactMap { $0["index"] as? Int }, p = best.compactMap { ($0["probability"] as? NSNumber)?.doubleValue }
        print("default model: coffee.png -> \(top.first ?? -1), chelsea.png -> \(top.last ?? -1), probabilities \(p)")
        #expect(top.count == 2 && top[0] == 967, "coffee.png: \(top)")
        #expect(top.count == 2 && (281 ... 285).contains(top[1]), "chelsea.png: \(top)")
        for (i, photo) in ["coffee", "chelsea"].enumerated() where i < min(top.count, p.count) {
            let z = try Fixture.load("efficientnet/real/\(photo)_logits").data.map(Double.init)
            let m = z.max()!, sum = z.reduce(0) { $0 + exp($1 - m) }
            let want = exp(z[top[i]] - m) / sum
            #expect(abs(p[i] - want) <= 1e-3, "\(photo).png: p \(p[i]), the reference gives \(want)")
        }
    }

    /// `convlens layers` needs no weights; its total is the reference package's parameter count.
    @Test func layersOfTheDefaultModelCountTheReferenceTotal() throws {
        let r = try convlens(["layers"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("efficientnet_lite0 (efficientnet_lite_pytorch layout"), "\(r.stdout.prefix(80))")
        #expect(r.stdout.contains("total parameters: 4,652,008"))
    }
}
