/// Positions of N equal cells in rows of K, each with room for a caption below: shared by the grids.
struct GridLayout {
    var count: Int
    var columns: Int
    /// One cell's picture, in points.
    var cell: Size
    /// Room under each picture for its caption (0 for none).
    var captionHeight: Double
    /// Space between cells, horizontally and vertically.
    var gap: Double
    /// Top-left of the first cell.
    var originX: Double, originY: Double

    var rows: Int { count == 0 ? 0 : (count + columns - 1) / columns }
    var usedColumns: Int { min(count, columns) }
    var width: Double { Double(usedColumns) * cell.width + Double(max(usedColumns - 1, 0)) * gap }
    var height: Double { Double(rows) * (cell.height + captionHeight) + Double(max(rows - 1, 0)) * gap }

    /// The heights in the middle of the gaps between rows, where a page may end.
    var rowBreaks: [Double] {
        (1 ..< max(rows, 1)).map { originY + Double($0) * (cell.height + captionHeight + gap) - gap / 2 }
    }

    /// The picture rectangle of cell i (row-major).
    func rect(_ i: Int) -> Rect {
        let r = i / columns, k = i % columns
        return Rect(x: originX + Double(k) * (cell.width + gap),
                    y: originY + Double(r) * (cell.height + captionHeight + gap),
                    width: cell.width, height: cell.height)
    }

    /// The default tile width for K columns so the grid is about `page` points wide, capped at `maxTile`,
    /// then snapped to whole native pixels when enlarging.
    static func tileWidth(native: Int, columns: Int, gap: Double, page: Double = 1100, maxTile: Double = 160) -> Double {
        let avail = (page - Double(columns - 1) * gap) / Double(columns)
        return Colorize.snap(native: native, target: max(min(avail, maxTile), 4))
    }

    /// Caption font size for tiles `tileWidth` wide: label size on big tiles, down to 6 pt on small ones.
    static func captionSize(tileWidth: Double) -> Double {
        min(Style.labelSize, max(6, (tileWidth * 0.3).rounded()))
    }
}
