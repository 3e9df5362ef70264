import Foundation
import Imaging
import Render
import Resampling

/// The figures of `convlens gradcam`: maps over the whole photo (the region the model saw, the rest dimmed) or over
/// the model's input, bare or captioned, one panel per (image, class).
enum CAMFigure {
    /// One computed map and what to draw it over.
    struct Map {
        let image: PreparedImage
        /// (H, W) in [0, 1], at the model's input.
        let heat: [Float]
        /// The model input's (W, H).
        let side: (width: Int, height: Int)
        /// An image method's result (guided backpropagation), drawn beside the input instead of an overlay.
        let picture: RGBImage?
        let caption: String
    }

    struct Style {
        let view: GradCAMOptions.View
        let colormap: Colormap
        let alpha: Float
        let panel: Bool
        let title: String?
    }

    /// How much of a pixel outside the model's region is kept: 0.4 of its brightness.
    static let dim: Float = 0.4

    /// The figure for a run, and the PNG scale to write it at.
    /// - Parameters:
    ///   - maps: image-major, `ranks` per image.
    ///   - scale: the user's; nil gives 1 for a bare overlay (one pixel per photo pixel, less for a photo wider or
    ///     taller than a PNG surface allows) and 2 for the rest.
    static func make(_ maps: [Map], images n: Int, ranks: Int, style: Style, scale: Double?) -> (any Figure, Double) {
        if maps.count == 1, maps[0].picture == nil, !style.panel {
            let overlay = blended(maps[0], style)
            var figure: any Figure = Picture(overlay)
            if let title = style.title {
                var grid = ImageGrid(images: [overlay], columns: 1, title: title)
                grid.tileSize = Double(overlay.width)
                figure = grid
            }
            return (figure, scale ?? min(1, Double(Outputs.maxPixelsPerSide) / max(figure.size.width, figure.size.height)))
        }
        var figures: [any Figure] = []
        for i in 0 ..< n {
            let row = Array(maps[i * ranks ..< (i + 1) * ranks])
            if style.panel && ranks > 1 {                      // the input once, then one overlay per class
                figures.append(captioned(source(row[0], style), caption: "input", style))
                figures += row.map { m in m.picture.map { captioned($0, caption: m.caption, style) } ?? captioned(blended(m, style), caption: m.caption, style) }
            } else {
                figures += row.map { figure($0, style) }
            }
        }
        let columns = style.panel && ranks > 1 ? ranks + 1 : ranks > 1 ? ranks : min(n, 4)
        if figures.count == 1 && style.title == nil { return (figures[0], scale ?? 2) }
        return (Panels(figures, columns: columns, title: style.title), scale ?? 2)
    }

    /// One (image, class) figure: an image method's picture beside the input, a panel, or a captioned overlay.
    static func figure(_ m: Map, _ style: Style) -> any Figure {
        if let picture = m.picture {
            return ImageGrid(images: [m.image.crop, picture], columns: 2, captions: ["input", m.caption])
        }
        guard style.view == .photo, m.image.photo != nil else {          // the model's input, as Overlay draws it
            var o = Overlay(image: m.image.crop, heat: Heatmap(width: m.side.width, height: m.side.height, values: m.heat),
                            colormap: style.colormap, alpha: style.alpha, caption: m.caption)
            o.panel = style.panel
            return o
        }
        guard style.panel else { return captioned(blended(m, style), caption: m.caption, style) }
        var heat = Heatmap(width: m.side.width, height: m.side.height, values: m.heat, colormap: style.colormap)
        heat.scaling = .range(0, 1)
        let photo = source(m, style), width = displayWidth(photo)
        heat.displayWidth = min(width, width * Double(photo.height) / Double(photo.width))   // no taller than the photo
        return Panels([captioned(photo, caption: nil, style), heat, captioned(blended(m, style), caption: nil, style)],
                      columns: 3, titles: ["input", "heatmap (the model's view)", "overlay"], title: m.caption)
    }

    /// A picture at the display width, with a caption under it.
    static func captioned(_ image: RGBImage, caption: String?, _ style: Style) -> ImageGrid {
        var g = ImageGrid(images: [image], columns: 1, captions: caption.map { [$0] } ?? [])
        g.tileSize = displayWidth(image)
        return g
    }

    /// Points across for a picture: its pixel width, clamped to 192 ... 320 (as `Overlay`).
    static func displayWidth(_ image: RGBImage) -> Double { min(max(Double(image.width), 192), 320) }

    /// What the map is drawn over: the photo, or the model's input.
    static func source(_ m: Map, _ style: Style) -> RGBImage {
        style.view == .photo ? m.image.photo ?? m.image.crop : m.image.crop
    }

    /// The overlay for the style's view.
    static func blended(_ m: Map, _ style: Style) -> RGBImage {
        guard style.view == .photo, let photo = m.image.photo else {
            let heat = Heatmap(width: m.side.width, height: m.side.height, values: m.heat)
            return Overlay.blend(image: m.image.crop, heat: heat.resized(width: m.image.crop.width, height: m.image.crop.height).values,
                                 colormap: style.colormap, alpha: style.alpha)
        }
        return overPhoto(photo, heat: m.heat, side: m.side, region: m.image.region, colormap: style.colormap, alpha: style.alpha)
    }

    /// The map over the whole photo: resampled onto the region the model saw (bilinear with half-pixel centres, as
    /// `Heatmap.resized` and OpenCV), blended there as `Overlay.blend` does, and every pixel outside the region dimmed.
    /// - Parameters:
    ///   - photo: the original image, (H, W, 3).
    ///   - heat: (h, w) values in [0, 1] at the model's input.
    ///   - side: the input's (w, h).
    ///   - region: where the input lies in the photo, in photo pixels.
    static func overPhoto(_ photo: RGBImage, heat: [Float], side: (width: Int, height: Int), region: InputRegion,
                          colormap: Colormap, alpha: Float) -> RGBImage {
        let (pw, ph) = (photo.width, photo.height), (sw, sh) = side
        // The photo's rows and columns whose pixel centres lie within the region, and where they read the map.
        let rows = (0 ..< ph).filter { Double($0) + 0.5 >= region.y && Double($0) + 0.5 < region.y + region.height }
        let columns = (0 ..< pw).filter { Double($0) + 0.5 >= region.x && Double($0) + 0.5 < region.x + region.width }
        let fx = Double(sw) / region.width, fy = Double(sh) / region.height
        let inner = Resample.bilinear(heat, h: sh, w: sw,                // (rows, columns)
                                      rows: Resample.taps(sh, at: rows.map { (Double($0) + 0.5 - region.y) * fy - 0.5 }),
                                      columns: Resample.taps(sw, at: columns.map { (Double($0) + 0.5 - region.x) * fx - 0.5 }))
        var full = [Float](repeating: 0, count: pw * ph)               // (H, W) heat over the photo
        var inside = [Bool](repeating: false, count: pw * ph)          // (H, W) pixel centre within the region
        for (i, y) in rows.enumerated() {
            for (j, x) in columns.enumerated() {
                full[y * pw + x] = inner[i * columns.count + j]
                inside[y * pw + x] = true
            }
        }
        var out = Overlay.blend(image: photo, heat: full, colormap: colormap, alpha: alpha)
        for p in 0 ..< pw * ph where !inside[p] {
            for c in 0 ..< 3 { out.pixels[3 * p + c] = UInt8((Float(photo.pixels[3 * p + c]) * dim).rounded()) }
        }
        return out
    }
}
