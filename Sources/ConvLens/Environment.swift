import Foundation

/// Where ConvLens finds installed weights and writes reports.
public enum Environment {
    /// The weights folder: $CONVLENS_WEIGHTS, else ./Weights, else the Weights folder of the checkout that holds
    /// the running executable (so `swift run` and `.build/release/convlens` work from anywhere).
    public static var weightsDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["CONVLENS_WEIGHTS"], !dir.isEmpty { return dir }
        let fm = FileManager.default
        if fm.fileExists(atPath: "Weights/models.json") || fm.fileExists(atPath: "Weights/efficientnet_lite0.safetensors")
            || fm.fileExists(atPath: "Weights/squeezenet1_1.safetensors") {
            return "Weights"
        }
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 6 {
            let candidate = url.appendingPathComponent("Weights")
            if fm.fileExists(atPath: candidate.appendingPathComponent("models.json").path) { return candidate.path }
            url = url.deletingLastPathComponent()
        }
        return "Weights"
    }

    /// The default output folder, created on demand: ./Reports.
    public static func reportsDirectory() throws -> String {
        let dir = "Reports"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A default output path in Reports/: "<stem of the input>_<suffix>.<ext>".
    public static func defaultOutput(for input: String, suffix: String, ext: String = "png") throws -> String {
        let stem = URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent
        return try reportsDirectory() + "/\(stem)_\(suffix).\(ext)"
    }
}
