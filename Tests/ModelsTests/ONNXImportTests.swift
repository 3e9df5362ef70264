import Engine
import Foundation
import Models
import TensorIO
import Testing
import TestSupport

// Imported ONNX models against onnxruntime and torch. The expected numbers are Tests/Fixtures/onnx/*, made by
// Scripts/make_onnx_fixtures.py (torch 2.13 CPU, onnxruntime 1.32) with these lines (abridged):
//
//     model = FAMILIES[family]().eval(); randomise(model, seed)            # BN statistics and affine parameters too
//     torch.onnx.export(model, (x,), f"{family}_legacy.onnx", dynamo=False, opset_version=17)
//     torch.onnx.export(model, (x,), f"{family}_dynamo.onnx", dynamo=True)  # opset 20, weights in a .data file
//     ort.InferenceSession(path).run(None, {input: x})[0]                  # <family>_<exporter>_logits.npy
//     # intermediates: the ONNX tensor of a module's output added as a graph output and run by onnxruntime
//     x.requires_grad_(True); z = model(x.double()); z[0, k].backward()   # <family>_inputgrad.npy, k the top class
//
// The manifest (manifest.json) names, per family, the input, the class, three module paths with the file of
// onnxruntime's value for each export, and the Grad-CAM layer. Logits and intermediates must match within
// 1e-4 × max|value|, the input gradient within 1e-3 relative, as issue 13 asks.

/// One family exported one way.
struct ONNXCase: Sendable, CustomTestStringConvertible {
    let family: String, exporter: String
    var testDescription: String { "\(family) (\(exporter))" }

    static let folder = Fixture.root + "/Tests/Fixtures/onnx"
    // A JSON manifest parsed once and only read afterwards: immutable after initialisation, so sharing is safe.
    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = FileManager.default.contents(atPath: folder + "/manifest.json") ?? Data()
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }()
    static var all: [ONNXCase] {
        let families = (manifest["families"] as? [String: Any] ?? [:]).keys.sorted()
        return families.flatMap { f in ["legacy", "dynamo"].map { ONNXCase(family: f, exporter: $0) } }
    }

    var entry: [String: Any] { (Self.manifest["families"] as! [String: Any])[family] as! [String: Any] }
    var export: [String: Any] { (entry["exporters"] as! [String: Any])[exporter] as! [String: Any] }
    var path: String { Self.folder + "/" + (export["file"] as! String) }
    func load(_ file: String) throws -> Tensor { try Fixture.loadPath(Self.folder + "/" + file) }
    var input: Tensor { get throws { try load((entry["input"] as! [String: Any])["file"] as! String) } }
}

