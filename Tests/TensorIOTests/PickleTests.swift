// The restricted unpickler: refusing globals, bounding depth and lengths, and reading numpy arrays. The numpy
// fixtures come from Scripts/make_tensorio_fixtures.py:
//
//   k = (np.arange(3 * 3 * 2 * 4, dtype=np.float32).reshape(3, 3, 2, 4) - 36) / 8   # (kH, kW, I, O)
//   "conv1": [k, np.arange(4, dtype=np.float32) / 2],
//   "fire2/squeeze1x1": [np.asfortranarray(k.astype(np.float64) * 3), np.arange(4, dtype=np.float64) / 3],
//   "fc": [np.arange(6, dtype=np.float32).reshape(3, 2) - 2.5, np.array([1, -1], dtype="<f2")],   # (I, O)
//   "steps": np.array([5, -6], dtype="<i8"),
//   pickle.dump(numpy_dict(), f, protocol=protocol)   # ndf_p3.pkl, ndf_p4.pkl, ndf_p5.pkl
import Testing
@testable import TensorIO

/// k as (O, I, kH, kW): element [o][i][y][x] = k[y][x][i][o], k (kH, kW, I, O) = (arange(72) - 36) / 8.
func transposedKernel(scale: Float = 1) -> [Float] {
    var out: [Float] = []
    for o in 0 ..< 4 { for i in 0 ..< 2 { for y in 0 ..< 3 { for x in 0 ..< 3 {
        out.append((Float(((y * 3 + x) * 2 + i) * 4 + o) - 36) / 8 * scale)
    } } } }
    return out
}

@Test(arguments: ["ndf_p3.pkl", "ndf_p4.pkl", "ndf_p5.pkl"])
func numpyPickle(_ name: String) throws {
    let sd = try WeightFile.load(fixture(name))
    #expect(sd.format == "ndf-pickle")
    #expect(sd.names == ["conv1.weight", "conv1.bias", "fire2.squeeze1x1.weight", "fire2.squeeze1x1.bias", "fc.weight",
                         "fc.bias", "steps"], "\(sd.names)")
    expectTensor("\(name) conv1.weight (HWIO -> OIHW)", sd["conv1.weight"], shape: [4, 2, 3, 3], values: transposedKernel())
    expectTensor("\(name) conv1.bias", sd["conv1.bias"], shape: [4], values: arange(4).map { $0 / 2 })
    expectTensor("\(name) fire2 weight (f8, fortran order)", sd["fire2.squeeze1x1.weight"], shape: [4, 2, 3, 3],
                 values: transposedKernel(scale: 3))
    expectTensor("\(name) fire2 bias (f8)", sd["fire2.squeeze1x1.bias"], shape: [4], values: (0 ..< 4).map { Float(Double($0) / 3) })
    // fc: (I, O) = (3, 2) -> (O, I): [o][i] = i * 2 + o - 2.5
    expectTensor("\(name) fc.weight (I, O) -> (O, I)", sd["fc.weight"], shape: [2, 3], values: [-2.5, -0.5, 1.5, -1.5, 0.5, 2.5])
    expectTensor("\(name) fc.bias (f2)", sd["fc.bias"], shape: [2], values: [1, -1])
    expectTensor("\(name) steps (i8)", sd["steps"], shape: [2], values: [5, -6])
}

@Test func refusesGlobals() {
    expectError("evil.pkl: pickle calls os.system, which is not allowed (only numpy arrays and torch tensors are read)") {
        try WeightFile.load(fixture("evil.pkl"))
    }
    expectError("pickle calls os.system, which is not allowed") { try WeightFile.load(fixture("evil_stack_global.pkl")) }
    expectError("pickle calls builtins.eval, which is not allowed") { try WeightFile.load(fixture("evil_eval.pkl")) }
    expectError("pickle calls subprocess.Popen, which is not allowed") { try WeightFile.load(fixture("evil_popen.pkl")) }
    // A whole pickled model names its classes: the error says to save a state dict.
    let model: [UInt8] = [0x80, 0x02] + Array("ctorch.nn.modules.conv\nConv2d\n".utf8) + [0x29, 0x52, 0x2e]
    expectError("pickle calls torch.nn.modules.conv.Conv2d", "HINT: ", "state_dict") {
        try NDFPickle.parse(model, name: "model.pkl")
    }
}

