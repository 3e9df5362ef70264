import Testing
@testable import Render

@Suite struct TileGridTests {
    @Test func goldenActivations() throws {
        var g = TileGrid(values: Fixtures.blobs(count: 12, height: 8, width: 8), count: 12, height: 8, width: 8, columns: 6)
        g.title = "conv1 activations"
        g.captions = .index
        g.colorbar = true
        g.tileSize = 48
        try Golden.check("tilegrid_minmax", g)
    }

    @Test func goldenSobelValues() throws {
        var g = TileGrid(values: Fixtures.sobel, count: 2, height: 3, width: 3, columns: 2)
        g.showValues = true
        g.colormap = .rdbu
        g.scaling = .range(-2, 2)
        g.captions = .labels(["Sobel x", "Sobel y"])
        g.colorbar = true
        try Golden.check("tilegrid_sobel", g)
    }

    /// Two ramps, 0...1 and 0...10: on their own scales both reach the top of the colormap; on one shared scale the
    /// first reaches a tenth of it (index 25 = floor(0.1 * 255), pytorch-grad-cam's quantisation).
    @Test func sharedTileScaleComparesTilesByStrength() {
        let ramp = (0 ..< 16).map { Float($0) / 15 }                              // (4, 4)
        var g = TileGrid(values: ramp + ramp.map { $0 * 10 }, count: 2, height: 4, width: 4)
        let each = g.indices()
        #expect(each[0].max() == 255 && each[1].max() == 255)
        g.tileScale = .shared
        let shared = g.indices()
        #expect(shared[0].max() == Colormap.index(0.1) && shared[1].max() == 255)
        #expect(shared[1] == each[1])
    }

    /// The Keras standardisation over the whole grid is the same formula applied to all the values at once.
    @Test func sharedStandardisationUsesTheWholeGrid() {
        let values = Fixtures.blobs(count: 6, height: 5, width: 5)                 // (6, 5, 5), tile 3 constant
        var g = TileGrid(values: values, count: 6, height: 5, width: 5)
        g.scaling = .standardize
        g.tileScale = .shared
        #expect(g.indices().flatMap { $0 } == Colorize.standardized(values[...]))
        #expect(!g.perTile, "a constant tile must be coloured on the shared scale, not blanked")
    }

    /// The Julia walkthrough's map: one colour scale for the whole grid, with a colorbar in data units.
    @Test func goldenSharedScale() throws {
        var g = TileGrid(values: Fixtures.blobs(count: 12, height: 8, width: 8), count: 12, height: 8, width: 8, columns: 6)
        g.title = "one scale for the whole map"
        g.captions = .index
        g.tileScale = .shared
        g.colorbar = true
        g.tileSize = 48
        try Golden.check("tilegrid_shared", g)
    }
}
