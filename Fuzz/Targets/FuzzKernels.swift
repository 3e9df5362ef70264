// Fuzz target: the kernel file of `convlens activations --kernel` (its JSON, every key's range) and the plan of
// shapes and memory it makes for an image.
#if !FUZZING
@testable import TensorIO
#endif

/// Parses `data` as a kernel file and, when it parses, plans it for images of several shapes; neither may trap.
/// - Parameters:
///   - data: the bytes of a would-be kernel file.
func fuzzKernels(_ data: UnsafeRawBufferPointer) {
    guard let spec = try? KernelFile.parse(data, name: "fuzz") else { return }
    for (width, height) in [(1, 1), (451, 300), (100_000, 1), (3, 70_000), (Int.max, 2)] {
        let (w, h) = spec.resizedSize(width: width, height: height)
        _ = try? spec.plan(width: w, height: h, file: "fuzz")
    }
}
