import CCairo
import Foundation
import Imaging
import Support

/// Turns figures into PNG, JPEG, SVG or PDF bytes and writes them atomically.
///
/// A figure taller than one page can hold (cairo's 32,767-pixel surfaces at the PNG/JPEG scale, 14,400 points for
/// SVG and PDF) is cut into pages at its `pageBreaks`: a PDF gets several pages, the other formats one file per page
/// (`x-1.png`, `x-2.png`, ...) and an `x-index.html` that shows them one under another.
public enum FigureWriter {
    /// An output format; `write` picks it from the path's extension.
    public enum Format: String, Sendable, CaseIterable {
        case png, jpeg, svg, pdf

        /// The format a path's extension names.
        /// - Throws: a `UsageError` (the command line exits 2) for anything but .png, .jpg/.jpeg, .svg and .pdf, in
        ///   any case.
        public init(path: String) throws {
            switch (path as NSString).pathExtension.lowercased() {
            case "png": self = .png
            case "jpg", "jpeg": self = .jpeg
            case "svg": self = .svg
            case "pdf": self = .pdf
            default: throw UsageError("cannot tell the figure format of '\(path)'; use a path ending in .png, .jpg, .svg or .pdf")
            }
        }

        /// Drawn into pixels at a scale (PNG, JPEG) rather than kept as vectors (SVG, PDF).
        public var isRaster: Bool { self == .png || self == .jpeg }
    }

    /// Cairo's longest image surface side, in pixels.
    public static let maxPixelSide = 32767
    /// The most pixels one raster page holds (1 GiB of cairo's RGB24); a figure past it gets more pages.
    public static let maxPagePixels = 1 << 28
    /// The tallest SVG or PDF page, in points: the 200 inches PDF viewers accept.
    public static let maxVectorPageHeight = 14_400

    /// Renders `figure` and writes it to `path` atomically (temporary files, then renames).
    ///
    /// A figure taller than a page (see the type's summary) becomes several pages: one PDF with several pages, or
    /// `<stem>-1.<ext>` ... `<stem>-N.<ext>` (numbers zero-padded to the same width) and `<stem>-index.html`
    /// showing them in order; either all of those files are written or, as far as the file system allows, none.
    /// - Parameters:
    ///   - figure: what to draw.
    ///   - path: ends in .png, .jpg/.jpeg, .svg or .pdf; its directory must exist.
    ///   - scale: device pixels per point for PNG and JPEG (2 is crisp on a laptop screen); ignored by the vector
    ///     formats.
    /// - Returns: the files written: `path`, or the pages followed by the index.
    /// - Throws: `UsageError` for an unknown extension; `RenderError` for a figure too wide for a raster page or a
    ///   cairo failure; `FileError` naming a missing or unwritable directory.
    @discardableResult
    public static func write(_ figure: any Figure, to path: String, scale: Double = 2) throws -> [String] {
        let format = try Format(path: path)
        try checkDirectory(of: path)
        let pages = try renderPages(figure, format: format, scale: scale)
        if pages.count == 1 {
            try AtomicFile.write(pages[0], to: path)
            return [path]
        }
        let paths = pagePaths(path, count: pages.count)
        let index = indexPath(path)
        let html = indexHTML(title: URL(fileURLWithPath: path).lastPathComponent, pages: paths, width: figure.size.width)
        try writeTogether([(index, Array(html.utf8))] + zip(paths, pages).map { ($0, $1) })
        return paths + [index]
    }

    /// Renders `figure` into memory as one file.
    /// - Parameters:
    ///   - figure: what to draw.
    ///   - format: PNG or JPEG (raster at `scale` pixels per point), SVG or PDF (vector, raster tiles embedded).
    ///   - scale: device pixels per point for PNG and JPEG.
    /// - Returns: the complete file contents (a PDF has as many pages as the figure needs).
    /// - Throws: `RenderError.tooLarge` when a PNG, JPEG or SVG would need more than one page (`renderPages` cuts it).
    public static func render(_ figure: any Figure, format: Format, scale: Double = 2) throws -> [UInt8] {
        let pages = try renderPages(figure, format: format, scale: scale)
        guard pages.count == 1 else {
            throw RenderError.tooLarge("a \(Int(figure.size.width))x\(Int(figure.size.height)) pt figure needs \(pages.count) \(format.rawValue) pages")
        }
        return pages[0]
    }

