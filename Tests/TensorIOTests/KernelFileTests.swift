// The kernel file of `convlens activations --kernel`: every key is checked against its range at parse time, and the
// plan of shapes and memory is made before anything is allocated. Before these checks a "size" of -3 trapped in the
// resize, a "pool" or "stride" of 0 divided by zero, and a 100000x1 strip asked for a 16000000x160 image.
import Foundation
import Testing
@testable import TensorIO

private func parse(_ text: String) throws -> KernelFile {
    try Array(text.utf8).withUnsafeBytes { try KernelFile.parse($0, name: "k.json") }
}

private let edge = #"{"name": "edge", "weights": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]}"#

/// A file with the edge kernel and `extra` keys after it.
private func file(_ extra: String = "", kernels: String = edge) -> String { #"{"kernels": [\#(kernels)]\#(extra)}"# }

/// Expects `body` to throw a TensorFileError naming k.json whose message contains every one of `parts`.
private func expectRefusal(_ text: String, _ parts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let spec = try parse(text)
        Issue.record("accepted \(text.prefix(120)): \(spec)", sourceLocation: sourceLocation)
    } catch let e as TensorFileError {
        print("refused: \(e.description.prefix(200))")
        #expect(e.file == "k.json", sourceLocation: sourceLocation)
        #expect(!e.message.contains("\n"), "more than one line: \(e.message)", sourceLocation: sourceLocation)
        for p in parts { #expect(e.message.contains(p), "'\(e.message)' lacks '\(p)'", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("threw \(error), not a TensorFileError", sourceLocation: sourceLocation)
    }
}

@Test(arguments: [
    (#", "size": -3"#, #""size" must be an integer from 8 to 1024, got -3"#),
    (#", "size": 0"#, #""size" must be an integer from 8 to 1024, got 0"#),
    (#", "size": 100000"#, "got 100000"),
    (#", "size": 1e400"#, "got a number out of range"),
    (#", "size": 160.5"#, "got 160.5"),
    (#", "size": "160""#, #"got the text "160""#),
    (#", "stride": 0"#, #""stride" must be an integer from 1 to 16, got 0"#),
    (#", "stride": -1"#, #""stride" must be an integer from 1 to 16, got -1"#),
    (#", "stride": 17"#, "got 17"),
    (#", "padding": -1"#, #""padding" must be an integer from 0 to 32, "same" or "valid", got -1"#),
    (#", "padding": 100000"#, "got 100000"),
    (#", "padding": "full""#, #"got the text "full""#),
    (#", "padding": ["same", "valid", 0, 1, 2]"#, #""padding" lists 1 to 4 paddings"#),
    (#", "padding": ["same", "same"]"#, #""padding" lists SAME twice"#),
    (#", "pool": 0"#, #""pool" must be an integer from 1 to 16, got 0"#),
    (#", "pool": 100000"#, #""pool" must be an integer from 1 to 16, got 100000"#),
    (#", "pooling": "min""#, #""pooling" must be one of "max", "average", "depth_max", "global_average""#),
    (#", "pooling": ["max", "max"]"#, #""pooling" lists "max" twice"#),
    (#", "depth_pool": 0"#, #""depth_pool" must be an integer from 1 to 32, got 0"#),
    (#", "depth_pool": 3"#, #""depth_pool" 3 does not divide the 1 kernels"#),
    (#", "transpose": "yes""#, #""transpose" must be true or false"#),
    (#", "sise": 160"#, #"has an unknown key "sise"; the keys are kernels, title, size, stride, padding"#),
    (#", "size": 160, "size": 161"#, #"has the key "size" twice"#),
    (#", "title": 7"#, #""title" must be text, got 7"#),
    (#", "ti\u001btle": 1"#, #"unknown key "ti\u{1B}tle""#),
])
func refusesOutOfRangeKeys(_ extra: String, _ message: String) {
    expectRefusal(file(extra), message)
}

@Test func refusesBadKernels() {
    expectRefusal(#"{"title": "x"}"#, #"has no "kernels" key"#)
    expectRefusal(#"[1, 2]"#, "is not a kernel file: it holds an array of 2, not a JSON object")
    expectRefusal(#"{"kernels": [1, 2"#, "is not JSON (unexpected end")
    expectRefusal(file(kernels: ""), #""kernels" must list 1 to 32 kernels, got 0"#)
    expectRefusal(file(kernels: Array(repeating: edge, count: 33).joined(separator: ",")), "got 33")
    expectRefusal(file(kernels: #"{"weights": [[1, 2], [3]]}"#), "kernels[0].weights row [1] is not 2 numbers (kernels are square)")
    expectRefusal(file(kernels: #"{"weights": [[1, 2, 3], [4, 5, 6]]}"#), "kernels[0].weights row [0] is not 2 numbers")
    expectRefusal(file(kernels: #"{"weights": [[[1]], [[2]]]}"#), "has 2 planes; colour kernels have 3 (R, G, B)")
    expectRefusal(file(kernels: #"{"weights": [[1, "a"], [3, 4]]}"#), #"holds the text "a", not a number"#)
    expectRefusal(file(kernels: #"{"weights": [[1e999]]}"#), "not a number with |w| <= 1e6")
    expectRefusal(file(kernels: #"{"weights": [[2e6]]}"#), "not a number with |w| <= 1e6")
    expectRefusal(file(kernels: #"{"weights": []}"#), "kernels[0].weights must be a non-empty array, got an array of 0")
    let row = "[" + Array(repeating: "0", count: 32).joined(separator: ",") + "]"
    expectRefusal(file(kernels: #"{"weights": [\#(Array(repeating: row, count: 32).joined(separator: ","))]}"#),
                  "kernels[0].weights has 32 rows; weights are k x k numbers, or 3 x k x k for a colour image, k from 1 to 31")
    expectRefusal(file(kernels: edge + #", {"weights": [[1]]}"#), "kernels[1].weights is 1x1 but kernels[0].weights is 3x3")
    expectRefusal(file(kernels: edge + #", {"weights": [[[1]], [[1]], [[1]]]}"#), "is 3x1x1 but kernels[0].weights is 3x3")
    expectRefusal(file(kernels: #"{"weights": [[1]], "bias": "x"}"#), #"kernels[0].bias must be a number with |x| <= 1e6, got the text "x""#)
    expectRefusal(file(kernels: #"{"weights": [[1]], "wieghts": 1}"#), #"kernels[0] has an unknown key "wieghts"; the keys are name, weights, bias"#)
    expectRefusal(file(kernels: #"{"weights": [[1]], "name": "a\nb"}"#), #"kernels[0].name "a\nb" holds a control character"#)
    expectRefusal(file(kernels: "7"), "kernels[0] must be a JSON object, got 7")
}

/// A name of a million characters was fitted to its tile one character at a time (minutes); it is refused at once.
@Test func refusesLongTexts() {
    let long = String(repeating: "n", count: 1_000_000)
    expectRefusal(file(kernels: #"{"weights": [[1]], "name": "\#(long)"}"#), "kernels[0].name has 1000000 characters; at most 100 fit a figure")
    expectRefusal(file(#", "title": "\#(long)""#), #""title" has 1000000 characters; at most 200"#)
    expectRefusal(file(#", "title": "\#(String(repeating: "x", count: 3 << 20))""#), "a kernel file is at most 2.1 MB")
}

@Test func parsesEveryKey() throws {
    let spec = try parse(#"""
        {"title": "t", "size": 96, "stride": 2, "padding": ["same", "valid", 3], "transpose": true, "pool": 3,
         "pooling": ["global_average", "depth_max"], "depth_pool": 2,
         "kernels": [{"name": "a", "weights": [[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]], "bias": -0.5},
                     {"weights": [[[0, 0], [0, 0]], [[0, 0], [0, 0]], [[0, 0], [0, 1.5]]]}]}
        """#)
    #expect(spec.title == "t" && spec.size == 96 && spec.stride == 2 && spec.pool == 3 && spec.depthPool == 2 && spec.transpose)
    #expect(spec.paddings == [.same, .valid, .zeros(3)])
    #expect(spec.poolings == [.globalAverage, .depthMax])
    #expect(spec.channels == 3 && spec.kernelSize == 2)
    #expect(spec.kernels[0] == KernelFile.Kernel(name: "a", weights: (1 ... 12).map(Float.init), bias: -0.5))
    #expect(spec.kernels[1].name == "kernel 1" && spec.kernels[1].bias == 0 && spec.kernels[1].weights.last == 1.5)

    let defaults = try parse(file())
    #expect(defaults.size == 160 && defaults.stride == 1 && defaults.paddings == [.zeros(0)] && defaults.pool == 2)
    #expect(defaults.poolings == [.max] && defaults.depthPool == 1 && !defaults.transpose && defaults.title == nil)
    #expect(try parse(file(#", "pooling": []"#)).poolings.isEmpty)
    #expect(try parse(file(#", "size": 8.0"#)).size == 8)
}

/// The format's description names every key, every pooling kind and each range the parser enforces.
@Test func documentationNamesEveryKeyAndRange() {
    let doc = KernelFile.documentation
    for key in KernelFile.keys + KernelFile.kernelKeys { #expect(doc.contains(key), "documentation lacks \(key)") }
    for kind in KernelFile.Pooling.allCases { #expect(doc.contains("\"\(kind.rawValue)\""), "documentation lacks \(kind.rawValue)") }
    typealias B = KernelFile.Bounds
    for range in [B.size, B.stride, B.padding, B.pool, B.depthPool, B.kernels, B.kernelSize] {
        #expect(doc.contains("\(range.lowerBound) to \(range.upperBound)"), "documentation lacks the range \(range)")
    }
    #expect(doc.contains("at most \(B.nameLength) characters") && doc.contains("at most \(B.titleLength) characters"))
}

/// torchvision's Resize(size, max_size=4·size): new_long = int(size·long/short), and past max_size
/// new_short = int(max_size·size/new_long), new_long = max_size (torchvision/transforms/functional.py,
/// _compute_resized_output_size), with the short side kept at 1 or more.
@Test func resizedSizeCapsTheLongerSide() throws {
    let spec = try parse(file())
    #expect(spec.resizedSize(width: 640, height: 427) == (239, 160))      // int(160 * 640 / 427) = int(239.81)
    #expect(spec.resizedSize(width: 451, height: 300) == (240, 160))
    #expect(spec.resizedSize(width: 160, height: 160) == (160, 160))
    #expect(spec.resizedSize(width: 700, height: 100) == (640, 91))       // 1120 > 640: int(640 * 160 / 1120) = 91
    #expect(spec.resizedSize(width: 100_000, height: 1) == (640, 1))      // int(640 * 160 / 16000000) = 0, kept at 1
    #expect(spec.resizedSize(width: 1, height: 100_000) == (1, 640))
    #expect(spec.resizedSize(width: Int.max, height: 1) == (640, 1))
}

/// TensorFlow's SAME (tf.nn.convolution docs): out = ceil(n / s), pad_total = max((out − 1)·s + k − n, 0), the
/// smaller half on top. The transposed sizes are PyTorch's ConvTranspose2d ((n − 1)·s + k − 2p) and Keras's
/// Conv2DTranspose with "same" (n·s).
@Test func axesFollowTensorFlowAndPyTorch() throws {
    func axis(_ n: Int, k: Int, s: Int, _ p: KernelFile.Padding, transpose: Bool = false) throws -> KernelFile.Axis {
        let row = "[" + Array(repeating: "1", count: k).joined(separator: ",") + "]"
        let spec = try parse(file(#", "stride": \#(s), "transpose": \#(transpose)"#,
                                  kernels: #"{"weights": [\#(Array(repeating: row, count: k).joined(separator: ","))]}"#))
        return spec.axis(n, p)
    }
    // 13 with k 4, s 2: out 7, pad_total (7 − 1)·2 + 4 − 13 = 3: 1 before, 2 after.
    #expect(try axis(13, k: 4, s: 2, .same) == .init(before: 1, canvas: 16, output: 7))
    #expect(try axis(13, k: 4, s: 2, .valid) == .init(before: 0, canvas: 13, output: 5))
    #expect(try axis(13, k: 3, s: 1, .same) == .init(before: 1, canvas: 15, output: 13))
    #expect(try axis(13, k: 1, s: 5, .same) == .init(before: 0, canvas: 13, output: 3))
    #expect(try axis(13, k: 5, s: 3, .zeros(2)) == .init(before: 2, canvas: 17, output: 5))
    #expect(try axis(13, k: 3, s: 2, .same, transpose: true) == .init(before: 0, canvas: 27, output: 26))
    #expect(try axis(13, k: 4, s: 2, .same, transpose: true) == .init(before: 1, canvas: 28, output: 26))
    #expect(try axis(13, k: 2, s: 3, .same, transpose: true) == .init(before: 0, canvas: 38, output: 39))
    #expect(try axis(13, k: 3, s: 2, .zeros(1), transpose: true) == .init(before: 1, canvas: 27, output: 25))
}

@Test func planRefusesEmptyStagesAndTooMuchMemory() throws {
    func refusal(_ spec: KernelFile, _ w: Int, _ h: Int, _ parts: String...) {
        do {
            let plan = try spec.plan(width: w, height: h, file: "k.json")
            Issue.record("planned \(plan)")
        } catch let e as TensorFileError {
            print("refused: \(e)")
            for p in parts { #expect(e.description.contains(p), "'\(e)' lacks '\(p)'") }
        } catch { Issue.record("threw \(error)") }
    }
    // A 100000x1 strip is resized to 640x1: a 3x3 VALID convolution leaves nothing; SAME keeps 640x1, where a 2x2
    // pool does not fit but a global average does.
    let strip = try parse(file())
    let (w, h) = strip.resizedSize(width: 100_000, height: 1)
    refusal(strip, w, h, "the convolution of 3x3 kernels, stride 1, padding 0, leaves nothing of the 640x1 image")
    refusal(try parse(file(#", "padding": "same""#)), w, h, #""pool" 2 is larger than the 640x1 output of the convolution (SAME)"#)
    let plan = try parse(file(#", "padding": "same", "pooling": "global_average""#)).plan(width: w, height: h, file: "k.json")
    #expect(plan.columns[0].conv == [1, 1, 640] && plan.columns[0].pooled[0].shape == [1, 1, 1])

    // 32 colour 31x31 kernels on a 1536x1024 image: 18 GB of unfolded windows (3·31²·1536·1024 floats) alone.
    let row = "[" + Array(repeating: "0.5", count: 31).joined(separator: ",") + "]"
    let plane = "[" + Array(repeating: row, count: 31).joined(separator: ",") + "]"
    let big = try parse(file(#", "size": 1024, "padding": "same""#,
                             kernels: Array(repeating: #"{"weights": [\#(plane), \#(plane), \#(plane)]}"#, count: 32).joined(separator: ",")))
    refusal(big, 1536, 1024, "the demo would need", "for 32 3x31x31 kernels on a 1536x1024 image", "over its 536.9 MB limit",
            #"HINT: lower "size" (now 1024)"#)
    let transposed = try parse(file(#", "size": 1024, "stride": 16, "transpose": true"#))
    refusal(transposed, 1024, 1024, "over its 536.9 MB limit", #"or a smaller "stride""#)

    // The default demo on chelsea (451x300, resized to 240x160) takes under 3 MB.
    let chelsea = try parse(file())
    let small = try chelsea.plan(width: 240, height: 160, file: "k.json")
    print("default demo on a 240x160 image: \(small.bytes) bytes")
    #expect(small.columns[0].conv == [1, 158, 238] && small.columns[0].pooled[0].shape == [1, 79, 119])
    #expect(small.bytes < 3_000_000)
}

/// NPY.encodeRecord against np.save of the same structured scalar (Scripts/make_tensorio_fixtures.py would need numpy
/// with structured dtypes; the header below is what numpy 2.4 writes for it):
///   a = np.zeros((), dtype=[('conv', '<f4', (2, 3)), ('relu', '<f4', (2,)), ('x.y', '<f4', (1, 1, 1))])
@Test func recordHeaderIsNumpys() {
    let bytes = NPY.encodeRecord([("conv", TensorData(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])),
                                  ("relu", TensorData(shape: [2], values: [7, 8])), ("x.y", TensorData(shape: [1, 1, 1], values: [9]))])
    let header = "{'descr': [('conv', '<f4', (2, 3)), ('relu', '<f4', (2,)), ('x.y', '<f4', (1, 1, 1))], 'fortran_order': False, 'shape': (), }"
    #expect(bytes.count == 192 + 9 * 4)
    #expect(Array(bytes[0 ..< 10]) == [0x93] + Array("NUMPY".utf8) + [1, 0, 0xb6, 0x00])
    #expect(String(decoding: bytes[10 ..< 10 + header.utf8.count], as: UTF8.self) == header)
    #expect(bytes[191] == 0x0a && bytes[10 + header.utf8.count ..< 191].allSatisfy { $0 == 0x20 })
    let values = bytes[192...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    #expect(values == (1 ... 9).map(Float.init))
}
