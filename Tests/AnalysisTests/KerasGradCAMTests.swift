import Analysis
import Engine
import Foundation
import Models
import Testing
import TestSupport

// Grad-CAM on imported Keras models against the same computation done through Keras on the torch backend.
// Tests/Fixtures/keras/<model>_gradcam.npy comes from Scripts/make_keras_fixtures.py:
//
//     A, Z = keras.Model(model.inputs, [model.get_layer(layer).output, model.outputs[0]])(torch.tensor(x))
//     g, = torch.autograd.grad(Z.reshape(-1)[k], A)                          # k: the top class; A (1, H, W, C)
//     cam = torch.relu((g.mean((1, 2), keepdim=True) * A).sum(-1))[None]
//     cam = F.interpolate(cam, size=(S, S), mode="bilinear", align_corners=False)[0, 0]; (cam - min) / (max + 1e-7)
//
// Issue 15 asks for Pearson ≥ 0.999.

@Suite struct KerasGradCAMTests {
    static let folder = Fixture.root + "/Tests/Fixtures/keras"
    // A JSON manifest parsed once and only read afterwards: immutable after initialisation, so sharing is safe.
    nonisolated(unsafe) static let manifest: [String: [String: Any]] = {
        let data = FileManager.default.contents(atPath: folder + "/manifest.json") ?? Data()
        return (try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]) ?? [:]
    }()
    static var cases: [String] { manifest.keys.sorted().flatMap { ["\($0).keras", "\($0).h5"] } }

    @Test("Grad-CAM equals the same computation through Keras", arguments: cases)
    func gradcamMatchesKeras(_ file: String) throws {
        let m = Self.manifest[String(file.split(separator: ".")[0])]!
        let layer = m["camLayer"] as! String, size = m["size"] as! Int
        var o = KerasImport.Options()
        o.defaultInputSize = (size, size)
        let (model, _) = try Model.keras(Self.folder + "/" + file, options: o)
        let x = try Fixture.loadPath(Self.folder + "/" + (m["input"] as! String))
        let r = try CAM.compute(.gradcam, graph: model.inference(keeping: [layer]), input: x, layers: [layer], classes: [m["camClass"] as? Int])
        let want = try Fixture.loadPath(Self.folder + "/" + (m["gradcam"] as! String)).data, got = r.maps.data
        #expect(got.count == want.count)
        let n = Float(got.count), mg = got.reduce(0, +) / n, mw = want.reduce(0, +) / n
        let cov = zip(got, want).reduce(0) { $0 + ($1.0 - mg) * ($1.1 - mw) }
        let pearson = cov / ((got.reduce(0) { $0 + ($1 - mg) * ($1 - mg) } * want.reduce(0) { $0 + ($1 - mw) * ($1 - mw) }).squareRoot() + 1e-12)
        print("CAM \(pearson >= 0.999 ? "OK" : "BAD") \(file) @ \(layer): pearson \(pearson)")
        #expect(pearson >= 0.999, "\(file) @ \(layer): pearson \(pearson)")
    }
}
