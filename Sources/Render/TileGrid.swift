/// N single-channel maps (activations, kernels) in rows of K, each coloured on its own scale or all on one.
///
///     var g = TileGrid(values: acts, count: 64, height: 56, width: 56)   // (N, H, W)
///     g.columns = 8; g.title = "conv1 activations"; g.captions = .index
///     try FigureWriter.write(g, to: "conv1.png")
public struct TileGrid: Figure {
    /// Text under each tile.
    public enum Captions: Sendable, Equatable {
        case none
        /// The tile's index, from 0.
        case index
        /// Given strings, one per tile.
        case labels([String])
    }

    /// (N, H, W) row-major values.
    public var values: [Float]
    /// Number of tiles N.
    public var count: Int
    /// Tile rows H and columns W.
    public var tileHeight: Int, tileWidth: Int
    /// Tiles per row K.
    public var columns: Int
    /// `.minmax` (default) and `.standardize` scale each tile alone unless `tileScale` is `.shared`; `.shared` and
    /// `.range` use one scale.
    public var scaling: Scaling = .minmax
    /// `.each` (default): `.minmax` and `.standardize` work tile by tile; `.shared`: over the whole grid at once
    /// (one minimum to maximum, or one mean and deviation), so tiles compare by strength.
    public var tileScale: TileScale = .each
    public var colormap: Colormap = .viridis
    public var captions: Captions = .none
    public var title: String?
    /// A colorbar at the right; per-tile scalings label only its ends.
    public var colorbar: Bool = false
    /// Print each cell's value inside the tile (for small hand-made kernels such as a 3x3 Sobel).
    public var showValues: Bool = false
    /// Display width of one tile in points; chosen from K and the page width when nil.
    public var tileSize: Double?
    /// Space between tiles in points; chosen from the tile size when nil.
    public var gap: Double?

    /// A grid of N maps of H x W.
    /// - Parameters:
    ///   - values: (N, H, W) row-major.
    ///   - count: N.
    ///   - height: H.
    ///   - width: W.
    ///   - columns: tiles per row K; 8 by default.
    public init(values: [Float], count: Int, height: Int, width: Int, columns: Int = 8) {
        precondition(values.count == count * height * width,
                     "TileGrid: \(values.count) values do not fill (N, H, W) = (\(count), \(height), \(width))")
        precondition(columns > 0, "TileGrid: columns must be positive, got \(columns)")
        self.values = values
        self.count = count
        self.tileHeight = height
        self.tileWidth = width
        self.columns = columns
    }

    /// The colour of a tile whose values are all equal (a dead channel).
    public static let blank = Color(0.17, 0.17, 0.19)

    // MARK: layout

    struct Layout {
        var grid: GridLayout
        var size: Size
        var titleY: Double
        var captionSize: Double
        var valueSize: Double
    }

    var layout: Layout {
        let m = Style.margin
        let w: Double
        if let tileSize {
            w = tileSize
        } else if showValues {
            // Cells big enough to hold a number each.
            w = Colorize.snap(native: tileWidth, target: max(Double(tileWidth) * 24, GridLayout.tileWidth(native: tileWidth, columns: columns, gap: 8)))
        } else {
            w = GridLayout.tileWidth(native: tileWidth, columns: columns, gap: tileWidth >= 24 ? 6 : 3)
        }
        let g = gap ?? (w >= 60 ? 6 : max(2, (w * 0.1).rounded()))
        let h = (w * Double(tileHeight) / Double(max(tileWidth, 1))).rounded()
        let capSize = GridLayout.captionSize(tileWidth: w)
        let capH = captions == .none ? 0 : TextMetrics.lineHeight(size: capSize) + 2
        var y = m
        let titleY = y
        if title != nil { y += TextMetrics.lineHeight(size: Style.titleSize) + Style.titleGap }
        let pad = colorbar ? Colorbar.overhang : 0
        let grid = GridLayout(count: count, columns: columns, cell: Size(width: w, height: h),
                              captionHeight: capH, gap: g, originX: m, originY: y + pad)
        var right = grid.originX + grid.width
        if colorbar { right += 10 + bar.width }
        let titleW = Style.titleWidth(title)
        let size = Size(width: max(right + m, titleW).rounded(.up), height: (grid.originY + grid.height + pad + m).rounded(.up))
        return Layout(grid: grid, size: size, titleY: titleY, captionSize: capSize, valueSize: valueFontSize(cell: w / Double(max(tileWidth, 1))))
    }

    public var size: Size { layout.size }

    public var pageBreaks: [Double] { layout.grid.rowBreaks }

    /// Whether each tile is coloured on its own scale.
    var perTile: Bool { tileScale == .each && (scaling == .minmax || scaling == .standardize) }