    /// Renders `figure` into memory, cut into pages where it is too tall for one.
    /// - Parameters:
    ///   - figure: what to draw.
    ///   - format: as for `render`.
    ///   - scale: device pixels per point for PNG and JPEG.
    /// - Returns: one file per page; a PDF is always one file, with a page each.
    public static func renderPages(_ figure: any Figure, format: Format, scale: Double = 2) throws -> [[UInt8]] {
        let size = figure.size
        precondition(size.width > 0 && size.height > 0, "FigureWriter: figure has empty size \(size)")
        precondition(!format.isRaster || (scale > 0 && scale.isFinite), "FigureWriter: scale must be positive, got \(scale)")
        let pages = try pageRanges(figure, format: format, scale: scale)
        if format == .pdf { return [try renderPDF(figure, pages: pages)] }
        return try pages.map { try renderPage(figure, format: format, scale: scale, page: $0) }
    }

    // MARK: pages

    /// A horizontal band of the figure: device pixels for PNG and JPEG, points for SVG and PDF.
    struct Page: Equatable {
        var top: Double
        var height: Double
    }

    /// The pages a figure needs: one when it fits, else bands no taller than the limit, each ending at the last
    /// page break that fits in it (or at the limit when none does).
    static func pageRanges(_ figure: any Figure, format: Format, scale: Double) throws -> [Page] {
        let size = figure.size
        guard format.isRaster else {
            let total = Int(size.height.rounded(.up))
            if total <= maxVectorPageHeight { return [Page(top: 0, height: size.height)] }
            return cut(total: total, breaks: figure.pageBreaks.map { Int($0.rounded(.down)) }, limit: maxVectorPageHeight)
                .map { Page(top: Double($0.lowerBound), height: Double($0.count)) }
        }
        let width = Int((size.width * scale).rounded(.up)), total = Int((size.height * scale).rounded(.up))
        guard width <= maxPixelSide else {
            throw RenderError.tooLarge("the figure is \(Int(size.width.rounded(.up))) pt wide, \(width) pixels at scale "
                + "\(String(format: "%g", scale)), over cairo's \(maxPixelSide); lower the scale or draw fewer tiles per row")
        }
        let limit = min(maxPixelSide, maxPagePixels / max(width, 1))
        return cut(total: total, breaks: figure.pageBreaks.map { Int(($0 * scale).rounded(.down)) }, limit: limit)
            .map { Page(top: Double($0.lowerBound), height: Double($0.count)) }
    }

    /// Cuts 0 ..< total into consecutive ranges of at most `limit`, each ending at the last break that fits in it,
    /// or at the limit when no break does.
    static func cut(total: Int, breaks: [Int], limit: Int) -> [Range<Int>] {
        precondition(limit > 0, "FigureWriter.cut: limit must be positive")
        let breaks = breaks.filter { $0 > 0 && $0 < total }.sorted()
        var pages: [Range<Int>] = [], top = 0
        while total - top > limit {
            let end = breaks.last { $0 > top && $0 <= top + limit } ?? top + limit
            pages.append(top ..< end)
            top = end
        }
        pages.append(top ..< total)
        return pages
    }

    /// `x.png` -> `x-1.png` ... `x-N.png`, numbers padded to N's width so they sort.
    static func pagePaths(_ path: String, count: Int) -> [String] {
        let url = URL(fileURLWithPath: path)
        let stem = (path as NSString).deletingPathExtension, ext = url.pathExtension
        let digits = String(count).count
        return (1 ... count).map { i in
            let n = String(i)
            return "\(stem)-\(String(repeating: "0", count: digits - n.count))\(n).\(ext)"
        }
    }

    /// `x.png` -> `x-index.html`.
    static func indexPath(_ path: String) -> String { (path as NSString).deletingPathExtension + "-index.html" }

