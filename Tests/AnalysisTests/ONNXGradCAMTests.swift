import Analysis
import Engine
import Foundation
import Models
import Testing
import TestSupport

// Grad-CAM on imported ONNX models against pytorch-grad-cam 1.5.7 on the torch module they were exported from.
// Tests/Fixtures/onnx/<family>_gradcam.npy comes from Scripts/make_onnx_fixtures.py:
//
//     cam = GradCAM(model=model, target_layers=[model.get_submodule(layer)])
//     cam(input_tensor=x, targets=[ClassifierOutputTarget(k)])[0]      # (H, W), k the top class
//
// The manifest names the layer by its module path (e.g. "layer4"), which must select the same tensor in both
// exports. Issue 13 asks for Pearson ≥ 0.999 and max |difference| ≤ 1e-2.

@Suite struct ONNXGradCAMTests {
    static let folder = Fixture.root + "/Tests/Fixtures/onnx"
    // A JSON manifest parsed once and only read afterwards: immutable after initialisation, so sharing is safe.
    nonisolated(unsafe) static let families: [String: [String: Any]] = {
        let data = FileManager.default.contents(atPath: folder + "/manifest.json") ?? Data()
        let m = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return (m["families"] as? [String: [String: Any]]) ?? [:]
    }()
    static var cases: [String] { families.keys.sorted().flatMap { ["\($0) legacy", "\($0) dynamo"] } }

    @Test("Grad-CAM equals pytorch-grad-cam on the torch module", arguments: cases)
    func gradcamMatchesPytorchGradCAM(_ name: String) throws {
        let parts = name.split(separator: " ").map(String.init), (family, exporter) = (parts[0], parts[1])
        let f = Self.families[family]!
        let export = (f["exporters"] as! [String: Any])[exporter] as! [String: Any]
        let cam = f["gradcam"] as! [String: Any], layer = cam["layer"] as! String
        let x = try Fixture.loadPath(Self.folder + "/" + ((f["input"] as! [String: Any])["file"] as! String))
        var o = ONNXImport.Options()
        o.defaultInputSize = (x.shape[2], x.shape[3])
        let (model, _) = try Model.onnx(Self.folder + "/" + (export["file"] as! String), options: o)
        let r = try CAM.compute(.gradcam, graph: model.inference(keeping: [layer]), input: x, layers: [layer], classes: [f["class"] as? Int])
        let ref = try Fixture.loadPath(Self.folder + "/" + (cam["file"] as! String))
        let got = r.maps.data, want = ref.data
        #expect(got.count == want.count)
        let n = Float(got.count), mg = got.reduce(0, +) / n, mw = want.reduce(0, +) / n
        let cov = zip(got, want).reduce(0) { $0 + ($1.0 - mg) * ($1.1 - mw) }
        let pearson = cov / ((got.reduce(0) { $0 + ($1 - mg) * ($1 - mg) } * want.reduce(0) { $0 + ($1 - mw) * ($1 - mw) }).squareRoot() + 1e-12)
        let d = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
        print("CAM \(pearson >= 0.999 && d <= 1e-2 ? "OK" : "BAD") \(name) @ \(layer): pearson \(pearson), max abs \(d)")
        #expect(pearson >= 0.999 && d <= 1e-2, "\(name) @ \(layer): pearson \(pearson), max |difference| \(d)")
    }
}