    var bar: Colorbar {
        switch (scaling, tileScale) {
        case (.minmax, .each): return Colorbar(colormap: colormap, lowLabel: "min", highLabel: "max", label: "per tile")
        case (.standardize, .each): return Colorbar(colormap: colormap, lowLabel: "−2σ", highLabel: "+2σ", label: "per tile")
        case (.standardize, .shared): return Colorbar(colormap: colormap, lowLabel: "−2σ", highLabel: "+2σ", label: "whole grid")
        case (.minmax, .shared), (.shared, _):
            let (lo, hi) = Colorize.extent(values[...])
            return Colorbar(colormap: colormap, lo: Double(lo), hi: Double(hi))
        case let (.range(lo, hi), _): return Colorbar(colormap: colormap, lo: Double(lo), hi: Double(hi))
        }
    }

    /// Colormap indices of every tile, (N, H, W), under `scaling` and `tileScale`.
    func indices() -> [[UInt8]] {
        let n = tileHeight * tileWidth
        let all = values[...]
        let extent = Colorize.extent(all)
        let moments = scaling == .standardize && tileScale == .shared ? Colorize.moments(all) : (0, 0)
        return (0 ..< count).map { i in
            let v = values[(i * n) ..< ((i + 1) * n)]
            switch (scaling, tileScale) {
            case (.minmax, .shared): return Colorize.indices(v, lo: extent.0, hi: extent.1)
            case (.standardize, .shared): return Colorize.standardized(v, mean: moments.0, std: moments.1)
            default: return Colorize.indices(v, scaling: scaling, shared: extent)
            }
        }
    }

    /// One font size for every printed value: fits the widest label in 85% of a cell, at most the label size.
    func valueFontSize(cell: Double) -> Double {
        guard showValues else { return 0 }
        let d = valueDecimals
        let widest = values.map { TileGrid.formatValue($0, decimals: d) }.max { $0.count < $1.count } ?? "0"
        let w1 = TextMetrics.width(widest, size: 1)
        return min(Style.labelSize, cell * 0.45, w1 > 0 ? cell * 0.85 / w1 : Style.labelSize)
    }

    /// The fewest decimals (0, 1 or 2) that show every value exactly, else 2: "−2", "0.5", "0.25".
    var valueDecimals: Int {
        for d in 0 ... 1 {
            let f = Float(pow(10, Double(d)))
            if values.allSatisfy({ abs(($0 * f).rounded() - $0 * f) < 1e-3 }) { return d }
        }
        return 2
    }

    /// A value with a fixed number of decimals and a true minus sign.
    static func formatValue(_ v: Float, decimals: Int) -> String {
        String(format: "%.\(decimals)f", v).replacingOccurrences(of: "-", with: "−")
    }

    // MARK: drawing

    public func draw(_ c: Canvas) {
        let l = layout
        if let title {
            c.title(title, pageWidth: l.size.width, y: l.titleY)
        }
        let n = tileHeight * tileWidth
        let decimals = showValues ? valueDecimals : 0
        let indices = indices()
        for i in 0 ..< count {
            let v = values[(i * n) ..< ((i + 1) * n)]
            let r = l.grid.rect(i)
            var rgb: [UInt8]? = nil
            if perTile && Colorize.isConstant(v) {
                c.fill(r, TileGrid.blank)
            } else {
                let px = Colorize.rgb(indices[i], colormap)
                c.pixels(px, width: tileWidth, height: tileHeight, in: r)
                rgb = px
            }
            if showValues {
                drawValues(c, v, rgb: rgb, in: r, size: l.valueSize, decimals: decimals)
                c.stroke(r, .rule, width: 0.5)
            }
            if let caption = caption(i) {
                let (s, fs) = TextMetrics.fit(caption, maxWidth: r.width + l.grid.gap - 1, size: l.captionSize, minSize: 5)
                c.text(s, x: r.midX, y: r.maxY + 2, size: fs, color: .ink, align: .center, baseline: .top)
            }
        }
        if colorbar { bar.draw(c, x: l.grid.originX + l.grid.width + 10, y: l.grid.originY, height: l.grid.height) }
    }

    private func caption(_ i: Int) -> String? {
        switch captions {
        case .none: return nil
        case .index: return String(i)
        case let .labels(s): return i < s.count ? s[i] : nil
        }
    }

    /// Prints every cell's value centred in the cell, black or white against the cell's colour.
    private func drawValues(_ c: Canvas, _ v: ArraySlice<Float>, rgb: [UInt8]?, in r: Rect, size: Double, decimals: Int) {
        let cw = r.width / Double(tileWidth), ch = r.height / Double(tileHeight)
        for (k, x) in v.enumerated() {
            let bg = rgb.map { Color(bytes: ($0[3 * k], $0[3 * k + 1], $0[3 * k + 2])) } ?? TileGrid.blank
            let cx = r.x + (Double(k % tileWidth) + 0.5) * cw, cy = r.y + (Double(k / tileWidth) + 0.5) * ch
            c.text(TileGrid.formatValue(x, decimals: decimals), x: cx, y: cy, size: size, color: bg.contrastingText, align: .center, baseline: .middle)
        }
    }
}

import Foundation
