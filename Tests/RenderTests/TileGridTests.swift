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
}
