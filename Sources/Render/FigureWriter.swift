import CCairo
import Foundation
import Support

/// Turns figures into PNG, SVG or PDF bytes and writes them atomically.
public enum FigureWriter {
    /// An output format; `write` picks it from the path's extension.
    public enum Format: String, Sendable, CaseIterable {
        case png, svg, pdf

        /// The format a path's extension names.
        /// - Throws: `RenderError.unknownFormat` for anything but .png, .svg and .pdf (any case).
        public init(path: String) throws {
            let ext = (path as NSString).pathExtension.lowercased()
            guard let f = Format(rawValue: ext) else { throw RenderError.unknownFormat(path: path) }
            self = f
        }
    }

    /// Renders `figure` and writes it to `path` atomically (temporary file, then rename).
    /// - Parameters:
    ///   - figure: what to draw.
    ///   - path: ends in .png, .svg or .pdf; its directory must exist.
    ///   - scale: device pixels per point for PNG (2 is crisp on a laptop screen); ignored by the vector formats.
    /// - Throws: `RenderError` for an unknown extension or a cairo failure, `FileError` naming a missing or
    ///   unwritable directory.
    public static func write(_ figure: any Figure, to path: String, scale: Double = 2) throws {
        let format = try Format(path: path)
        try checkDirectory(of: path)
        let bytes = try render(figure, format: format, scale: scale)
        try AtomicFile.write(bytes, to: path)
    }

    /// Renders `figure` into memory.
    /// - Parameters:
    ///   - figure: what to draw.
    ///   - format: PNG (raster at `scale` pixels per point), SVG or PDF (vector, raster tiles embedded).
    ///   - scale: device pixels per point for PNG.
    /// - Returns: the complete file contents.
    public static func render(_ figure: any Figure, format: Format, scale: Double = 2) throws -> [UInt8] {
        let size = figure.size
        precondition(size.width > 0 && size.height > 0, "FigureWriter: figure has empty size \(size)")
        let sink = Sink()
        let sinkPtr = Unmanaged.passUnretained(sink).toOpaque()
        let surface: OpaquePointer?
        switch format {
        case .png:
            precondition(scale > 0, "FigureWriter: scale must be positive, got \(scale)")
            let w = Int32((size.width * scale).rounded(.up)), h = Int32((size.height * scale).rounded(.up))
            surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h)
        case .svg:
            surface = cairo_svg_surface_create_for_stream(sinkWrite, sinkPtr, size.width, size.height)
        case .pdf:
            surface = cairo_pdf_surface_create_for_stream(sinkWrite, sinkPtr, size.width, size.height)
        }
        guard let surface else { throw RenderError.cairo("could not create a \(format.rawValue) surface") }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "creating a \(Int(size.width))x\(Int(size.height)) pt \(format.rawValue) surface")

        let cr = cairo_create(surface)!
        if format == .png { cairo_scale(cr, scale, scale) }
        let canvas = Canvas(cr: cr)
        canvas.fill(Rect(x: 0, y: 0, width: size.width, height: size.height), .white)
        withExtendedLifetime(sink) { figure.draw(canvas) }
        let drawStatus = cairo_status(cr)
        cairo_destroy(cr)
        try check(drawStatus, "drawing")

        if format == .png {
            cairo_surface_flush(surface)
            try check(cairo_surface_write_to_png_stream(surface, sinkWrite, sinkPtr), "encoding PNG")
        } else {
            cairo_surface_finish(surface)
            try check(cairo_surface_status(surface), "finishing \(format.rawValue)")
        }
        return withExtendedLifetime(sink) { sink.bytes }
    }

    /// Fails early, before any rendering, when the output directory is missing or not writable.
    static func checkDirectory(of path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw FileError(path: path, message: "output directory '\(dir)' does not exist")
        }
        guard access(dir, W_OK) == 0 else {
            throw FileError(path: path, message: "output directory '\(dir)' is not writable")
        }
    }

    private static func check(_ status: cairo_status_t, _ what: String) throws {
        guard status == CAIRO_STATUS_SUCCESS else {
            throw RenderError.cairo("\(what) failed: \(String(cString: cairo_status_to_string(status)))")
        }
    }

    /// Collects the bytes cairo streams out.
    final class Sink { var bytes: [UInt8] = [] }
}

/// cairo's write callback: appends to the `Sink` behind `closure`.
private func sinkWrite(_ closure: UnsafeMutableRawPointer?, _ data: UnsafePointer<UInt8>?, _ length: UInt32) -> cairo_status_t {
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<FigureWriter.Sink>.fromOpaque(closure).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}
