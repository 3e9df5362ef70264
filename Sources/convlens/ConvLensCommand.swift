import ArgumentParser
import ConvLens
import Engine
import Foundation
import Support

/// The `convlens` command: subcommands parse arguments and call the ConvLens library, nothing else.
@main
struct ConvLensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convlens",
        abstract: "See what convolutional networks see: classification, Grad-CAM, activations, filter patterns, correlations.",
        subcommands: [Classify.self, GradCAM.self, Activations.self, Patterns.self, Correlate.self, Report.self, Layers.self,
                      WeightsCommand.self, Bench.self])

    /// Runs the command; a failure prints one line on stderr and exits 2 for bad usage, 1 for bad input.
    static func main() {
        MemoryTuning.keepFreedMemory()
        if ProcessInfo.processInfo.environment["CONVLENS_BLAS_THREADS"] == nil { BLAS.useDispatchThreads() }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success { print(fullMessage(for: error)); Foundation.exit(0) }
            let usage = code == .validationFailure || error is UsageError
            let message = error is UsageError || isConvLensError(error) ? "error: \(error)" : fullMessage(for: error)
            FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
            Foundation.exit(usage ? 2 : 1)
        }
    }

    /// Errors of our own carry a one-line message; ArgumentParser's carry usage text.
    static func isConvLensError(_ error: Error) -> Bool {
        !(String(reflecting: type(of: error)).hasPrefix("ArgumentParser"))
    }
}

/// Writes a line to standard error.
func warn(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
