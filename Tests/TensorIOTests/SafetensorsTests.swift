// Safetensors against files written by Hugging Face's `safetensors` package in Scripts/make_tensorio_fixtures.py:
//
//   "f32": (torch.arange(6, dtype=torch.float32).reshape(2, 3) - 1) / 4,
//   "f16": (torch.arange(4, dtype=torch.float32) / 8).half(),
//   "bf16": (torch.arange(3, dtype=torch.float32) * 1.5 - 2).bfloat16(),
//   "f64": torch.arange(3, dtype=torch.float64) / 3,
//   "i64": torch.tensor([-3, 0, 7]),
//   "i32": torch.tensor([[1], [-2]], dtype=torch.int32),
//   save_torch(t, metadata={"format": "pt", "source": "make_tensorio_fixtures.py"})            # hf.safetensors
//   save_np({"a": np.ones(3, dtype=np.float32), "b": np.arange(6, dtype=np.float32).reshape(2, 3)},
//           metadata={"format": "pt"})                                                          # hf_f32.safetensors
import Foundation
import Testing
@testable import TensorIO

@Test func readsHuggingFaceSafetensors() throws {
    let sd = try WeightFile.load(fixture("hf.safetensors"))
    #expect(sd.format == "safetensors")
    #expect(sd.metadata == ["format": "pt", "source": "make_tensorio_fixtures.py"])
    print("names in file order: \(sd.names)")
    #expect(Set(sd.names) == ["f32", "f16", "bf16", "f64", "i64", "i32"])
    expectTensor("F32", sd["f32"], shape: [2, 3], values: arange(6).map { ($0 - 1) / 4 })
    expectTensor("F16", sd["f16"], shape: [4], values: arange(4).map { $0 / 8 })
    expectTensor("BF16", sd["bf16"], shape: [3], values: [-2, -0.5, 1])
    expectTensor("F64", sd["f64"], shape: [3], values: (0 ..< 3).map { Float(Double($0) / 3) })
    expectTensor("I64", sd["i64"], shape: [3], values: [-3, 0, 7])
    expectTensor("I32", sd["i32"], shape: [2, 1], values: [1, -2])
}

@Test func encodesLikeHuggingFace() throws {
    let hf = try FileBytes.read(fixture("hf_f32.safetensors"))
    let dict = StateDict(names: ["a", "b"], tensors: ["a": TensorData(shape: [3], values: [1, 1, 1]),
                                                      "b": TensorData(shape: [2, 3], values: arange(6))],
                         metadata: ["format": "pt"])
    let mine = try Safetensors.encode(dict)
    print("encode: \(mine.count) bytes, Hugging Face: \(hf.count) bytes, identical: \(mine == hf)")
    #expect(mine == hf)
}

@Test func roundTripsThroughAFile() throws {
    let dir = FileManager.default.temporaryDirectory.path
    let path = dir + "/tensorio-roundtrip-\(getpid()).safetensors"
    defer { unlink(path) }
    let t1 = TensorData(shape: [2, 1, 3], values: [0.1, -2, 3e-8, .greatestFiniteMagnitude, -0.0, 7])
    let t0 = TensorData(shape: [], values: [42])
    let empty = TensorData(shape: [0, 4], values: [])
    let dict = StateDict(names: ["layer1.0.conv1.weight", "scalar \"quoted\"", "empty"],
                         tensors: ["layer1.0.conv1.weight": t1, "scalar \"quoted\"": t0, "empty": empty],
                         metadata: ["note": "line\nbreak", "ünï": "cödé"])
    try Safetensors.write(dict, to: path)
    let back = try Safetensors.read(path)
    #expect(back.names == dict.names)
    #expect(back.metadata == dict.metadata)
    for name in dict.names { expectTensor("round trip '\(name)'", back[name], shape: dict[name]!.shape, values: dict[name]!.values) }
}

@Test func hostileSafetensors() {
    expectError("declares a 1000000000-byte safetensors header but the file is 16 bytes") {
        try WeightFile.load(fixture("st_header_too_long.safetensors"))
    }
    expectError("header that is not JSON (expected a key at byte 23)") { try WeightFile.load(fixture("st_not_json.safetensors")) }
    expectError("tensor 'a' has data_offsets [0, 4000] outside the 12-byte data section") {
        try WeightFile.load(fixture("st_out_of_range.safetensors"))
    }
    expectError("tensors 'a' and 'b' overlap") { try WeightFile.load(fixture("st_overlap.safetensors")) }
    expectError("tensor 'a' of shape [2, 3] and dtype F32 needs 24 bytes but data_offsets give 12") {
        try WeightFile.load(fixture("st_size_mismatch.safetensors"))
    }
    expectError("nan.safetensors: tensor 'conv1.weight' contains NaN") { try WeightFile.load(fixture("nan.safetensors")) }
    expectError("inf.safetensors: tensor 'fc.bias' contains Inf") { try WeightFile.load(fixture("inf.safetensors")) }
    // Safetensors.read itself keeps NaN: only WeightFile.load, the path to a model, refuses it.
    #expect((try? Safetensors.read(fixture("nan.safetensors")))?["conv1.weight"]?.values[1].isNaN == true)
    expectError("tensor 'x' has dtype F8_E4M3; supported: BF16") {
        let header = Array(#"{"x":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#.utf8)
        return try Safetensors.parse((0 ..< 8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header + [0], name: "f8.st")
    }
    expectError("header that is not JSON (nested more than 64 deep") {
        let header = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        return try Safetensors.parse((0 ..< 8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header, name: "deep.st")
    }
    expectError("is not a recognised weights file (first bytes: 0 1 2 3)") {
        try WeightFile.parse([0, 1, 2, 3], name: "junk.bin", limits: .default)
    }
}

/// Every truncation and random corruption of a safetensors file gives an error or a result, never a crash.
@Test func corruptedSafetensors() throws {
    let bytes = try FileBytes.read(fixture("hf.safetensors"))
    var refused = 0
    for n in 0 ..< bytes.count where (try? Safetensors.parse(Array(bytes[..<n]), name: "cut")) == nil { refused += 1 }
    for _ in 0 ..< 2000 {
        var b = bytes
        b[Int.random(in: 0 ..< 300)] = UInt8.random(in: 0 ... 255)  // mostly the header
        _ = try? Safetensors.parse(b, name: "corrupt")
    }
    print("hf.safetensors: \(refused) of \(bytes.count) truncations refused, 2000 corruptions survived")
    #expect(refused == bytes.count)
}
