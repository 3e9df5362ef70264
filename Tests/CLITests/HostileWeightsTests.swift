// The catalogue of hostile and broken weights files, one case per test (parameterized families count one per
// argument): `convlens weights import FILE --arch squeezenet1_1 --out out/w.safetensors` must refuse each with exit 1,
// one line naming the file and the problem (and at most a HINT line), no output file, and modest memory.
import Foundation
import Testing
import TensorIO
import TestSupport

@Suite(.serialized) struct HostileWeightsTests {
    /// `convlens weights import <file> --arch squeezenet1_1 --out <scratch>/out/w.safetensors`.
    static func importWeights(_ file: String, _ s: Scratch, arch: String = "squeezenet1_1") throws -> Outcome {
        try convlens(["weights", "import", file, "--arch", arch, "--out", s.out + "/w.safetensors"])
    }

    /// A pickle that would run a command if it were loaded with Python's pickle.
    struct Evil: Sendable, CustomTestStringConvertible {
        let module: String, name: String, stackGlobal: Bool
        var testDescription: String { "\(stackGlobal ? "STACK_GLOBAL" : "GLOBAL") \(module).\(name)" }
    }

    @Test(arguments: [Evil(module: "os", name: "system", stackGlobal: false),
                      Evil(module: "builtins", name: "eval", stackGlobal: false),
                      Evil(module: "subprocess", name: "Popen", stackGlobal: false),
                      Evil(module: "os", name: "system", stackGlobal: true),
                      Evil(module: "builtins", name: "eval", stackGlobal: true),
                      Evil(module: "subprocess", name: "Popen", stackGlobal: true),
                      Evil(module: "posix", name: "system", stackGlobal: true),
                      Evil(module: "builtins", name: "__import__", stackGlobal: false)])
    func pickleCallingAForbiddenGlobal(_ evil: Evil) throws {
        let s = try Scratch()
        let marker = s.dir + "/pwned"
        var p = PickleWriter()
        if evil.stackGlobal { p.stackGlobal(evil.module, evil.name) } else { p.global(evil.module, evil.name) }
        switch evil.name {
        case "Popen": p.op(0x5d); p.string("touch"); p.op(0x61); p.string(marker); p.op(0x61)  // ["touch", marker]
        case "eval": p.string("__import__('os').system('touch \(marker)')")
        case "__import__": p.string("os")
        default: p.string("touch " + marker)
        }
        p.op(0x85, 0x52); p.stop()  // TUPLE1, REDUCE
        let file = s.write("weights.pkl", p.bytes)
        expectRefusal(try Self.importWeights(file, s), code: 1,
                      file + ": pickle calls \(evil.module).\(evil.name), which is not allowed", scratch: s)
        #expect(!FileManager.default.fileExists(atPath: marker), "the pickle's command ran")
    }

    /// 200,000 levels of nesting, built four ways; refused at depth 1000, without recursion, so no stack overflow.
    @Test(arguments: ["MARK", "TUPLE1", "list", "dict"])
    func pickleNested200000Deep(_ how: String) throws {
        let s = try Scratch()
        let n = 200_000
        var p = PickleWriter()
        switch how {
        case "MARK": p.op(0x80, 0x03); for _ in 0 ..< n { p.op(0x28) }; for _ in 0 ..< n { p.op(0x74) }  // ((((...))))
        case "TUPLE1": p.op(0x29); for _ in 0 ..< n { p.op(0x85) }  // ((((),),),)
        case "list": for _ in 0 ..< n { p.op(0x5d) }; for _ in 0 ..< n - 1 { p.op(0x61) }  // [[[...]]] by APPEND
        default: p.op(0x7d); for _ in 0 ..< n { p.op(0x55, 1, 0x6b, 0x7d) }; for _ in 0 ..< n { p.op(0x73) }  // {'k': {'k': ...}}
        }
        p.stop()
        let file = s.write("nested.pkl", p.bytes)
        let outcome = try Self.importWeights(file, s)
        expectRefusal(outcome, code: 1, file + ": pickle nests", "more than 1000 deep", scratch: s)
    }

    /// One float32 tensor 'w' of 6 elements, torch.save's layout, with its storage entry as given.
    static func checkpoint(storage: ZipMember, shape: [Int] = [6]) -> [UInt8] {
        var p = PickleWriter()
        p.global("collections", "OrderedDict"); p.op(0x29, 0x52)
        p.string("w"); p.torchTensor(storage: "0", numel: shape.reduce(1, *), size: shape, stride: [1]); p.op(0x73); p.stop()
        return torchZip(pickle: p.bytes, storages: [storage])
    }

    static let six = floatBytes([0, 0.5, 1, 1.5, 2, 2.5])

    /// Zip entries whose sizes lie: a stored entry claiming 2 GB, a deflated one claiming less than it inflates to,
    /// and one claiming more.
    @Test(arguments: ["stored, claims 2 GB", "deflated, claims too little", "deflated, claims too much"])
    func zipEntryLyingAboutItsSize(_ lie: String) throws {
        let s = try Scratch()
        let (member, problem): (ZipMember, String) = switch lie {
        case "stored, claims 2 GB":
            (ZipMember("0", Self.six, claimedSize: 0x7FFF_FFF0), "stored entry 'archive/data/0' claims 2147483632 bytes but holds 24; its header lies")
        case "deflated, claims too little":
            (ZipMember("0", Self.six + [UInt8](repeating: 0, count: 4096), deflate: true, claimedSize: 24),
             "entry 'archive/data/0' inflates past its declared 24 bytes")
        default:
            (ZipMember("0", Self.six, deflate: true, claimedSize: 48), "entry 'archive/data/0' inflates to 24 bytes but declares 48")
        }
        let file = s.write("lying.pth", Self.checkpoint(storage: member))
        expectRefusal(try Self.importWeights(file, s), code: 1, file + ": " + problem, scratch: s)
    }

