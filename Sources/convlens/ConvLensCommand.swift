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
        abstract: "See what convolutional networks see: classification, Grad-CAM, activations, filter patterns, correlations, "
            + "DeepDream, style transfer.",
        subcommands: [Classify.self, GradCAM.self, Activations.self, Patterns.self, Dream.self, Style.self, GramCommand.self,
                      Correlate.self, Report.self, Layers.self, WeightsCommand.self, Bench.self])

    /// Runs the command. A failure prints one line on stderr, "error: …" with control characters escaped, and exits
    /// 2 for bad usage (a bad option or name), 1 for the rest (a bad file, a failed write).
    static func main() {
        MemoryTuning.keepFreedMemory()
        if ProcessInfo.processInfo.environment["CONVLENS_BLAS_THREADS"] == nil { BLAS.useDispatchThreads() }
        do {
            try checkSubcommand(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success { print(fullMessage(for: error)); Foundation.exit(0) }
            let usage = code == .validationFailure || error is UsageError
            let ours = error is UsageError || isConvLensError(error)
            let text = ours ? "\(error)" : message(for: error)
            // ArgumentParser's messages are one line, except when it shows the whole help (no arguments at all).
            let line = !ours && text.contains("\n") ? escapingControlCharacters(fullMessage(for: error), keepingNewlines: true)
                                                     : "error: " + escapingLine(text)
            FileHandle.standardError.write(Data((line.hasSuffix("\n") ? line : line + "\n").utf8))
            Foundation.exit(usage ? 2 : 1)
        }
    }

    /// A first argument that is neither an option nor a subcommand is a misspelt subcommand: say which ones exist
    /// and which is closest ("gradcamm": did you mean 'gradcam'?).
    static func checkSubcommand(_ arguments: [String]) throws {
        guard let first = arguments.first, !first.hasPrefix("-") else { return }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(first) else { return }
        throw UsageError(unknownNameMessage("command", first, known: names.dropLast().map { $0 }))
    }

    /// A message with its control characters escaped, except the newline before a final "HINT: …" line, which
    /// some errors add on purpose (what to do, on a line of its own).
    static func escapingLine(_ text: String) -> String {
        guard let hint = text.range(of: "\nHINT: ", options: .backwards) else { return escapingControlCharacters(text) }
        return escapingControlCharacters(String(text[..<hint.lowerBound])) + "\n"
            + escapingControlCharacters(String(text[text.index(after: hint.lowerBound)...]))
    }

    /// Errors of our own carry a one-line message; ArgumentParser's carry usage text.
    static func isConvLensError(_ error: Error) -> Bool {
        !(String(reflecting: type(of: error)).hasPrefix("ArgumentParser"))
    }
}

/// Checks option values in a command's `validate()`: whatever refuses them (an `OptionLimits` range, an unknown
/// method name) becomes the `ValidationError` ArgumentParser expects, so it exits 2 with its one line.
func validating(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ValidationError { throw e } catch { throw ValidationError("\(error)") }
}

/// Writes a line to standard error, control characters escaped.
func warn(_ s: String) {
    FileHandle.standardError.write(Data((escapingControlCharacters(s) + "\n").utf8))
}
