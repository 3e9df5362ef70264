// Fuzz target: the safetensors parser and the JSON reader under it.
#if !FUZZING
@testable import TensorIO
#endif

/// Parses `data` as a safetensors file, and as a bare JSON text; neither may trap.
/// - Parameters:
///   - data: the bytes of a would-be safetensors file.
func fuzzSafetensors(_ data: UnsafeRawBufferPointer) {
    _ = try? Safetensors.parse(data, name: "fuzz", limits: .default)
    _ = JSON.parse(data)
}
