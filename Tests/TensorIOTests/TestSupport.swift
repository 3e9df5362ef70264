// Helpers shared by the TensorIO tests: fixture paths, labelled comparisons that print their largest difference,
// and expected errors.
import Foundation
import Testing
@testable import TensorIO

/// The path of a committed fixture written by Scripts/make_tensorio_fixtures.py.
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/" + name).path
}

/// Where real (uncommitted) weights files live: $CONVLENS_WEIGHTS_CACHE, else /tmp/dl.
func weightsCache() -> String {
    ProcessInfo.processInfo.environment["CONVLENS_WEIGHTS_CACHE"] ?? "/tmp/dl"
}

/// The first existing path among candidates, or nil (the test then says it skipped).
func existing(_ candidates: [String]) -> String? {
    candidates.first { FileManager.default.fileExists(atPath: $0) }
}

/// 0, 1, ..., n-1 as Float, like torch.arange(n, dtype=torch.float32).
func arange(_ n: Int) -> [Float] { (0 ..< n).map(Float.init) }

/// Compares a tensor with expected shape and values; prints "label OK, maxdiff" or the mismatch.
/// - Parameters:
///   - label: what is compared, for the printout.
///   - got: the tensor read.
///   - shape: the expected shape.
///   - values: the expected row-major values.
///   - tolerance: the largest absolute difference accepted.
func expectTensor(_ label: String, _ got: TensorData?, shape: [Int], values: [Float], tolerance: Float = 0,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    guard let got else {
        Issue.record("\(label): missing", sourceLocation: sourceLocation)
        return
    }
    #expect(got.shape == shape, "\(label): shape \(got.shape), expected \(shape)", sourceLocation: sourceLocation)
    guard got.values.count == values.count else {
        Issue.record("\(label): \(got.values.count) values, expected \(values.count)", sourceLocation: sourceLocation)
        return
    }
    let diff = zip(got.values, values).map { abs($0 - $1) }.max() ?? 0
    print("\(label) \(diff <= tolerance ? "OK" : "MISMATCH"), maxdiff \(diff)")
    #expect(diff <= tolerance, "\(label): maxdiff \(diff); got \(got.values.prefix(8)), expected \(values.prefix(8))",
            sourceLocation: sourceLocation)
}

/// Runs `body`, expecting a TensorFileError whose description contains every one of `parts`; prints the message.
func expectError(_ parts: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
    do {
        let result = try body()
        Issue.record("expected an error containing \(parts), got \(type(of: result))", sourceLocation: sourceLocation)
    } catch let e as TensorFileError {
        print("error as expected: \(e)")
        for p in parts {
            #expect(e.description.contains(p), "'\(e)' lacks '\(p)'", sourceLocation: sourceLocation)
        }
        #expect(!e.message.contains("\n"), "the message should be one line: '\(e.message)'", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a TensorFileError, got \(error)", sourceLocation: sourceLocation)
    }
}
