import Foundation
import Testing

/// ONNX files whose graph ConvLens cannot run: one line on stderr naming the file, the node and the problem, exit 1,
/// nothing written. The files are Tests/Fixtures/onnx/hostile/*.onnx, made by Scripts/make_onnx_hostile_fixtures.py.
@Suite struct HostileONNXTests {
    static let chelsea = CLI.path("Samples/chelsea.png")
    static func model(_ name: String) -> String { CLI.path("Tests/Fixtures/onnx/hostile/\(name).onnx") }

    @Test("a graph ConvLens cannot run is refused in one line", arguments: [
        ("unsupported_op", ["node 'weird' (Det)", "op 'Det' is not supported", "ConvLens reads: Abs, Add"]),
        ("cycle", ["the graph has a cycle through node 'first' (Add)"]),
        ("undefined_input", ["node 'sum' (Add) reads 'nowhere', which no node, input or initializer defines"]),
        ("overflowing_shape", ["node 'fill' (ConstantOfShape)", "is too large"]),
        ("old_opset", ["opset 9"]),
        ("two_inputs", ["2 inputs ('x', 'x2')"]),
        ("grey_input", ["1 channel;", "RGB"]),
    ])
    func refused(_ c: (String, [String])) throws {
        let s = try Scratch()
        for command in [["classify", Self.chelsea], ["gradcam", Self.chelsea, "--out", s.out + "/g.png"], ["layers"]] {
            let outcome = try convlens(command + ["--model", Self.model(c.0)])
            expectRefusal(outcome, code: 1, c.0 + ".onnx", scratch: s)
            for part in c.1 { #expect(outcome.lines.first?.contains(part) == true, "'\(outcome.lines.first ?? "")' lacks '\(part)'") }
        }
    }

    @Test func weightsBesideAnONNXFileAreBadUsage() throws {
        let outcome = try convlens(["classify", Self.chelsea, "--model", CLI.path("Tests/Fixtures/onnx/resnet50_legacy.onnx"),
                                    "--weights", CLI.weights + "/squeezenet1_1.safetensors"])
        expectRefusal(outcome, code: 2, "holds its own weights")
    }
}
