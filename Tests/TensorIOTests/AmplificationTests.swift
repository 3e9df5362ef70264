// Files that are small on disk but ask a reader for far more: a deflated storage much larger than its tensors, one
// storage (or one numpy array) listed many times, a zero stride, memoized keys that make long names, and a shape
// whose zero dimension hides an overflowing product. Each must be refused (or read) without allocating what it asks.
import Testing
import TestSupport
@testable import TensorIO

/// A zip bomb posing as a .pth: data/0 deflates 64 MB of zeros (about 64 KB on disk, honestly declared) for a tensor
/// of 6 floats. Before the check, all 64 MB were inflated; now the declared size alone refuses it.
@Test func deflatedStorageFarLargerThanItsTensors() {
    var p = PickleWriter()
    p.global("collections", "OrderedDict"); p.op(0x29, 0x52)
    p.string("w"); p.torchTensor(storage: "0", numel: 6, size: [6], stride: [1]); p.op(0x73); p.stop()  // SETITEM
    let bomb = torchZip(pickle: p.bytes, storages: [ZipMember("0", [UInt8](repeating: 0, count: 64 << 20), deflate: true)])
    print("zip bomb: \(bomb.count) bytes on disk")
    expectError("entry 'archive/data/0' would inflate to 67.1 MB, but its tensors use 24 bytes; a zip bomb") {
        try WeightFile.parse(bomb, name: "bomb.pth", limits: .default)
    }
    // The same tensor with an honest deflated storage reads.
    let honest = torchZip(pickle: p.bytes, storages: [ZipMember("0", floatBytes([0, 1, 2, 3, 4, 5]), deflate: true)])
    expectTensor("deflated storage", try? WeightFile.parse(honest, name: "ok.pth", limits: .default)["w"],
                 shape: [6], values: [0, 1, 2, 3, 4, 5])
}

/// One stored storage of 1 M floats (4 MB) viewed by 80 tensors: 320 MB of Float32 from a 4 MB file.
@Test func oneStorageListedManyTimes() {
    var p = PickleWriter()
    p.global("collections", "OrderedDict"); p.op(0x29, 0x52); p.op(0x28)
    for i in 0 ..< 80 { p.string("t\(i)"); p.torchTensor(storage: "0", numel: 1 << 20, size: [1 << 20], stride: [1]) }
    p.op(0x75); p.stop()
    let file = torchZip(pickle: p.bytes, storages: [ZipMember("0", [UInt8](repeating: 0, count: 4 << 20))])
    expectError("tensors expand past 268.4 MB of Float32 at 't64', too much for a file of 4.2 MB") {
        try WeightFile.parse(file, name: "shared.pth", limits: .default)
    }
}

/// torch.zeros(1).expand(2**27): one float on disk, 512 MiB as Float32.
@Test func zeroStrideExpansion() {
    var p = PickleWriter()
    p.global("collections", "OrderedDict"); p.op(0x29, 0x52)
    p.string("e"); p.torchTensor(storage: "0", numel: 1, size: [1 << 27], stride: [0]); p.op(0x73); p.stop()
    let file = torchZip(pickle: p.bytes, storages: [ZipMember("0", floatBytes([1]))])
    expectError("tensors expand past 268.4 MB of Float32 at 'e'") { try WeightFile.parse(file, name: "expand.pth", limits: .default) }
}

/// An ndf pickle whose dict lists one memoized 1 M-float array under 80 names.
@Test func memoizedNumpyArrayListedManyTimes() {
    var p = PickleWriter()
    p.op(0x7d); p.op(0x28)  // EMPTY_DICT, MARK
    p.string("a0"); p.numpyArray(shape: [1 << 20], values: [Float](repeating: 0, count: 1 << 20)); p.put(1)
    for i in 1 ..< 80 { p.string("a\(i)"); p.get(1) }
    p.op(0x75); p.stop()
    expectError("tensors expand past 268.4 MB of Float32 at 'a64'") { try NDFPickle.parse(p.bytes, name: "memo.pkl") }
}

/// A chain of 100 dicts, each keyed by the same memoized 64 KB string, ending in 100 tensors: every name is 6.5 MB,
/// 650 MB of names from a file of 80 KB.
@Test func memoizedKeysMakeHugeNames() {
    let file = torchZip(pickle: nestedNames(depth: 100, keyLength: 1 << 16, leaves: 100),
                        storages: [ZipMember("0", floatBytes([1]))])
    expectError("tensor names add up to more than 67.1 MB") { try WeightFile.parse(file, name: "names.pth", limits: .default) }
}

/// {K: L2} with K a memoized 1 MB key, L2 = [L1] * 1000 and L1 = [[]] * 1000: a million empty lists, each visited
/// with a name of over 1 MB, so walking it once copied about a terabyte. No tensor anywhere.
@Test func memoizedKeyOverAContainerDAG() {
    var p = PickleWriter()
    p.op(0x7d); p.string(String(repeating: "k", count: 1 << 20))
    p.op(0x5d); p.put(0); p.op(0x30)  // L0 = [], memoized, popped
    for level in 1 ... 2 {
        p.op(0x5d, 0x28); for _ in 0 ..< 1000 { p.get(level - 1) }; p.op(0x65); p.put(level)  // [L(level-1)] * 1000
        if level < 2 { p.op(0x30) }
    }
    p.op(0x73); p.stop()
    let started = ContinuousClock.now
    expectError("names add up to more than 67.1 MB") {
        try p.bytes.withUnsafeBytes { raw in
            let u = Unpickler(data: raw, file: "dag.pkl", limits: .default)
            return try u.torchTensors(try u.load().value)
        }
    }
    #expect(ContinuousClock.now - started < .seconds(2))
}

/// {K: {K: ... {K: [t, t, ...]}}} with K one memoized string of `keyLength` bytes, `depth` dicts deep.
func nestedNames(depth: Int, keyLength: Int, leaves: Int) -> [UInt8] {
    var p = PickleWriter()
    p.string(String(repeating: "k", count: keyLength)); p.put(0); p.op(0x30)  // memoize K, POP
    for _ in 0 ..< depth { p.op(0x7d); p.get(0) }  // dict, key; the value follows
    p.op(0x5d, 0x28)  // EMPTY_LIST, MARK
    for _ in 0 ..< leaves { p.torchTensor(storage: "0", numel: 1, size: [1], stride: [1]) }
    p.op(0x65)  // APPENDS
    for _ in 0 ..< depth { p.op(0x73) }  // SETITEM, innermost first
    p.stop()
    return p.bytes
}

/// Shape (0, 2^40, 2^40): no elements, but the row-major strides overflowed and trapped.
@Test func zeroDimensionBesideHugeOnes() throws {
    let header = #"{"z":{"dtype":"F32","shape":[0,1099511627776,1099511627776],"data_offsets":[0,0]}}"#
    let sd = try Safetensors.parse(safetensorsFile(header: header), name: "zero.safetensors")
    #expect(sd["z"]?.shape == [0, 1 << 40, 1 << 40] && sd["z"]?.values.isEmpty == true)
    var p = PickleWriter()
    p.op(0x7d); p.string("z"); p.numpyArray(shape: [0, 1 << 40, 1 << 40], values: []); p.op(0x73); p.stop()
    #expect(try NDFPickle.parse(p.bytes, name: "zero.pkl")["z"]?.count == 0)
}
