// Fuzz target: Keras files (the HDF5 reader's superblocks, object headers, groups, layouts, chunks, attributes and
// global heaps; the .keras zip and its JSON config).
#if !FUZZING
@testable import TensorIO
#endif

/// Parses `data` as a Keras file (a .keras zip or an HDF5 .h5), and the same bytes as a bare HDF5 file; it may not
/// trap.
/// - Parameters:
///   - data: the bytes of a would-be Keras file.
func fuzzKeras(_ data: UnsafeRawBufferPointer) {
    _ = try? KerasFile.parse(data, source: "fuzz")
    _ = try? HDF5File.parse(data, source: "fuzz")
}
