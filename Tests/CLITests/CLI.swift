// Runs the built `convlens` as a user would, and checks how it fails: exit code, the one line on stderr, nothing on
// stdout, no file left in the output directory, and how much memory the process took.
import Foundation
import Testing

/// The `convlens` executable and the repository it was built from.
enum CLI {
    /// The repository root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// $CONVLENS_BIN, else the `convlens` SwiftPM built beside this test bundle.
    static let binary: String = {
        if let b = ProcessInfo.processInfo.environment["CONVLENS_BIN"], !b.isEmpty { return b }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("convlens").path
    }()

    static let weights = root + "/Weights"

    /// Whether setup has installed SqueezeNet, which the image and usage cases run.
    static let hasWeights = FileManager.default.fileExists(atPath: weights + "/squeezenet1_1.safetensors")

    /// A file in the repository: "Samples/chelsea.png", "Tests/ImagingTests/Fixtures/decode/png_rgb16.png".
    static func path(_ relative: String) -> String { root + "/" + relative }

    static func bytes(_ relative: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: path(relative)) ?? Data())
    }
}

/// What one run of convlens did.
struct Outcome {
    var code: Int32
    var stdout: String
    var stderr: String
    /// Peak resident memory of the process, in bytes (VmHWM, polled every 2 ms while it runs).
    var peakBytes: Int
    /// stderr's lines, without the final newline.
    var lines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
}

/// A scratch directory for one case: inputs at its top, outputs in `out/`, which must stay empty when a case fails.
final class Scratch {
    let dir: String
    var out: String { dir + "/out" }

    init() throws {
        dir = NSTemporaryDirectory() + "convlens-hostile-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
    }

    deinit {
        chmod(out, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Writes an input file and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = dir + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    /// Everything in `out/`, hidden temporary files included.
    var outputs: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).sorted() }
}

/// Runs convlens with `arguments`, the installed weights and no terminal; waits for it and measures it.
/// - Parameters:
///   - arguments: the command line after `convlens`.
///   - prefix: a program and its arguments to run convlens through (setpriv to drop privileges).
///   - timeout: seconds before the process is killed (a hang is a failure too).
func convlens(_ arguments: [String], through prefix: [String] = [], timeout: Double = 120) throws -> Outcome {
    try spawn(prefix + [CLI.binary] + arguments, timeout: timeout)
}

/// Runs a program (argv[0] a full path) with the installed weights and no terminal; waits for it and measures it.
func spawn(_ argv: [String], timeout: Double = 120) throws -> Outcome {
    let io = NSTemporaryDirectory() + "convlens-io-" + UUID().uuidString
    defer { unlink(io + ".out"); unlink(io + ".err") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, io + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, io + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var env = ProcessInfo.processInfo.environment
    env["CONVLENS_WEIGHTS"] = CLI.weights
    env["SWIFT_BACKTRACE"] = "enable=no"  // a crash should end the process, not wait on the backtracer
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (cArgs + cEnv).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, cEnv)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
    var status: Int32 = 0
    var usage = rusage()
    // Peak memory from /proc, polled: wait4's ru_maxrss would count this (large) test process too, whose memory
    // the child shares until it execs.
    var peakKB = 0
    let deadline = Date().addingTimeInterval(timeout)
    while wait4(pid, &status, WNOHANG, &usage) == 0 {
        peakKB = max(peakKB, highWaterKB(pid))
        if Date() > deadline {
            kill(pid, SIGKILL)
            _ = wait4(pid, &status, 0, &usage)
            Issue.record("\(argv.joined(separator: " ")) hung for \(Int(timeout)) s")
            break
        }
        usleep(2000)
    }
    let exited = status & 0x7f == 0
    let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)  // 128 + signal, as a shell reports it
    return Outcome(code: code, stdout: readText(io + ".out"), stderr: readText(io + ".err"), peakBytes: peakKB * 1024)
}

/// VmHWM, the peak resident memory of a running process in KB, or 0 once it has exited.
func highWaterKB(_ pid: pid_t) -> Int {
    guard let status = try? String(decoding: FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/\(pid)/status")).readToEnd() ?? Data(),
                                   as: UTF8.self),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
}

/// A file's text; FileHandle, because FileManager.contents(atPath:) leaks 4 KB per empty file (swift-foundation 6.3).
func readText(_ path: String) -> String {
    String(decoding: (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readToEnd() ?? Data()) ?? Data(), as: UTF8.self)
}

/// Checks a refusal: exit `code`, nothing on stdout, one error line (plus at most a HINT line) that contains every
/// one of `parts`, and nothing written to the scratch's `out/`. Prints the line, for the catalogue.
/// - Parameters:
///   - outcome: the run.
///   - code: 1 for bad input, 2 for bad usage.
///   - parts: what the error line must contain: the file's name, the problem.
///   - scratch: whose `out/` must be empty.
func expectRefusal(_ outcome: Outcome, code: Int32, _ parts: String..., scratch: Scratch? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let lines = outcome.lines
    print("exit \(outcome.code): \(lines.first ?? "(nothing on stderr)")")
    #expect(outcome.code == code, "exit code \(outcome.code), expected \(code); stderr: \(outcome.stderr)",
            sourceLocation: sourceLocation)
    #expect(lines.count == 1 || lines.count == 2 && lines[1].hasPrefix("HINT: "),
            "expected one error line (and at most a HINT), got \(lines.count): \(outcome.stderr)", sourceLocation: sourceLocation)
    for p in parts {
        #expect(lines.first?.contains(p) == true, "'\(lines.first ?? "")' lacks '\(p)'", sourceLocation: sourceLocation)
    }
    #expect(outcome.stdout.isEmpty, "printed on stdout: \(outcome.stdout.prefix(200))", sourceLocation: sourceLocation)
    if let scratch {
        #expect(scratch.outputs.isEmpty, "left output behind: \(scratch.outputs)", sourceLocation: sourceLocation)
    }
}
