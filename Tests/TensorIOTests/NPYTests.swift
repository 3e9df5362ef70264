// numpy .npy against files np.save wrote in Scripts/make_tensorio_fixtures.py:
//
//   a = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2) / 4
//   np.save("f4_2x3.npy", a)
//   np.save("f4_scalar.npy", np.float32(-1.25))
//   np.save("f4_long.npy", np.arange(100000, 100003, dtype=np.float32))
//   np.save("f8.npy", np.arange(3, dtype=np.float64) / 3)
//   np.save("f2.npy", np.arange(4, dtype=np.float16) / 8)
//   np.save("i8.npy", np.array([-3, 0, 7], dtype=np.int64))
//   np.save("i4.npy", np.array([[1, -2]], dtype=np.int32))
//   np.save("u1.npy", np.array([0, 128, 255], dtype=np.uint8))
//   np.save("f4_big_endian.npy", np.array([1.5, -2], dtype=">f4"))
//   np.save("f4_fortran.npy", np.asfortranarray(a))
import Foundation
import Testing
@testable import TensorIO

@Test func encodesLikeNumpy() throws {
    let cases: [(String, TensorData)] = [
        ("f4_2x3.npy", TensorData(shape: [2, 3], values: arange(6).map { ($0 - 2) / 4 })),
        ("f4_scalar.npy", TensorData(shape: [], values: [-1.25])),
        ("f4_long.npy", TensorData(shape: [3], values: [100000, 100001, 100002])),
    ]
    for (name, t) in cases {
        let numpy = try FileBytes.read(fixture(name))
        let mine = NPY.encode(t)
        print("NPY.encode vs np.save \(name): \(mine.count) and \(numpy.count) bytes, identical: \(mine == numpy)")
        #expect(mine == numpy, "\(String(decoding: mine.prefix(128), as: UTF8.self))")
    }
}

@Test func decodesNumpyTypes() throws {
    expectTensor("<f4 (2, 3)", try NPY.read(fixture("f4_2x3.npy")), shape: [2, 3], values: arange(6).map { ($0 - 2) / 4 })
    expectTensor("<f4 scalar", try NPY.read(fixture("f4_scalar.npy")), shape: [], values: [-1.25])
    expectTensor("<f8", try NPY.read(fixture("f8.npy")), shape: [3], values: (0 ..< 3).map { Float(Double($0) / 3) })
    expectTensor("<f2", try NPY.read(fixture("f2.npy")), shape: [4], values: arange(4).map { $0 / 8 })
    expectTensor("<i8", try NPY.read(fixture("i8.npy")), shape: [3], values: [-3, 0, 7])
    expectTensor("<i4", try NPY.read(fixture("i4.npy")), shape: [1, 2], values: [1, -2])
    expectTensor("|u1", try NPY.read(fixture("u1.npy")), shape: [3], values: [0, 128, 255])
    expectTensor(">f4", try NPY.read(fixture("f4_big_endian.npy")), shape: [2], values: [1.5, -2])
    expectError("f4_fortran.npy", "Fortran order", "HINT: ", "ascontiguousarray") { try NPY.read(fixture("f4_fortran.npy")) }
    expectError("f4_2x3.npy", "is a single numpy array (.npy), not a weights file") { try WeightFile.load(fixture("f4_2x3.npy")) }
}

@Test func npyRoundTripAndHostileHeaders() throws {
    let path = FileManager.default.temporaryDirectory.path + "/tensorio-\(getpid()).npy"
    defer { unlink(path) }
    let t = TensorData(shape: [3, 1, 2], values: [1, -2, 3.25, 0, 1e-30, -7])
    try NPY.write(t, to: path)
    expectTensor("npy round trip", try NPY.read(path), shape: t.shape, values: t.values)
    var bytes = NPY.encode(t)
    expectError("cut.npy", "has shape [3, 1, 2] of <f4 but only 20 bytes of data") { try NPY.decode(Array(bytes.dropLast(4)), name: "cut.npy") }
    bytes[8] = 0xff
    bytes[9] = 0xff
    expectError("big.npy", "declares a 65535-byte .npy header") { try NPY.decode(bytes, name: "big.npy") }
    for n in 0 ..< 128 { _ = try? NPY.decode(Array(NPY.encode(t)[..<n]), name: "cut.npy") }
}
