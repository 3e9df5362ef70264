// Every input that once crashed a fuzz target (Fuzz/Regressions/<target>/), and every seed (Fuzz/Corpus/<target>/),
// run through the same target functions libFuzzer calls, inside `swift test`: a crash here is a regression. Under
// `swift test --sanitize=address` they also run with AddressSanitizer.
import Foundation
import Testing

/// The fuzz targets by directory name.
let fuzzTargets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
    "image": fuzzImage, "pickle": fuzzPickle, "zip": fuzzZip, "safetensors": fuzzSafetensors, "kernels": fuzzKernels, "onnx": fuzzONNX, "labels": fuzzLabels,
    "keras": fuzzKeras,
]

/// Fuzz/<kind>/<target>/*, sorted.
func fuzzInputs(_ kind: String, _ target: String) -> [String] {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("\(kind)/\(target)").path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
}

@Test(arguments: fuzzTargets.keys.sorted())
func regressionsStayFixed(_ target: String) {
    let inputs = fuzzInputs("Regressions", target)
    for path in inputs {
        let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        bytes.withUnsafeBytes { fuzzTargets[target]!($0) }
    }
    print("\(target): \(inputs.count) regression input(s) replayed without a crash")
}

@Test(arguments: fuzzTargets.keys.sorted())
func seedsRun(_ target: String) {
    let inputs = fuzzInputs("Corpus", target)
    #expect(!inputs.isEmpty, "\(target) has no seed corpus")
    for path in inputs {
        let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        bytes.withUnsafeBytes { fuzzTargets[target]!($0) }
    }
    print("\(target): \(inputs.count) seeds run without a crash")
}
