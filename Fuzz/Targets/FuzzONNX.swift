// Fuzz target: the ONNX reader (protobuf wire format, model, graph, node, attribute, tensor and value info
// decoding, the element conversions).
#if !FUZZING
@testable import TensorIO
#endif

/// Parses `data` as an ONNX model without a folder, so external data is refused and no file is touched; it may not
/// trap.
/// - Parameters:
///   - data: the bytes of a would-be ONNX file.
func fuzzONNX(_ data: UnsafeRawBufferPointer) {
    _ = try? ONNXModel.parse(data, directory: nil, source: "fuzz")
}
