import Engine
import Foundation
import TensorIO

/// Reference data made by Scripts/make_fixtures.py (PyTorch 2.13, pytorch-grad-cam 1.5.7, OpenCV) and committed
/// under Tests/Fixtures/.
public enum Fixture {
    /// The repository root, found from this file's path.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Tests/Fixtures/<name>.npy as a tensor.
    public static func load(_ name: String) throws -> Tensor {
        let t = try NPY.read(root + "/Tests/Fixtures/\(name).npy")
        return Tensor(shape: t.shape, data: t.values)
    }

    /// Any .npy file as a tensor.
    public static func loadPath(_ path: String) throws -> Tensor {
        let t = try NPY.read(path)
        return Tensor(shape: t.shape, data: t.values)
    }

    /// The installed SqueezeNet weights (setup makes them), or nil when setup has not run.
    public static var installedSqueezeNet: String? {
        let p = root + "/Weights/squeezenet1_1.safetensors"
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// Reads a weights file into engine tensors.
    public static func stateDict(_ path: String) throws -> [String: Tensor] {
        try WeightFile.load(path).tensors.mapValues { Tensor(shape: $0.shape, data: $0.values) }
    }
}

/// Compares two tensors and prints "TENSOR OK/BAD <label>: maxdiff D (tolerance T)", as llm.c's tests do.
/// - Returns: whether the largest absolute difference is within `tolerance`.
@discardableResult
public func compare(_ label: String, _ got: Tensor, _ expected: Tensor, tolerance: Float) -> Bool {
    guard got.count == expected.count else {
        print("TENSOR BAD \(label): \(got.shape) vs expected \(expected.shape)")
        return false
    }
    var d: Float = 0
    for i in 0 ..< got.count { d = max(d, abs(got.data[i] - expected.data[i])) }
    let ok = d <= tolerance
    print("TENSOR \(ok ? "OK" : "BAD") \(label): maxdiff \(d) (tolerance \(tolerance))")
    return ok
}
