import Imaging

/// A heatmap laid over a picture (a CAM over its input), optionally as an input | heatmap | overlay panel.
///
///     var o = Overlay(image: photo, heat: Heatmap(width: 224, height: 224, values: cam))
///     o.caption = "tabby cat (281)  p = 0.83  ·  Grad-CAM @ fire9"; o.panel = true
///     try FigureWriter.write(o, to: "cam.png")
public struct Overlay: Figure {
    public var image: RGBImage
    /// Values in [0, 1], any resolution; resampled bilinearly to the image's size when they differ.
    public var heat: Heatmap
    public var colormap: Colormap = .jet
    /// Weight of the heatmap's colour: out = (1 - alpha) * image + alpha * colour.
    public var alpha: Float = 0.4
    /// Heat values at which to draw iso-lines (e.g. [0.25, 0.5, 0.75]); none by default.
    public var contourLevels: [Float] = []
    /// Text under the picture(s).
    public var caption: String?
    /// Show input | heatmap | overlay side by side with a colorbar instead of the overlay alone.
    public var panel: Bool = false
    /// Width of each picture in points; by default the image's pixel width clamped to 192 ... 320.
    public var displayWidth: Double?

    /// An overlay of `heat` on `image`.
    public init(image: RGBImage, heat: Heatmap, colormap: Colormap = .jet, alpha: Float = 0.4, caption: String? = nil) {
        self.image = image
        self.heat = heat
        self.colormap = colormap
        self.alpha = alpha
        self.caption = caption
    }

    /// Blends a heatmap into an image per channel: out = round((1 - alpha) * image + alpha * colormap(heat)).
    ///
    /// The heat is quantised as pytorch-grad-cam does (`np.uint8(255 * heat)`) before the colormap lookup.
    /// - Parameters:
    ///   - image: the picture.
    ///   - heat: (H, W) values in [0, 1] at the image's size.
    ///   - colormap: jet by default, as in pytorch-grad-cam.
    ///   - alpha: the heatmap's weight in [0, 1].
    public static func blend(image: RGBImage, heat: [Float], colormap: Colormap = .jet, alpha: Float = 0.4) -> RGBImage {
        precondition(heat.count == image.width * image.height,
                     "Overlay.blend: heat has \(heat.count) values, image is (H, W) = (\(image.height), \(image.width))")
        var out = image.pixels  // (H, W, 3)
        let a = min(max(alpha, 0), 1)
        colormap.table.withUnsafeBufferPointer { t in
            for p in 0 ..< heat.count {
                let j = Int(Colormap.index(heat[p])) * 3
                for ch in 0 ..< 3 {
                    let v = (1 - a) * Float(image.pixels[3 * p + ch]) + a * Float(t[j + ch])
                    out[3 * p + ch] = UInt8(min(max(v.rounded(), 0), 255))
                }
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: out)
    }

    /// The heat at the image's size.
    var heatAtImageSize: Heatmap { heat.resized(width: image.width, height: image.height) }

    /// The blended picture.
    public func blended() -> RGBImage {
        Overlay.blend(image: image, heat: heatAtImageSize.values, colormap: colormap, alpha: alpha)
    }

    // MARK: layout

    private struct Layout {
        var pictures: [Rect]  // overlay alone, or input, heatmap, overlay
        var subtitleY: Double
        var captionLines: [String]
        var captionY: Double
        var size: Size
    }

    private static let subtitles = ["input", "heatmap", "overlay"]

    private var layout: Layout {
        let m = Style.margin, gap = 10.0
        let w = displayWidth ?? min(max(Double(image.width), 192), 320)
        let h = (w * Double(image.height) / Double(max(image.width, 1))).rounded()
        var y = m
        let subtitleY = y
        if panel { y += TextMetrics.lineHeight(size: Style.labelSize) + 4 }
        let n = panel ? 3 : 1
        let pictures = (0 ..< n).map { Rect(x: m + Double($0) * (w + gap), y: y, width: w, height: h) }
        var right = pictures.last!.maxX
        if panel { right += gap + bar.width }
        let wrapWidth = max(right - m, 180)
        let lines = caption.map { TextMetrics.wrap($0, maxWidth: wrapWidth, size: Style.labelSize) } ?? []
        let widest = lines.map { TextMetrics.width($0, size: Style.labelSize) }.max() ?? 0
        let captionY = pictures[0].maxY + 6
        var bottom = pictures[0].maxY + (panel ? Colorbar.overhang : 0)
        if !lines.isEmpty { bottom = captionY + Double(lines.count) * TextMetrics.lineHeight(size: Style.labelSize) * 1.2 }
        let size = Size(width: (max(right, m + widest) + m).rounded(.up), height: (bottom + m).rounded(.up))
        return Layout(pictures: pictures, subtitleY: subtitleY, captionLines: lines, captionY: captionY, size: size)
    }

    private var bar: Colorbar { Colorbar(colormap: colormap, lo: 0, hi: 1) }

    public var size: Size { layout.size }

    public func draw(_ c: Canvas) {
        let l = layout
        let full = heatAtImageSize
        if panel {
            c.image(image, in: l.pictures[0])
            c.pixels(Colorize.rgb(heat.values.map(Colormap.index), colormap), width: heat.width, height: heat.height, in: l.pictures[1])
            for (k, r) in l.pictures.enumerated() {
                c.text(Overlay.subtitles[k], x: r.midX, y: l.subtitleY, size: Style.labelSize, color: .muted, align: .center, baseline: .top)
            }
            bar.draw(c, x: l.pictures[2].maxX + 10, y: l.pictures[2].y, height: l.pictures[2].height)
        }
        let target = l.pictures.last!
        c.image(Overlay.blend(image: image, heat: full.values, colormap: colormap, alpha: alpha), in: target)
        drawContours(c, full, in: target)
        let lh = TextMetrics.lineHeight(size: Style.labelSize) * 1.2
        let centre = panel ? (l.pictures[0].x + l.pictures[2].maxX) / 2 : target.midX
        for (k, line) in l.captionLines.enumerated() {
            c.text(line, x: max(centre, Style.margin + TextMetrics.width(line, size: Style.labelSize) / 2),
                   y: l.captionY + Double(k) * lh, size: Style.labelSize, align: .center, baseline: .top)
        }
    }

    /// Iso-lines of the heat: white with a dark halo so they read on any colour.
    private func drawContours(_ c: Canvas, _ full: Heatmap, in r: Rect) {
        guard !contourLevels.isEmpty else { return }
        let sx = r.width / Double(full.width), sy = r.height / Double(full.height)
        for level in contourLevels {
            let segs = Contours.segments(full.values, width: full.width, height: full.height, level: level)
                .map { (r.x + $0.0 * sx, r.y + $0.1 * sy, r.x + $0.2 * sx, r.y + $0.3 * sy) }
            c.segments(segs, Color(0, 0, 0), width: 1.6)
            c.segments(segs, .white, width: 0.8)
        }
    }
}