@Suite struct ONNXImportTests {
    /// Largest |a − b| over the largest |b|.
    func relative(_ a: Tensor, _ b: Tensor) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a.data, b.data).map { abs($0 - $1) }.max()! / max(b.maxAbs, 1e-12)
    }

    @Test("logits and named intermediates equal onnxruntime's", arguments: ONNXCase.all)
    func forwardMatchesOnnxruntime(_ c: ONNXCase) throws {
        let x = try c.input
        let (model, _) = try Model.onnx(c.path, options: {
            var o = ONNXImport.Options(); o.defaultInputSize = (x.shape[2], x.shape[3]); return o }())
        #expect(model.inputShape == x.shape)
        for graph in [model.graph, model.inference()] {
            let acts = try graph.forward(x)
            let ref = try c.load(c.export["logits"] as! String)
            let e = relative(try acts.output("output"), ref)
            print("TENSOR \(e <= 1e-4 ? "OK" : "BAD") \(c.testDescription) logits: relative maxdiff \(e)")
            #expect(e <= 1e-4, "\(c.testDescription): logits differ from onnxruntime's by \(e) of their largest")
            for m in c.entry["intermediates"] as! [[String: Any]] {
                let module = m["module"] as! String
                guard let file = ((m["onnx"] as! [String: Any])[c.exporter] as? [String: Any])?["file"] as? String else { continue }
                guard graph === model.graph || (try? graph.index(of: module)) != nil else { continue }   // fused away
                let got = try acts.output(module)
                let e = relative(got, try load(c, file))
                print("TENSOR \(e <= 1e-4 ? "OK" : "BAD") \(c.testDescription) \(module): relative maxdiff \(e)")
                #expect(e <= 1e-4, "\(c.testDescription): '\(module)' differs from onnxruntime's by \(e) of its largest")
            }
        }
    }

    func load(_ c: ONNXCase, _ file: String) throws -> Tensor { try c.load(file) }

    @Test("the input gradient of the top logit equals torch autograd's", arguments: ONNXCase.all)
    func inputGradientMatchesTorch(_ c: ONNXCase) throws {
        let x = try c.input
        var o = ONNXImport.Options()
        o.defaultInputSize = (x.shape[2], x.shape[3])
        let (model, _) = try Model.onnx(c.path, options: o)
        let k = c.entry["class"] as! Int
        let acts = try model.graph.forward(x)
        var seed = Tensor(zeros: try acts.output("output").shape)
        seed.data[k] = 1
        let g = try model.graph.backward(acts, seed: seed, at: "output", to: ["input"])["input"]!
        let e = relative(g, try c.load(c.entry["inputgrad"] as! String))
        print("GRAD \(e <= 1e-3 ? "OK" : "BAD") \(c.testDescription) input gradient: relative maxdiff \(e)")
        #expect(e <= 1e-3, "\(c.testDescription): the input gradient differs from torch's by \(e) of its largest")
    }

    /// A graph imported at batch 1 runs any batch: each item of a batch of 3 (the input, its mirror image, its
    /// negative) gives what it gives alone, so Reshape and friends kept axis 0 as the batch.
    @Test("an imported graph runs batches item by item", arguments: ONNXCase.all)
    func batchesRunItemByItem(_ c: ONNXCase) throws {
        let x = try c.input                                             // (1, 3, H, W)
        var o = ONNXImport.Options()
        o.defaultInputSize = (x.shape[2], x.shape[3])
        let (model, _) = try Model.onnx(c.path, options: o)
        let w = x.shape[3]
        let mirrored = Tensor(shape: x.shape, data: x.data.indices.map { x.data[$0 - $0 % w + (w - 1 - $0 % w)] })
        let items = [x, mirrored, Tensor(shape: x.shape, data: x.data.map { -$0 })]
        let batch = try model.inference().forward(Tensor.batch(items)).output("output")
        for (i, item) in items.enumerated() {
            let alone = try model.inference().forward(item).output("output")
            let e = relative(batch.item(i), alone)
            #expect(e <= 1e-5, "\(c.testDescription): item \(i) of a batch differs from its own pass by \(e)")
        }
    }

    /// Both exports of the ResNet-50 fixture fuse as the built-in ResNets do: every ReLU goes into the convolution or
    /// residual sum before it, and the dynamo export's BatchNorms into their convolutions. The raw ONNX tensor
    /// names each node also answers to must not stop that; one asked for is kept, and still equals the unfused value.
    @Test("an imported ResNet fuses its BatchNorms and ReLUs", arguments: ["legacy", "dynamo"])
    func importedResNetFuses(_ exporter: String) throws {
        let c = ONNXCase(family: "resnet50", exporter: exporter)
        let x = try c.input
        var o = ONNXImport.Options()
        o.defaultInputSize = (x.shape[2], x.shape[3])
        let (model, _) = try Model.onnx(c.path, options: o)
        let kinds = model.inference().nodes.map(\.layer.kind)
        #expect(!kinds.contains("ReLU") && !kinds.contains("BatchNorm2d"), "\(exporter): \(Set(kinds).sorted())")
        #expect(model.graph.nodes.contains { $0.layer.kind == "ReLU" })
        let relus = Set(model.graph.nodes.filter { $0.layer.kind == "ReLU" }.map(\.name))
        let raw = try #require(model.graph.spellings.sorted().first { relus.contains(model.graph.aliases[$0] ?? "") })
        let kept = try model.inference(keeping: [raw]).forward(x).output(raw)
        #expect(relative(kept, try model.graph.forward(x).output(raw)) <= 1e-5)
    }
}