    /// A page showing the figure's pages one under another at the figure's width, so it reads as one figure.
    static func indexHTML(title: String, pages: [String], width: Double) -> String {
        let images = pages.enumerated().map { i, p in
            let name = URL(fileURLWithPath: p).lastPathComponent
            let src = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: ":"))) ?? name
            return "<img src=\"\(HTML.escape(src))\" alt=\"\(HTML.escape(title)), page \(i + 1) of \(pages.count)\">"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
            <style>body { margin: 0; } img { display: block; width: \(Int(width.rounded(.up)))px; max-width: 100%; height: auto; }</style>
            </head><body>
            \(images.joined(separator: "\n"))
            </body></html>

            """
    }

    /// Writes several files so that each appears whole and, as far as renames allow, all or none: every file goes
    /// to its temporary first, and the renames come last, the first file's last. A failure removes every file
    /// already renamed into place.
    static func writeTogether(_ files: [(path: String, bytes: [UInt8])]) throws {
        var renamed: [String] = []
        do {
            try nest(files[...], &renamed)
        } catch {
            for path in renamed { unlink(path) }
            throw error
        }
    }

    private static func nest(_ files: ArraySlice<(path: String, bytes: [UInt8])>, _ renamed: inout [String]) throws {
        guard let first = files.first else { return }
        try AtomicFile.write(to: first.path) { fd in
            try first.bytes.withUnsafeBytes { try AtomicFile.writeAll(fd: fd, $0, path: first.path) }
            try nest(files.dropFirst(), &renamed)
        }
        renamed.append(first.path)
    }

    // MARK: cairo

    /// One PNG, JPEG or SVG page.
    static func renderPage(_ figure: any Figure, format: Format, scale: Double, page: Page) throws -> [UInt8] {
        let width = figure.size.width
        let sink = Sink()
        let sinkPtr = Unmanaged.passUnretained(sink).toOpaque()
        let surface: OpaquePointer?
        switch format {
        case .png, .jpeg:
            surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32((width * scale).rounded(.up)), Int32(page.height))
        case .svg:
            surface = cairo_svg_surface_create_for_stream(sinkWrite, sinkPtr, width, page.height)
        case .pdf:
            preconditionFailure("FigureWriter: PDF pages go through renderPDF")
        }
        guard let surface else { throw RenderError.cairo("could not create a \(format.rawValue) surface") }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "creating a \(Int(width))x\(Int(page.height)) \(format.isRaster ? "px" : "pt") \(format.rawValue) surface")
        try withExtendedLifetime(sink) { try draw(figure, on: surface, top: page.top, scale: format.isRaster ? scale : 1) }

        switch format {
        case .png:
            cairo_surface_flush(surface)
            try check(cairo_surface_write_to_png_stream(surface, sinkWrite, sinkPtr), "encoding PNG")
        case .jpeg:
            cairo_surface_flush(surface)
            return try ImageIO.encodeJPEG(CairoPNG.rgb(of: surface))
        default:
            cairo_surface_finish(surface)
            try check(cairo_surface_status(surface), "finishing \(format.rawValue)")
        }
        return withExtendedLifetime(sink) { sink.bytes }
    }

    /// One PDF with a page per band.
    static func renderPDF(_ figure: any Figure, pages: [Page]) throws -> [UInt8] {
        let width = figure.size.width
        let sink = Sink()
        let sinkPtr = Unmanaged.passUnretained(sink).toOpaque()
        guard let surface = cairo_pdf_surface_create_for_stream(sinkWrite, sinkPtr, width, pages[0].height) else {
            throw RenderError.cairo("could not create a pdf surface")
        }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "creating a \(Int(width))x\(Int(pages[0].height)) pt pdf surface")
        try withExtendedLifetime(sink) {
            for (i, page) in pages.enumerated() {
                cairo_pdf_surface_set_size(surface, width, page.height)
                try draw(figure, on: surface, top: page.top, scale: 1, showPage: i < pages.count - 1)
            }
            cairo_surface_finish(surface)
        }
        try check(cairo_surface_status(surface), "finishing pdf")
        return withExtendedLifetime(sink) { sink.bytes }
    }

    /// Paints the surface white and draws the figure with its point `top / scale` at the surface's top edge.
    private static func draw(_ figure: any Figure, on surface: OpaquePointer, top: Double, scale: Double, showPage: Bool = false) throws {
        let cr = cairo_create(surface)!
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_translate(cr, 0, -top)
        cairo_scale(cr, scale, scale)
        figure.draw(Canvas(cr: cr))
        if showPage { cairo_show_page(cr) }
        let status = cairo_status(cr)
        cairo_destroy(cr)
        try check(status, "drawing")
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
