// `convlens activations IMAGE --kernel FILE.json` as a user runs it: a bad kernel file is one line naming the file,
// exit 1, nothing written; SAME padding, transposed convolutions and every pooling kind run, and `--raw` saves every
// stage as one numpy record whose numbers match Scripts/make_kernel_fixtures.py's numpy references. None of these
// cases needs a model's weights.
import Foundation
import Testing
import TestSupport

@Suite(.serialized)
struct KernelCommandTests {
    static let chelsea = CLI.path("Samples/chelsea.png")
    static let fixtures = CLI.path("Tests/Fixtures/kernels")
    static let edge = #"{"name": "edge", "weights": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]}"#

    /// Runs the kernel demo on `image` with a kernel file holding the edge kernel and `extra` keys.
    static func run(_ s: Scratch, _ extra: String, kernels: String = edge, image: String = chelsea, _ more: [String] = [],
                    timeout: Double = 120) throws -> (Outcome, String) {
        let file = s.write("k.json", Array(#"{"kernels": [\#(kernels)]\#(extra)}"#.utf8))
        // A bounded address space: a kernel file must not make the demo allocate without bound.
        let limit = FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") ? ["/usr/bin/prlimit", "--as=4000000000"] : []
        let outcome = try convlens(["activations", image, "--kernel", file, "--out", s.out + "/k.png"] + more, through: limit, timeout: timeout)
        return (outcome, file)
    }

    /// The acceptance cases of the hardening issue and their neighbours: each crashed (division by zero, a trap in
    /// the resize) or allocated without bound before the kernel file was validated.
    @Test(arguments: [
        (#", "size": -3"#, #""size" must be an integer from 8 to 1024, got -3"#),
        (#", "size": 0"#, #""size" must be an integer from 8 to 1024, got 0"#),
        (#", "stride": -1"#, #""stride" must be an integer from 1 to 16, got -1"#),
        (#", "stride": 0"#, #""stride" must be an integer from 1 to 16, got 0"#),
        (#", "pool": 100000"#, #""pool" must be an integer from 1 to 16, got 100000"#),
        (#", "pool": 0"#, #""pool" must be an integer from 1 to 16, got 0"#),
        (#", "padding": -1"#, #""padding" must be an integer from 0 to 32, "same" or "valid", got -1"#),
        (#", "padding": 100000"#, #""padding" must be an integer from 0 to 32"#),
        (#", "size": 1024, "stride": 16, "transpose": true"#, "over its 536.9 MB limit"),
        (#", "pooling": "min""#, #""pooling" must be one of "max", "average", "depth_max", "global_average""#),
        (#", "colour": true"#, #"has an unknown key "colour"; the keys are kernels, title"#),
    ])
    func badKernelFileIsOneLine(_ extra: String, _ message: String) throws {
        let s = try Scratch()
        let (outcome, file) = try Self.run(s, extra)
        expectRefusal(outcome, code: 1, "error: \(file): ", message, scratch: s)
        #expect(outcome.peakBytes < 1 << 30, "took \(outcome.peakBytes >> 20) MB")
    }

    /// A million-character name was fitted to its tile one character at a time, for minutes; it is refused at once.
    @Test func longNameIsRefusedAtOnce() throws {
        let s = try Scratch()
        let name = String(repeating: "n", count: 1_000_000)
        let (outcome, file) = try Self.run(s, "", kernels: #"{"name": "\#(name)", "weights": [[1]]}"#, timeout: 60)
        expectRefusal(outcome, code: 1, file + ": kernels[0].name has 1000000 characters; at most 100 fit a figure", scratch: s)
    }

    /// The longest names accepted, on the most kernels, still draw.
    @Test func longestNamesDraw() throws {
        let s = try Scratch()
        let kernels = (0 ..< 32).map { #"{"name": "\#(String(repeating: "w", count: 99))\#($0 % 10)", "weights": [[1]]}"# }
        let (outcome, _) = try Self.run(s, #", "size": 8, "pooling": []"#, kernels: kernels.joined(separator: ","))
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(s.outputs == ["k.png"])
    }

    /// A 100000x1 strip was resized to 16000000x160 before the kernels ran. Its longer side is now capped at 4 x size:
    /// VALID 3x3 kernels leave nothing of 640x1 (one line), SAME ones run.
    @Test func thinStripIsBounded() throws {
        let s = try Scratch()
        let strip = s.write("strip.png", pngFile(width: 100_000, height: 1, rows: [[0] + (0 ..< 300_000).map { UInt8($0 % 251) }]))
        let (refused, file) = try Self.run(s, "", image: strip)
        expectRefusal(refused, code: 1, file + ": the convolution of 3x3 kernels, stride 1, padding 0, leaves nothing of the 640x1 image",
                      scratch: s)
        let (ok, _) = try Self.run(s, #", "padding": "same", "pooling": "global_average""#, image: strip)
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(ok.peakBytes < 1 << 30, "took \(ok.peakBytes >> 20) MB")
    }

    @Test func sameAndValidRunSideBySide() throws {
        let s = try Scratch()
        let (outcome, _) = try Self.run(s, #", "padding": ["same", "valid"], "pooling": ["max", "average", "depth_max", "global_average"]"#)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(outcome.stdout == "wrote \(s.out)/k.png\n")
        #expect(s.outputs == ["k.png"])
    }

    /// `--raw` holds every stage; its numbers are the numpy references' (Scripts/make_kernel_fixtures.py).
    @Test(arguments: ["tf_same_valid_stride2", "transpose_stride2"])
    func rawStagesMatchNumpy(_ name: String) throws {
        let s = try Scratch()
        let outcome = try convlens(["activations", Self.fixtures + "/input.png", "--kernel", Self.fixtures + "/\(name).json",
                                    "--out", s.out + "/k.png", "--raw", s.out + "/k.npy"])
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(s.outputs == ["k.npy", "k.png"])
        let fields = try record(s.out + "/k.npy")
        let expected = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures + "/" + name).map { String($0.dropLast(4)) }
        #expect(Set(fields.map(\.name)) == Set(expected))
        for f in fields {
            let ref = try npyFloats(Self.fixtures + "/\(name)/\(f.name).npy")
            #expect(ref.count == f.values.count, "\(f.name): \(f.values.count) values vs \(ref.count)")
            let d = zip(f.values, ref).map { abs($0 - $1) }.max() ?? 0
            print("raw \(name) \(f.name) \(f.shape): maxdiff \(d)")
            #expect(d <= 2e-5, "\(f.name): maxdiff \(d)")
        }
    }

    @Test func rawAndOutNamingOneFileIsUsage() throws {
        let s = try Scratch()
        let (outcome, _) = try Self.run(s, "", [ "--raw", s.out + "/k.png"])
        expectRefusal(outcome, code: 2, "--out and --raw name the same file", scratch: s)
    }

    /// The raw file's directory is missing: refused before any work, and the figure is not written either.
    @Test func unwritableRawLeavesNoFigure() throws {
        let s = try Scratch()
        let (outcome, _) = try Self.run(s, "", ["--raw", s.out + "/missing/k.npy"])
        expectRefusal(outcome, code: 1, "output directory", scratch: s)
    }

    /// `convlens activations --help` documents the kernel file: every key, the pooling kinds and the ranges.
    @Test func helpDocumentsTheKernelFile() throws {
        let outcome = try convlens(["activations", "--help"])
        #expect(outcome.code == 0)
        for word in ["kernels", "weights", "name", "bias", "title", "size", "stride", "padding", "transpose", "pooling", "pool",
                     "depth_pool", "\"same\"", "\"valid\"", "\"max\"", "\"average\"", "\"depth_max\"", "\"global_average\"",
                     "8 to 1024", "1 to 16", "0 to 32", "1 to 31", "r[\"conv\"]"] {
            #expect(outcome.stdout.contains(word), "--help lacks \(word)")
        }
    }
}

/// The fields of a .npy structured scalar of float32 subarrays, as `--raw` writes it with --kernel.
private func record(_ path: String) throws -> [(name: String, shape: [Int], values: [Float])] {
    let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    try #require(bytes.count > 10 && bytes[0] == 0x93 && bytes[6] == 1, "\(path) is not a version 1 .npy file")
    let length = Int(bytes[8]) | Int(bytes[9]) << 8
    try #require(10 + length <= bytes.count, "\(path) is truncated")
    let header = String(decoding: bytes[10 ..< 10 + length], as: UTF8.self)
    #expect(header.contains("'fortran_order': False, 'shape': (), }"))
    var fields: [(name: String, shape: [Int], values: [Float])] = [], offset = 10 + length
    let pattern = try NSRegularExpression(pattern: #"\('([^']+)', '<f4', \(([0-9, ]*)\)\)"#)
    for m in pattern.matches(in: header, range: NSRange(header.startIndex..., in: header)) {
        let name = String(header[Range(m.range(at: 1), in: header)!])
        let shape = header[Range(m.range(at: 2), in: header)!].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let n = shape.reduce(1, *)
        try #require(offset + 4 * n <= bytes.count, "\(path) is truncated")
        let values = floats(bytes, from: offset, count: n)
        fields.append((name, shape, values))
        offset += 4 * n
    }
    #expect(offset == bytes.count, "the fields take \(offset) bytes of \(bytes.count)")
    return fields
}

/// The float32 values of a '<f4' .npy file written by numpy.
private func npyFloats(_ path: String) throws -> [Float] {
    let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    try #require(bytes.count >= 10 && 10 + (Int(bytes[8]) | Int(bytes[9]) << 8) <= bytes.count, "\(path) is not a .npy file")
    let start = 10 + (Int(bytes[8]) | Int(bytes[9]) << 8)
    return floats(bytes, from: start, count: (bytes.count - start) / 4)
}

/// `count` little-endian float32 values at byte `offset`.
private func floats(_ bytes: [UInt8], from offset: Int, count: Int) -> [Float] {
    bytes.withUnsafeBytes { raw in (0 ..< count).map { raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: Float.self) } }
}
