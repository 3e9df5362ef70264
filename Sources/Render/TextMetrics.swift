import CCairo
import Foundation

/// Measures text in the house face without a page, so figures can lay themselves out before drawing.
///
/// One scratch cairo context serves every measurement, behind a lock (cairo contexts are not thread-safe).
public enum TextMetrics {
    /// The advance width of `s` in points.
    public static func width(_ s: String, size: Double, bold: Bool = false) -> Double {
        guard !s.isEmpty else { return 0 }
        return scratch.withContext { cr in
            Canvas.selectFont(cr, size: size, bold: bold)
            var ext = cairo_text_extents_t()
            cairo_text_extents(cr, s, &ext)
            return ext.x_advance
        }
    }

    /// The font's ascent and descent in points at `size` (both positive).
    public static func ascentDescent(size: Double) -> (Double, Double) {
        let unit = scratch.unitExtents
        return (unit.0 * size, unit.1 * size)
    }

    /// The height of one line of text at `size`: ascent plus descent.
    public static func lineHeight(size: Double) -> Double {
        let (a, d) = ascentDescent(size: size)
        return a + d
    }

    /// Fits `s` into `maxWidth`: shrinks the font from `size` down to `minSize`, then cuts the end with "…".
    ///
    /// The cut is found by bisection on the number of characters kept (a prefix is never wider than a longer
    /// one), so a caption of n characters costs about log2(n) measurements, not n.
    /// - Returns: the text to draw and the font size to draw it at.
    public static func fit(_ s: String, maxWidth: Double, size: Double, minSize: Double, bold: Bool = false) -> (String, Double) {
        fit(s, maxWidth: maxWidth, size: size, minSize: minSize) { width($0, size: $1, bold: bold) }
    }

    /// `fit` with the measuring function given: `measure(text, size)` is the text's width.
    static func fit(_ s: String, maxWidth: Double, size: Double, minSize: Double, measure: (String, Double) -> Double) -> (String, Double) {
        let w = measure(s, size)
        guard w > maxWidth, w > 0 else { return (s, size) }
        let shrunk = max(minSize, size * maxWidth / w)
        if measure(s, shrunk) <= maxWidth { return (s, shrunk) }
        let chars = Array(s)
        func cut(_ k: Int) -> String { String(chars[..<k]) + "…" }
        // The most characters k in 0 ..< count whose cut fits; the whole text did not fit even without "…".
        var lo = 0, hi = chars.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if measure(cut(mid), shrunk) <= maxWidth { lo = mid } else { hi = mid - 1 }
        }
        if lo == 0 && measure("…", shrunk) > maxWidth { return ("", shrunk) }
        return (cut(lo), shrunk)
    }

    private static let scratch = Scratch()

    private final class Scratch: @unchecked Sendable {
        private let lock = NSLock()
        private let surface: OpaquePointer
        private let cr: OpaquePointer
        /// Ascent and descent of a 1-point font.
        let unitExtents: (Double, Double)

        init() {
            surface = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1)
            cr = cairo_create(surface)
            Canvas.applyFontOptions(cr)
            Canvas.selectFont(cr, size: 100, bold: false)
            var fe = cairo_font_extents_t()
            cairo_font_extents(cr, &fe)
            unitExtents = (fe.ascent / 100, fe.descent / 100)
        }

        func withContext<T>(_ body: (OpaquePointer) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(cr)
        }
    }
}

extension TextMetrics {
    /// Breaks `s` into lines no wider than `maxWidth`: at " · " separators first, then at spaces (a single long
    /// word gets its own line).
    ///
    /// A line never breaks inside a number group: a relation sign (`=`, `≈`, `<`, `≤`, `>`, `≥`, `±`, `×`) stays
    /// with the words on both its sides ("p = 0.254"), and words joined by a no-break space (U+00A0 or U+202F) stay
    /// together, as in "512\u{A0}channels".
    public static func wrap(_ s: String, maxWidth: Double, size: Double, bold: Bool = false) -> [String] {
        if width(s, size: size, bold: bold) <= maxWidth { return [s] }
        let parts = s.components(separatedBy: "·").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if parts.count > 1 {
            var lines: [String] = []
            var current = ""
            for part in parts {
                let candidate = current.isEmpty ? part : current + "  ·  " + part
                if current.isEmpty || width(candidate, size: size, bold: bold) <= maxWidth {
                    current = candidate
                } else {
                    lines.append(current)
                    current = part
                }
            }
            lines.append(current)
            return lines.flatMap { width($0, size: size, bold: bold) <= maxWidth ? [$0] : wrapWords($0, maxWidth: maxWidth, size: size, bold: bold) }
        }
        return wrapWords(s, maxWidth: maxWidth, size: size, bold: bold)
    }

    /// Signs that bind the words on both sides into one unbreakable group.
    static let relations: Set<String> = ["=", "≈", "<", "≤", ">", "≥", "±", "×", "~"]

    /// The words of `s` (split at plain spaces only), with each relation sign joined to its neighbours.
    static func unbreakableGroups(_ s: String) -> [String] {
        var groups: [String] = []
        var joinNext = false
        for word in s.split(separator: " ").map(String.init) {
            let relation = relations.contains(word)
            if let last = groups.last, joinNext || relation {
                groups[groups.count - 1] = last + " " + word
            } else {
                groups.append(word)
            }
            joinNext = relation
        }
        return groups
    }

    private static func wrapWords(_ s: String, maxWidth: Double, size: Double, bold: Bool) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in unbreakableGroups(s) {
            let candidate = current.isEmpty ? word : current + " " + word
            if current.isEmpty || width(candidate, size: size, bold: bold) <= maxWidth {
                current = candidate
            } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
