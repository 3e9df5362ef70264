import CCairo
import Foundation
import Imaging

/// A drawing surface in points: a thin wrapper over a `cairo_t` with the few primitives the figures need.
///
/// Coordinates are points with the origin at the top-left and y growing downwards. `FigureWriter` creates the
/// canvas; figures only draw into it.
public final class Canvas {
    /// The cairo context; exposed for figures defined outside Render that need more than these primitives.
    public let cr: OpaquePointer

    /// Wraps a cairo context and applies the house font settings.
    public init(cr: OpaquePointer) {
        self.cr = cr
        Canvas.applyFontOptions(cr)
    }

    /// Fills a rectangle with a flat colour.
    public func fill(_ r: Rect, _ color: Color) {
        setColor(color)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_fill(cr)
    }

    /// Strokes a rectangle's outline, centred on its edges.
    public func stroke(_ r: Rect, _ color: Color, width: Double = 0.5) {
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_stroke(cr)
    }

    /// Strokes a polyline through `points`.
    public func polyline(_ points: [(Double, Double)], _ color: Color, width: Double = 1) {
        guard let first = points.first else { return }
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER)
        cairo_move_to(cr, first.0, first.1)
        for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
        cairo_stroke(cr)
    }

    /// Strokes many independent segments with one style: (x0, y0, x1, y1) each.
    public func segments(_ segs: [(Double, Double, Double, Double)], _ color: Color, width: Double = 1) {
        guard !segs.isEmpty else { return }
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND)
        for s in segs {
            cairo_move_to(cr, s.0, s.1)
            cairo_line_to(cr, s.2, s.3)
        }
        cairo_stroke(cr)
    }

    /// Horizontal placement of text relative to its anchor.
    public enum Align: Sendable { case left, center, right }
    /// Vertical placement of text relative to its anchor.
    public enum Baseline: Sendable { case top, middle, baseline, bottom }

    /// Draws one line of text in DejaVu Sans.
    /// - Parameters:
    ///   - s: UTF-8 text (Latin, Cyrillic, Greek, ...).
    ///   - x, y: the anchor point.
    ///   - size: font size in points.
    ///   - align: which end of the text sits at `x`.
    ///   - baseline: which line of the text sits at `y`.
    ///   - angle: rotation in degrees, counter-clockwise, about the anchor.
    public func text(_ s: String, x: Double, y: Double, size: Double, color: Color = .ink, bold: Bool = false,
                     align: Align = .left, baseline: Baseline = .baseline, angle: Double = 0) {
        guard !s.isEmpty else { return }
        cairo_save(cr)
        Canvas.selectFont(cr, size: size, bold: bold)
        setColor(color)
        cairo_translate(cr, x, y)
        if angle != 0 { cairo_rotate(cr, -angle * .pi / 180) }
        let dx: Double
        switch align {
        case .left: dx = 0
        case .center: dx = -TextMetrics.width(s, size: size, bold: bold) / 2
        case .right: dx = -TextMetrics.width(s, size: size, bold: bold)
        }
        let (asc, desc) = TextMetrics.ascentDescent(size: size)
        let dy: Double
        switch baseline {
        case .top: dy = asc
        case .middle: dy = (asc - desc) / 2
        case .baseline: dy = 0
        case .bottom: dy = -desc
        }
        cairo_move_to(cr, dx, dy)
        cairo_show_text(cr, s)
        cairo_restore(cr)
    }

    /// Draws a figure title centred at the top of a page `pageWidth` wide, shrunk or cut to fit between the margins.
    public func title(_ s: String, pageWidth: Double, y: Double) {
        let (t, size) = TextMetrics.fit(s, maxWidth: pageWidth - 2 * Style.margin, size: Style.titleSize, minSize: 9, bold: true)
        text(t, x: pageWidth / 2, y: y, size: size, bold: true, align: .center, baseline: .top)
    }

    /// Draws an RGB image stretched into `rect`.
    /// - Parameters:
    ///   - image: the pixels.
    ///   - rect: the destination in points.
    ///   - smooth: interpolate (true) or keep crisp square pixels (false); by default crisp when enlarging and
    ///     smooth when shrinking.
    public func image(_ image: RGBImage, in rect: Rect, smooth: Bool? = nil) {
        pixels(image.pixels, width: image.width, height: image.height, in: rect, smooth: smooth)
    }

    /// Draws (H, W, 3) RGB8 samples stretched into `rect`; see `image(_:in:smooth:)`.
    public func pixels(_ rgb: [UInt8], width: Int, height: Int, in rect: Rect, smooth: Bool? = nil) {
        precondition(rgb.count == width * height * 3, "Canvas.pixels: \(rgb.count) samples do not fill \(width)x\(height)x3")
        guard width > 0, height > 0, rect.width > 0, rect.height > 0 else { return }
        let enlarging = rect.width >= Double(width) * 0.999 && rect.height >= Double(height) * 0.999
        let crisp = !(smooth ?? !enlarging)
        // SVG has no way to ask for square pixels, and viewers smooth enlarged images: enlarge crisp rasters here.
        var (src, w, h) = (rgb, width, height)
        if crisp && isSVG {
            let k = max(1, min(Int((2 * rect.width / Double(width)).rounded(.up)), 2048 / max(width, height)))
            if k > 1 { (src, w, h) = (Canvas.enlarge(rgb, width: width, height: height, by: k), width * k, height * k) }
        }
        guard let surface = Canvas.makeSurface(src, width: w, height: h) else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_save(cr)
        cairo_translate(cr, rect.x, rect.y)
        cairo_scale(cr, rect.width / Double(w), rect.height / Double(h))
        cairo_set_source_surface(cr, surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), crisp ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD)
        cairo_rectangle(cr, 0, 0, Double(w), Double(h))
        cairo_fill(cr)
        cairo_restore(cr)
    }

    private var isSVG: Bool { cairo_surface_get_type(cairo_get_target(cr)) == CAIRO_SURFACE_TYPE_SVG }

    /// Repeats every pixel k x k times: (H, W, 3) -> (H k, W k, 3).
    static func enlarge(_ rgb: [UInt8], width: Int, height: Int, by k: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rgb.count * k * k)
        let outW = width * k
        for y in 0 ..< height * k {
            for x in 0 ..< outW {
                let s = 3 * ((y / k) * width + x / k), d = 3 * (y * outW + x)
                out[d] = rgb[s]; out[d + 1] = rgb[s + 1]; out[d + 2] = rgb[s + 2]
            }
        }
        return out
    }

    /// Runs `body` with the origin moved to (dx, dy), restoring the state afterwards.
    public func translated(_ dx: Double, _ dy: Double, _ body: () -> Void) {
        cairo_save(cr)
        cairo_translate(cr, dx, dy)
        body()
        cairo_restore(cr)
    }

    // MARK: cairo plumbing

    func setColor(_ c: Color) { cairo_set_source_rgb(cr, c.r, c.g, c.b) }

    /// The one face every figure uses: DejaVu Sans covers Latin, Greek and Cyrillic.
    static let fontFamily = "DejaVu Sans"

    static func selectFont(_ cr: OpaquePointer, size: Double, bold: Bool) {
        cairo_select_font_face(cr, fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// Unhinted outlines and linear metrics: text measures the same at every scale and differs little between
    /// machines, which keeps golden images stable.
    static func applyFontOptions(_ cr: OpaquePointer) {
        let opts = cairo_font_options_create()
        cairo_font_options_set_hint_style(opts, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(opts, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_antialias(opts, CAIRO_ANTIALIAS_GRAY)
        cairo_set_font_options(cr, opts)
        cairo_font_options_destroy(opts)
    }

    /// Copies (H, W, 3) RGB8 into a new cairo RGB24 surface; nil if cairo cannot allocate it.
    static func makeSurface(_ rgb: [UInt8], width: Int, height: Int) -> OpaquePointer? {
        guard let s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)),
              cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, let data = cairo_image_surface_get_data(s)
        else { return nil }
        let stride = Int(cairo_image_surface_get_stride(s))
        rgb.withUnsafeBufferPointer { src in
            for y in 0 ..< height {
                let row = UnsafeMutableRawPointer(data + y * stride).bindMemory(to: UInt32.self, capacity: width)
                var i = y * width * 3
                for x in 0 ..< width {
                    row[x] = UInt32(src[i]) << 16 | UInt32(src[i + 1]) << 8 | UInt32(src[i + 2])
                    i += 3
                }
            }
        }
        cairo_surface_mark_dirty(s)
        return s
    }
}