/// Pickles built here, too big or too silly to commit.
@Test func boundsDepthAndLengths() {
    let n = 200_000
    let marks: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x28, count: n) + [UInt8](repeating: 0x74, count: n) + [0x2e]
    expectError("deep.pkl", "MARKs more than 1000 deep") { try NDFPickle.parse(marks, name: "deep.pkl") }
    let tuples: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: n) + [0x2e]  // ((((),),),) via TUPLE1
    expectError("deep.pkl", "nests containers more than 1000 deep") { try NDFPickle.parse(tuples, name: "deep.pkl") }
    let lists: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x5d, count: n) + [UInt8](repeating: 0x61, count: n - 1) + [0x2e]
    expectError("deep.pkl", "nests lists more than 1000 deep") { try NDFPickle.parse(lists, name: "deep.pkl") }
    // {"a": l} with l = [l], a list that contains itself: fine for the unpickler, refused when a state dict is walked.
    let cycle: [UInt8] = [0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x73, 0x2e]
    expectError("cycle.pkl", "nests more than 1000 deep (or contains itself)") {
        try cycle.withUnsafeBytes { raw in
            let u = Unpickler(data: raw, file: "cycle.pkl", limits: .default)
            return try u.torchTensors(try u.load().value)
        }
    }
    let stack: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x4e, count: 100) + [0x2e]
    expectError("stack.pkl", "stack grows past 50") { try NDFPickle.parse(stack, name: "stack.pkl", limits: Limits(maxStackSize: 50)) }
    let long: [UInt8] = [0x80, 0x04, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]  // BINBYTES8 of 2^63-1 bytes
    expectError("long.pkl", "declares 9223372036854775807 bytes of data but only 3 remain") { try NDFPickle.parse(long, name: "long.pkl") }
    expectError("op.pkl", "pickle opcode INST (0x69) is not supported", "offset 2") { try NDFPickle.parse([0x80, 0x02, 0x69], name: "op.pkl") }
    expectError("op.pkl", "unknown pickle opcode 0xff") { try NDFPickle.parse([0x80, 0x02, 0xff], name: "op.pkl") }
    expectError("memo.pkl", "memo entry 7, which was never stored") { try NDFPickle.parse([0x80, 0x02, 0x68, 7, 0x2e], name: "memo.pkl") }
    expectError("stop.pkl", "without a STOP") { try NDFPickle.parse([0x80, 0x02, 0x7d], name: "stop.pkl") }
    expectError("empty.pkl", "pops from an empty stack") { try NDFPickle.parse([0x80, 0x02, 0x2e], name: "empty.pkl") }
}

/// Every truncation and random corruption of the numpy pickles gives an error or a result, never a crash.
@Test func corruptedPickles() throws {
    for name in ["ndf_p3.pkl", "ndf_p4.pkl", "ndf_p5.pkl", "torch_legacy_view.pt"] {
        let bytes = try FileBytes.read(fixture(name))
        var refused = 0
        for n in 0 ..< bytes.count {
            if (try? WeightFile.parse(Array(bytes[..<n]), name: name, limits: .default)) == nil { refused += 1 }
        }
        for _ in 0 ..< 500 {
            var b = bytes
            for _ in 0 ..< 2 { b[Int.random(in: 0 ..< b.count)] = UInt8.random(in: 0 ... 255) }
            _ = try? WeightFile.parse(b, name: name, limits: .default)
        }
        print("\(name): \(refused) of \(bytes.count) truncations refused, 500 corruptions survived")
        #expect(refused == bytes.count)
    }
}

/// The half-to-float conversion against Swift's own Float16, for all 65536 bit patterns.
@Test func halfConversionIsExact() {
    var mismatches = 0
    for bits in 0 ... UInt16.max {
        let want = Float(Float16(bitPattern: bits)), got = floatFromHalfBits(bits)
        if !(got == want || (got.isNaN && want.isNaN)) || got.sign != want.sign { mismatches += 1 }
    }
    print("float16 -> float32: \(mismatches) of 65536 bit patterns differ from Swift's Float16")
    #expect(mismatches == 0)
}