    /// Zip bombs posing as a .pth: 1 GiB of zeros deflated to about 1 MB. Refused from the headers, before
    /// inflating: once when the tensors declare 24 bytes (more than 4x what they use), once when a tensor honestly
    /// declares the whole GiB (more than 32x the file).
    @Test(arguments: ["tensors declare 24 bytes", "a tensor declares 1 GiB"])
    func zipBomb(_ kind: String) throws {
        let s = try Scratch()
        let zeros = ZipMember.deflatedZeros("0", count: 1 << 30)
        let honest = kind == "a tensor declares 1 GiB"
        let file = s.write("resnet18.pth", Self.checkpoint(storage: zeros, shape: [honest ? 1 << 28 : 6]))
        let outcome = try Self.importWeights(file, s)
        expectRefusal(outcome, code: 1, file + ": ", honest ? "tensors expand past 268.4 MB of Float32 at 'w', too much for a file of 1.0 MB"
                                                          : "entry 'archive/data/0' would inflate to 1.1 GB, but its tensors use 24 bytes",
                      scratch: s)
        #expect(outcome.peakBytes < 200 << 20, "took \(outcome.peakBytes >> 20) MB to refuse a \(zeros.stored.count >> 10) KB bomb")
        print("zip bomb of \(zeros.stored.count >> 10) KB refused with a peak of \(outcome.peakBytes >> 20) MB")
    }

    /// safetensors headers that lie about the file: longer than it, tensors sharing bytes, offsets past its end,
    /// negative or reversed.
    @Test(arguments: ["header longer than the file", "overlapping offsets", "offsets past the end", "negative offset",
                      "reversed offsets"])
    func safetensorsLies(_ lie: String) throws {
        let s = try Scratch()
        let data = floatBytes([Float](repeating: 1, count: 6))
        func tensor(_ name: String, _ begin: Int, _ end: Int) -> String {
            "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(max(end - begin, 0) / 4)],\"data_offsets\":[\(begin),\(end)]}"
        }
        let (bytes, problem): ([UInt8], String) = switch lie {
        case "header longer than the file":
            (le64(1_000_000) + Array("{}".utf8), "declares a 1000000-byte safetensors header but the file is 10 bytes")
        case "overlapping offsets":
            (safetensorsFile(header: "{" + tensor("a", 0, 16) + "," + tensor("b", 8, 24) + "}", data: data),
             "tensors 'a' and 'b' overlap in the data section")
        case "offsets past the end":
            (safetensorsFile(header: "{" + tensor("a", 0, 4000) + "}", data: data),
             "tensor 'a' has data_offsets [0, 4000] outside the 24-byte data section")
        case "negative offset":
            (safetensorsFile(header: "{" + tensor("a", -8, 16) + "}", data: data), "tensor 'a' has data_offsets [-8, 16] outside")
        default:
            (safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[16,8]}}"#, data: data),
             "tensor 'a' has data_offsets [16, 8] outside")
        }
        let file = s.write("model.safetensors", bytes)
        expectRefusal(try Self.importWeights(file, s), code: 1, file + ": " + problem, scratch: s)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func tensorWithNaNOrInf(_ bad: Float) throws {
        let s = try Scratch()
        let header = #"{"conv1.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"conv1.weight":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#
        let file = s.write("diverged.safetensors", safetensorsFile(header: header, data: floatBytes([0, 1, 2, bad, 3, 4])))
        let outcome = try Self.importWeights(file, s)
        expectRefusal(outcome, code: 1, file + ": tensor 'conv1.weight' contains \(bad.isNaN ? "NaN" : "Inf")", scratch: s)
        #expect(outcome.lines.last?.hasPrefix("HINT: ") == true)
    }

    /// The installed SqueezeNet with conv1.weight cut to 32 filters; and the same weights offered as ResNet-18.
    @Test(.enabled(if: CLI.hasWeights), arguments: ["conv1 cut to 32 filters", "SqueezeNet weights as resnet18"])
    func shapesThatDoNotMatchTheArchitecture(_ kind: String) throws {
        let s = try Scratch()
        var dict = try Safetensors.read(CLI.weights + "/squeezenet1_1.safetensors")
        var arch = "squeezenet1_1", problem = "weights do not fit the model (wrong shapes: conv1.weight: file has [32, 3, 3, 3], model expects [64, 3, 3, 3])"
        if kind == "SqueezeNet weights as resnet18" {
            arch = "resnet18"
            problem = "weights do not fit the model (wrong shapes: conv1.weight: file has [64, 3, 3, 3], model expects [64, 3, 7, 7] "
                + "| missing keys: bn1.weight; bn1.bias;"
        } else {
            let w = dict["conv1.weight"]!
            dict.tensors["conv1.weight"] = TensorData(shape: [32, 3, 3, 3], values: Array(w.values[..<(32 * 27)]))
        }
        let file = s.dir + "/edited.safetensors"
        try Safetensors.write(dict, to: file)
        expectRefusal(try Self.importWeights(file, s, arch: arch), code: 1, file + ": " + problem, scratch: s)
    }
}
