import Foundation
import Imaging
import Testing
@testable import Render

/// Golden images of the remaining figure kinds, and layout properties of the tile grid.
@Suite struct FigureTests {
    @Test func goldenHeatmap() throws {
        let h = Heatmap(width: 8, height: 6, values: Fixtures.heat(width: 8, height: 6), colormap: .inferno, title: "Grad-CAM")
        var small = h
        small.displayWidth = 128
        try Golden.check("heatmap", small)
    }

    @Test func goldenImageGrid() throws {
        let images = (0 ..< 5).map { Fixtures.photo(width: 32 + 4 * $0, height: 24) }
        var g = ImageGrid(images: images, columns: 3, captions: ["fire9 #0", "fire9 #1", "очень длинная подпись к фильтру", "fire9 #3", "fire9 #4"],
                          title: "fire9 filter patterns")
        g.tileSize = 80
        try Golden.check("imagegrid", g)
    }

    @Test func goldenStripPlot() throws {
        let a: [Float] = (0 ..< 32).map { sin(Float($0) * 0.4) }
        let b: [Float] = (0 ..< 32).map { cos(Float($0) * 0.3) }
        var s = StripPlot(items: [("tabby cat", a), ("кошка", b)], title: "avgpool features")
        s.displayWidth = 160
        try Golden.check("stripplot_shared", s)
        s.scaling = .minmax
        s.items[1].values = (0 ..< 32).map { Float($0) * 10 }
        try Golden.check("stripplot_perrow", s)
    }

    @Test func goldenPanelsNest() throws {
        var h = Heatmap(width: 8, height: 6, values: Fixtures.heat(width: 8, height: 6))
        h.displayWidth = 96
        h.colorbar = false
        var g = TileGrid(values: Fixtures.blobs(count: 6, height: 5, width: 5), count: 6, height: 5, width: 5, columns: 3)
        g.tileSize = 30
        let inner = Panels([h, g], columns: 2, titles: ["heatmap", "tiles"])
        let text = TextBlock(["model: SqueezeNet 1.1", "layer: fire9", "method: Grad-CAM"], title: "Settings")
        try Golden.check("panels", Panels([inner, text], columns: 1, titles: ["nested panels", "text block"], title: "Panels"))
    }

    @Test func goldenSmallTilesInRowsOf16() throws {
        var g = TileGrid(values: Fixtures.blobs(count: 40, height: 7, width: 7), count: 40, height: 7, width: 7, columns: 16)
        g.captions = .index
        g.scaling = .standardize
        g.colormap = .gray
        try Golden.check("tilegrid_standardize", g)
    }

    /// 512 tiles of 7x7 in rows of 32 and 64 tiles of 112x112 in rows of 8 both land on a page 900 to 2000 pt wide
    /// with whole-pixel tiles.
    @Test func tileGridPagesAreReasonable() {
        let a = TileGrid(values: [Float](repeating: 0, count: 512 * 49), count: 512, height: 7, width: 7, columns: 32)
        let b = TileGrid(values: [Float](repeating: 0, count: 64 * 112 * 112), count: 64, height: 112, width: 112, columns: 8)
        for g in [a, b] {
            let w = g.layout.grid.cell.width
            #expect(g.size.width >= 900 && g.size.width <= 2000, "page \(g.size) for \(g.count) tiles of \(g.tileWidth)")
            #expect(w.truncatingRemainder(dividingBy: Double(g.tileWidth)) == 0, "tile \(w) pt is not whole pixels of \(g.tileWidth)")
        }
    }

    /// Keras book: x -= x.mean(); x /= (x.std() + 1e-5); x *= 64; x += 128; np.clip(x, 0, 255).astype('uint8')
    /// on [0, 1, 2, 3, 10, -4] (float32) gives [97, 112, 128, 143, 249, 36].
    @Test func standardizeMatchesKeras() {
        #expect(Colorize.standardized([0, 1, 2, 3, 10, -4]) == [97, 112, 128, 143, 249, 36])
        #expect(Colorize.isConstant([0, 0, 0, 0][...]))
        #expect(Colorize.indices([0, 0.5, 1][...], lo: 0, hi: 1) == [0, 127, 255])
    }

    @Test func valueLabelsUseOneDecimalCount() {
        var g = TileGrid(values: Fixtures.sobel, count: 2, height: 3, width: 3)
        #expect(g.valueDecimals == 0)
        g.values[0] = 0.5
        #expect(g.valueDecimals == 1)
        #expect(TileGrid.formatValue(-2, decimals: 0) == "−2")
        #expect(StripPlot.shape(for: 512) == (16, 32))
        #expect(StripPlot.shape(for: 1000) == (20, 50))
        #expect(StripPlot.shape(for: 2048) == (32, 64))
    }
}
