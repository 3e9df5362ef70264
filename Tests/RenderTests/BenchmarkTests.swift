import Foundation
import Testing
import Render

/// Prints `RenderBenchmark` timings; a benchmark, not a test, so it runs only when asked:
/// `CONVLENS_RENDER_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing --filter Benchmark`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CONVLENS_RENDER_BENCHMARK"] == "1"))
struct BenchmarkTests {
    @Test func timings() {
        for (name, seconds) in RenderBenchmark.run() {
            print(String(format: "BENCH %-28@ %.4f s", name as NSString, seconds))
        }
    }
}
