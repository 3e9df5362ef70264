import Foundation
import Render
import Support

/// The checks every command runs on its outputs before any work, and the one way jobs write figures.
public enum Outputs {
    /// The figure format a path names; an unknown extension is bad usage (exit 2), like any other bad option value.
    public static func figureFormat(_ path: String) throws -> FigureWriter.Format {
        do { return try FigureWriter.Format(path: path) } catch { throw UsageError("\(error)") }
    }

    /// Checks a command's outputs up front: each must be a new path or a regular file in a writable directory, and
    /// no two may be the same file (the second write would silently replace the first).
    /// - Parameters:
    ///   - outputs: (option, path) pairs such as ("--out", "cam.png"), ("--raw", "cam.npy"); nil paths are skipped.
    public static func check(_ outputs: [(option: String, path: String?)]) throws {
        var seen: [(option: String, path: String, key: String)] = []
        for case let (option, path?) in outputs {
            try AtomicFile.checkWritable(path)
            let key = identity(path)
            if let first = seen.first(where: { $0.key == key }) {
                throw UsageError("\(first.option) and \(option) name the same file '\(path)'; give each output its own path")
            }
            seen.append((option, path, key))
        }
    }

    /// A job's figure path, checked up front with the job's other outputs: a format a figure can be written in,
    /// and the rules of `check`.
    /// - Parameters:
    ///   - given: the path the user gave (`--out`).
    ///   - fallback: the default, used (and made, for a folder such as Reports/) only when `given` is nil.
    ///   - others: the job's other outputs, e.g. ("--raw", o.raw).
    public static func figurePath(_ given: String?, or fallback: @autoclosure () throws -> String,
                                  with others: [(option: String, path: String?)] = []) throws -> String {
        let out = try given ?? fallback()
        _ = try figureFormat(out)
        try check([("--out", out)] + others)
        return out
    }

    /// Pretty JSON text with sorted keys and plain slashes, as every `--json` prints it.
    public static func json(_ value: some Encodable) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    /// What a path refers to: device and inode when it exists, else its canonical directory and name.
    static func identity(_ path: String) -> String {
        var st = stat()
        if stat(path, &st) == 0 { return "inode \(st.st_dev):\(st.st_ino)" }
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL.path + "/" + url.lastPathComponent
    }

    /// Cairo's largest raster surface, in pixels per side.
    public static let maxPixelsPerSide = 32767

    /// Writes a figure through `FigureWriter` (which cuts a page too tall for one file into several), after checking
    /// that its raster is not too wide for cairo and that a page fits the memory budget.
    /// - Parameters:
    ///   - figure: what to draw.
    ///   - path: the output (.png, .jpg, .svg, .pdf).
    ///   - scale: PNG and JPEG pixels per point.
    /// - Returns: the files written (one, or the pages and their index).
    @discardableResult
    public static func writeFigure(_ figure: any Figure, to path: String, scale: Double) throws -> [String] {
        try checkRaster(figure.size, path: path, scale: scale)
        return try FigureWriter.write(figure, to: path, scale: scale)
    }

    /// Refuses a raster figure too wide for cairo, or one whose page (a tall figure is cut into pages of at most
    /// `maxPixelsPerSide` rows) is too large for memory (4 bytes a pixel, twice: surface and encoding).
    public static func checkRaster(_ size: Size, path: String, scale: Double) throws {
        guard try figureFormat(path) != .svg, try figureFormat(path) != .pdf else { return }
        let w = (size.width * scale).rounded(.up), h = min((size.height * scale).rounded(.up), Double(maxPixelsPerSide))
        guard w <= Double(maxPixelsPerSide) else {
            let fit = (Double(maxPixelsPerSide) / max(size.width, size.height) * 100).rounded(.down) / 100
            throw UsageError("the figure would be \(Int(w))x\(Int(h)) pixels, past the \(maxPixelsPerSide) a side PNG surfaces "
                + "allow; try --scale \(OptionLimit.number(max(fit, 0.01))) or an .svg or .pdf output")
        }
        try MemoryBudget.check(Int(w * h * 8), "a \(Int(w))x\(Int(h)) pixel figure", hint: "try a smaller --scale or an .svg or .pdf output")
    }
}
