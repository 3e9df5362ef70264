// Weights files are read into memory, not mapped: a file that shrinks while it is read gives one line, and one
// that shrinks after it was read cannot touch the copy (a mapping would have raised SIGBUS on the next access).
import Foundation
import Testing
import TestSupport
@testable import TensorIO

/// A 1 MB safetensors file in a fresh directory, and its path.
func safetensorsOnDisk(_ name: String) throws -> (dir: String, path: String, values: [Float]) {
    let dir = NSTemporaryDirectory() + "read-boundary-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let values = (0 ..< 1 << 18).map { Float($0 % 1000) }
    let file = safetensorsFile(header: #"{"w":{"dtype":"F32","shape":[262144],"data_offsets":[0,1048576]}}"#, data: floatBytes(values))
    _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(file))
    return (dir, dir + "/" + name, values)
}

/// Truncated to nothing while its bytes are in use: on main the mapped pages vanished and reading them killed the
/// process with SIGBUS; the bytes are ours now, and the sum is the file's.
@Test func fileTruncatedAfterItWasReadLeavesTheBytesIntact() throws {
    let (dir, path, values) = try safetensorsOnDisk("w.safetensors")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let tail = try FileBytes.withContents(path) { bytes -> [UInt8] in
        #expect(truncate(path, 0) == 0)
        return Array(bytes.suffix(8))
    }
    #expect(tail == floatBytes(Array(values.suffix(2))))
}

/// Truncated to half after its first 64 KiB were read (what an overwriting copy or download does): one line.
@Test func fileThatShrinksWhileReadIsRefused() throws {
    let (dir, path, _) = try safetensorsOnDisk("w.safetensors")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    expectError(path + ": shrank from 1.0 MB to 524.3 KB while being read") {
        try FileBytes.withContents(path, checkHead: { _ in #expect(truncate(path, 1 << 19) == 0) }) { $0.count }
    }
}

/// A large file that is no weights file is refused from its head, before the rest is read.
@Test func nonWeightsAreRefusedFromTheirHead() throws {
    let (dir, path, _) = try safetensorsOnDisk("w.safetensors")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let text = dir + "/notes.pth"
    _ = FileManager.default.createFile(atPath: text, contents: Data(repeating: 0x61, count: 1 << 20))
    var readAll = false
    expectError(text + ": is not a recognised weights file (first bytes: 61 61") {
        try FileBytes.withContents(text, checkHead: { _ = try WeightFile.detect($0, name: text) }) { _ in readAll = true }
    }
    #expect(!readAll)
    #expect(try WeightFile.load(path)["w"]?.values.count == 1 << 18)
    expectError("/dev/zero: is a character device, not a regular file") { try WeightFile.load("/dev/zero") }
}
