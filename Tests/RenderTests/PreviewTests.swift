import Foundation
import Imaging
import Testing
@testable import Render

/// Full-size figures for a person to look at: `CONVLENS_RENDER_PREVIEW=/tmp/preview swift test --filter Preview`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CONVLENS_RENDER_PREVIEW"] != nil))
struct PreviewTests {
    let dir = ProcessInfo.processInfo.environment["CONVLENS_RENDER_PREVIEW"] ?? "/tmp"

    @Test func writePreviews() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var big = TileGrid(values: Fixtures.blobs(count: 512, height: 7, width: 7), count: 512, height: 7, width: 7, columns: 32)
        big.captions = .index; big.title = "fire9 activations (512 channels)"; big.colorbar = true
        try FigureWriter.write(big, to: "\(dir)/tiles512.png")
        var large = TileGrid(values: Fixtures.blobs(count: 64, height: 112, width: 112), count: 64, height: 112, width: 112, columns: 8)
        large.captions = .index; large.title = "conv1 activations"; large.scaling = .standardize; large.colormap = .gray
        try FigureWriter.write(large, to: "\(dir)/tiles64.png", scale: 1)
        var lines = TileGrid(values: Fixtures.blobs(count: 8, height: 7, width: 7).map { ($0 * 10).rounded() / 10 }, count: 8, height: 7, width: 7, columns: 4)
        lines.showValues = true; lines.title = "7x7 line filters"; lines.captions = .index
        try FigureWriter.write(lines, to: "\(dir)/lines7.png")

        let photo = Fixtures.photo(width: 224, height: 168)
        var o = Overlay(image: photo, heat: Heatmap(width: 7, height: 7, values: Fixtures.heat(width: 7, height: 7)))
        o.caption = "tabby cat (281)  p = 0.83  ·  Grad-CAM @ fire9"
        o.panel = true
        o.contourLevels = [0.5, 0.8]
        try FigureWriter.write(o, to: "\(dir)/overlay_panel.png")
        var o2 = o; o2.panel = false; o2.caption = "Egyptian cat (285)  p = 0.09  ·  Grad-CAM @ fire9"; o2.contourLevels = []
        var o3 = o2; o3.caption = "кошка (281)  p = 0.83"
        try FigureWriter.write(Panels([o2, o3, o2], columns: 3, titles: ["top-1", "top-2", "top-3"], title: "Grad-CAM, top 3"), to: "\(dir)/panels.png")

        let n = 12
        var corr = [Float](repeating: 0, count: n * n)
        for i in 0 ..< n { for j in 0 ..< n { corr[i * n + j] = i == j ? 1 : cos(Float(i - j) * 0.6) * 0.9 } }
        var mp = MatrixPlot(values: corr, rows: n, columns: n, rowLabels: (0 ..< n).map { ["кошка", "кофе", "tabby cat", "golden retriever", "espresso"][$0 % 5] + " \($0)" })
        mp.range = .correlation; mp.title = "Embedding correlation"; mp.colorbarLabel = "Pearson r"
        mp.dendrogram = [(0, 1, 0.2), (2, 12, 0.4), (3, 4, 0.3), (5, 6, 0.25), (7, 8, 0.35), (9, 10, 0.1), (11, 17, 0.5),
                         (13, 14, 0.6), (15, 16, 0.55), (18, 20, 0.8), (19, 21, 1.0)]
        try FigureWriter.write(mp, to: "\(dir)/matrix.png")
        var big2 = MatrixPlot(values: (0 ..< 40 * 30).map { sin(Float($0) * 0.37) }, rows: 40, columns: 30)
        big2.title = "40 x 30, no labels"
        try FigureWriter.write(big2, to: "\(dir)/matrix_big.png")

        var sp = StripPlot(items: [("tabby cat", (0 ..< 512).map { sin(Float($0) * 0.1) }), ("кошка", (0 ..< 512).map { cos(Float($0) * 0.05) }),
                                   ("espresso", (0 ..< 512).map { Float($0 % 17) / 17 })], title: "avgpool features (512-d)")
        try FigureWriter.write(sp, to: "\(dir)/strip.png")
        sp.scaling = .minmax
        sp.items = sp.items.map { ($0.label, (0 ..< 1000).map { i in Float(i % 37) }) }
        try FigureWriter.write(sp, to: "\(dir)/strip1000.png")
        var hm = Heatmap(width: 14, height: 14, values: Fixtures.heat(width: 14, height: 14), colormap: .magma, title: "Grad-CAM")
        hm.scaling = .minmax
        try FigureWriter.write(hm, to: "\(dir)/heatmap.png")
        let imgs = (0 ..< 10).map { k in Fixtures.photo(width: 64 + k, height: 64) }
        try FigureWriter.write(ImageGrid(images: imgs, columns: 5, captions: (0 ..< 10).map { "fire9 #\($0 * 37)" }, title: "fire9 filter patterns"), to: "\(dir)/images.png")
        var longLabels = MatrixPlot(values: [1, 0.2, -0.3, 0.2, 1, 0.5, -0.3, 0.5, 1], rows: 3, columns: 3,
                                    rowLabels: ["a very long class name indeed", "b", "очень длинное имя класса"])
        longLabels.range = .correlation
        try FigureWriter.write(longLabels, to: "\(dir)/matrix_long.png")
        for f in ["svg", "pdf"] { try FigureWriter.write(big, to: "\(dir)/tiles512.\(f)"); try FigureWriter.write(mp, to: "\(dir)/matrix.\(f)") }
    }
}
