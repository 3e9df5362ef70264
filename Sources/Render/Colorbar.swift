/// A vertical colour scale with ticks, drawn at the right of a map or matrix.
public struct Colorbar: Sendable {
    /// The map the strip shows, index 0 at the bottom.
    public var colormap: Colormap
    /// The data values at the bottom and top of the strip.
    public var lo: Double, hi: Double
    /// Tick positions (data values) and their labels; by default about five round numbers.
    public var ticks: [(value: Double, label: String)]
    /// An optional caption written vertically beside the tick labels.
    public var label: String?

    /// A colorbar with round-number ticks over [lo, hi].
    public init(colormap: Colormap, lo: Double, hi: Double, label: String? = nil) {
        self.colormap = colormap
        self.lo = lo
        self.hi = hi
        self.ticks = Ticks.nice(lo: lo, hi: hi).map { ($0, Ticks.format($0, step: Ticks.step(lo: lo, hi: hi))) }
        self.label = label
    }

    /// A colorbar labelled only at its ends, for per-tile scales where numbers would mislead.
    public init(colormap: Colormap, lowLabel: String, highLabel: String, label: String? = nil) {
        self.colormap = colormap
        self.lo = 0
        self.hi = 1
        self.ticks = [(0, lowLabel), (1, highLabel)]
        self.label = label
    }

    /// The width the colorbar occupies, strip plus ticks, labels and caption.
    public var width: Double {
        let labelW = ticks.map { TextMetrics.width($0.label, size: Style.tickSize) }.max() ?? 0
        let caption = label == nil ? 0 : 4 + TextMetrics.lineHeight(size: Style.labelSize)
        return Style.colorbarWidth + 3 + 2 + labelW + caption
    }

    /// Vertical room the end tick labels need beyond the strip (half a line at each end).
    public static var overhang: Double { TextMetrics.lineHeight(size: Style.tickSize) / 2 }

    /// Draws the colorbar with its strip's top-left corner at (x, y).
    /// - Parameters:
    ///   - height: the strip's height in points.
    public func draw(_ c: Canvas, x: Double, y: Double, height: Double) {
        var strip = [UInt8](repeating: 0, count: 256 * 3)  // (256, 1, 3), top row = index 255
        for i in 0 ..< 256 {
            let (r, g, b) = colormap.rgb(index: UInt8(255 - i))
            strip[3 * i] = r; strip[3 * i + 1] = g; strip[3 * i + 2] = b
        }
        let rect = Rect(x: x, y: y, width: Style.colorbarWidth, height: height)
        c.pixels(strip, width: 1, height: 256, in: rect, smooth: false)
        c.stroke(rect, .muted, width: 0.5)
        let span = hi - lo
        var labelW = 0.0
        for t in ticks {
            let f = span == 0 ? 0.5 : (t.value - lo) / span
            guard f >= -1e-9, f <= 1 + 1e-9 else { continue }
            let ty = rect.maxY - f * height
            c.segments([(rect.maxX, ty, rect.maxX + 3, ty)], .muted, width: 0.5)
            c.text(t.label, x: rect.maxX + 5, y: ty, size: Style.tickSize, color: .muted, baseline: .middle)
            labelW = max(labelW, TextMetrics.width(t.label, size: Style.tickSize))
        }
        if let label {
            let lx = rect.maxX + 5 + labelW + 4 + TextMetrics.ascentDescent(size: Style.labelSize).0
            // Written upwards along the strip: as long as the strip and its end labels, never longer.
            let (text, size) = TextMetrics.fit(label, maxWidth: height + 2 * Colorbar.overhang, size: Style.labelSize, minSize: 6)
            c.text(text, x: lx, y: rect.midY, size: size, color: .ink, align: .center, angle: 90)
        }
    }
}

/// Round-number axis ticks.
enum Ticks {
    /// The distance between ticks: 1, 2 or 5 times a power of ten, giving about `count` ticks.
    static func step(lo: Double, hi: Double, count: Int = 5) -> Double {
        let span = abs(hi - lo)
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(1, count - 1))
        let mag = pow(10, (log10(raw)).rounded(.down))
        let f = raw / mag
        let nice: Double = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        return nice * mag
    }

    /// Multiples of `step` inside [lo, hi]; the two ends alone when the range is empty.
    static func nice(lo: Double, hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, (hi - lo).isFinite else { return [lo] }
        let s = step(lo: lo, hi: hi, count: count)
        var out: [Double] = []
        var v = (lo / s).rounded(.up) * s
        while v <= hi + s * 1e-9 {
            out.append(abs(v) < s * 1e-9 ? 0 : v)
            v += s
        }
        return out
    }

    /// A tick label with as many decimals as `step` needs ("0.25", "-1", "1e+04").
    static func format(_ v: Double, step: Double) -> String {
        if v != 0 && (abs(v) >= 1e5 || abs(v) < 1e-4) { return String(format: "%.0e", v) }
        let decimals = max(0, Int((-log10(step)).rounded(.up)))
        return String(format: "%.\(min(decimals, 6))f", v).replacingOccurrences(of: "-", with: "−")
    }
}

import Foundation
