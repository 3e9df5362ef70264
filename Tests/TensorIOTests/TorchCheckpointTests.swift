// Torch checkpoints, zip and legacy, against the state dict Scripts/make_tensorio_fixtures.py saves:
//
//   base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
//   shared = torch.arange(10, dtype=torch.float32) - 4.5
//   sd["conv.weight"] = (torch.arange(54, dtype=torch.float32).reshape(2, 3, 3, 3) - 27) / 16
//   sd["half"] = (torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4 - 0.5).half()
//   sd["bf16"] = (torch.arange(5, dtype=torch.float32) * 1.5 - 2).bfloat16()
//   sd["double"] = torch.arange(3, dtype=torch.float64) / 3
//   sd["transposed"] = base.t()                  # (6, 4), stride (1, 6)
//   sd["slice"] = base[1:3, 2:5]                 # (2, 3), storage offset 8
//   sd["shared_a"] = shared[:6]
//   sd["shared_b"] = shared[4:].view(2, 3)       # storage offset 4 of shared_a's storage
//   sd["param"] = torch.nn.Parameter(torch.tensor([[1.0, -2.0], [3.5, 0.25]]))
//   sd["bn.num_batches_tracked"] = torch.tensor(7)
//   torch.save({"state_dict": state_dict(), "epoch": 3, "arch": "tiny"}, "torch_zip.pth")
//   torch.save({"model": state_dict()}, "torch_legacy.pt", _use_new_zipfile_serialization=False)
import Testing
@testable import TensorIO

/// Checks every tensor of the fixture state dict.
func expectFixtureStateDict(_ sd: StateDict, _ label: String) {
    #expect(sd.names == ["conv.weight", "half", "bf16", "double", "transposed", "slice", "shared_a", "shared_b", "param",
                         "bn.num_batches_tracked"], "\(label) names: \(sd.names)")
    expectTensor("\(label) conv.weight", sd["conv.weight"], shape: [2, 3, 3, 3], values: arange(54).map { ($0 - 27) / 16 })
    expectTensor("\(label) half (float16)", sd["half"], shape: [2, 3], values: arange(6).map { $0 / 4 - 0.5 })
    expectTensor("\(label) bf16 (bfloat16)", sd["bf16"], shape: [5], values: arange(5).map { $0 * 1.5 - 2 })
    expectTensor("\(label) double (float64)", sd["double"], shape: [3], values: (0 ..< 3).map { Float(Double($0) / 3) })
    let base = arange(24).map { $0 / 8 }  // (4, 6)
    expectTensor("\(label) transposed", sd["transposed"], shape: [6, 4],
                 values: (0 ..< 6).flatMap { i in (0 ..< 4).map { j in base[j * 6 + i] } })
    expectTensor("\(label) slice", sd["slice"], shape: [2, 3],
                 values: (1 ..< 3).flatMap { i in (2 ..< 5).map { j in base[i * 6 + j] } })
    expectTensor("\(label) shared_a", sd["shared_a"], shape: [6], values: arange(6).map { $0 - 4.5 })
    expectTensor("\(label) shared_b", sd["shared_b"], shape: [2, 3], values: arange(6).map { $0 + 4 - 4.5 })
    expectTensor("\(label) param", sd["param"], shape: [2, 2], values: [1, -2, 3.5, 0.25])
    expectTensor("\(label) num_batches_tracked (int64)", sd["bn.num_batches_tracked"], shape: [], values: [7])
}

@Test func torchZipCheckpoint() throws {
    let sd = try WeightFile.load(fixture("torch_zip.pth"))
    #expect(sd.format == "torch-zip")
    #expect(sd.metadata["epoch"] == "3" && sd.metadata["arch"] == "tiny", "wrapper scalars: \(sd.metadata)")
    expectFixtureStateDict(sd, "torch-zip")
}

@Test func torchLegacyCheckpoint() throws {
    let sd = try WeightFile.load(fixture("torch_legacy.pt"))
    #expect(sd.format == "torch-legacy")
    expectFixtureStateDict(sd, "torch-legacy")
}

/// torch_legacy_view.pt: storage 'r' = np.arange(10) * 0.5, a view of elements 2..<8 (view_metadata ("v", 2, 6)),
/// and tensor w = elements 1..<5 of the view as (2, 2); the script checks torch.load gives [[1.5, 2], [2.5, 3]].
@Test func torchLegacyStorageView() throws {
    let sd = try WeightFile.load(fixture("torch_legacy_view.pt"))
    expectTensor("legacy view", sd["w"], shape: [2, 2], values: [1.5, 2, 2.5, 3])
}

/// deflated.pth and zip64.pth hold small.pth's entries (w = torch.arange(6) / 2), re-zipped with deflate and with
/// zip64 extra fields.
/// big_endian.pth: byteorder "big" and data/0 byte-swapped (the script checks torch.load reads it the same).
@Test func zipVariants() throws {
    for name in ["deflated.pth", "zip64.pth", "big_endian.pth"] {
        let sd = try WeightFile.load(fixture(name))
        expectTensor(name, sd["w"], shape: [6], values: arange(6).map { $0 / 2 })
    }
}

@Test func hostileZips() {
    expectError("truncated.pth", "truncated") { try WeightFile.load(fixture("truncated.pth")) }
    expectError("lying_size.pth", "small/data/0", "past the end") { try WeightFile.load(fixture("lying_size.pth")) }
    expectError("short_storage.pth", "tensor 'w' needs 6 float32 elements", "holds only 2") {
        try WeightFile.load(fixture("short_storage.pth"))
    }
    expectError("bomb.pth", "inflates past its declared 24 bytes") { try WeightFile.load(fixture("bomb.pth")) }
    expectError("bomb_ratio.pth", "zip bomb") { try WeightFile.load(fixture("bomb_ratio.pth")) }
    // A hard cap on inflated size, whatever the ratio: data.pkl inflates to 165 bytes.
    expectError("deflated.pth", "'small/data.pkl' would inflate to 165 bytes, over the 100 bytes limit") {
        try FileBytes.read(fixture("deflated.pth")).withUnsafeBytes { raw in
            let zip = try ZipArchive(raw, file: "deflated.pth", limits: Limits(maxBytes: 100))
            return try zip.contents(zip.entry("small/data.pkl")!)
        }
    }
    expectError("torch_zip.pth", "is 4009 bytes, over the 1000 bytes limit") { try WeightFile.load(fixture("torch_zip.pth"), limits: Limits(maxBytes: 1000)) }
    expectError("overlap.pth", "has entries 'small/data/0' and 'small/version' that overlap") { try WeightFile.load(fixture("overlap.pth")) }
    expectError("evil.pth", "pickle calls os.system, which is not allowed") { try WeightFile.load(fixture("evil.pth")) }
}

@Test func badMagicNumberHasHint() {
    expectError("bad_magic.pt", "bad magic number (long integer 0x1950a86a20f9469cfc6d)", "HINT: ") { try WeightFile.load(fixture("bad_magic.pt")) }
}

/// Every truncation of the checkpoints, and single-byte corruptions, must give an error or a result, never a crash.
@Test func truncatedAndCorruptedCheckpoints() throws {
    for name in ["torch_zip.pth", "torch_legacy.pt", "deflated.pth", "zip64.pth"] {
        let bytes = try FileBytes.read(fixture(name))
        var errors = 0
        for n in stride(from: 0, to: bytes.count, by: 7) {
            do { _ = try WeightFile.parse(Array(bytes[..<n]), name: name, limits: .default) } catch { errors += 1 }
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 300 {
            var b = bytes
            for _ in 0 ..< 3 { b[Int.random(in: 0 ..< b.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng) }
            _ = try? WeightFile.parse(b, name: name, limits: .default)
        }
        print("\(name): \(errors) of \((bytes.count + 6) / 7) truncations refused, 300 corruptions survived")
    }
}
