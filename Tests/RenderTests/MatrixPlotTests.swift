import Testing
@testable import Render

@Suite struct MatrixPlotTests {
    static let labels = ["кошка", "кофе", "tabby cat", "espresso", "golden retriever"]

    static func correlation() -> [Float] {
        let n = labels.count
        var v = [Float](repeating: 0, count: n * n)  // (n, n)
        for i in 0 ..< n { for j in 0 ..< n { v[i * n + j] = i == j ? 1 : Float(((i + 1) * (j + 1)) % 7 - 3) / 4 } }
        return v
    }

    @Test func goldenCyrillicWithDendrogram() throws {
        var p = MatrixPlot(values: Self.correlation(), rows: 5, columns: 5, rowLabels: Self.labels)
        p.range = .correlation
        p.title = "Корреляция признаков"
        p.colorbarLabel = "r"
        p.dendrogram = [(0, 2, 0.3), (1, 3, 0.5), (4, 5, 0.7), (6, 7, 1.0)]
        try Golden.check("matrix_cyrillic_dendrogram", p)
    }

    @Test func goldenSequentialUnlabelled() throws {
        var p = MatrixPlot(values: (0 ..< 24 * 30).map { Float(($0 * 37) % 101) }, rows: 24, columns: 30)
        p.colormap = .magma
        p.range = .minmax
        p.cellSize = 6
        try Golden.check("matrix_sequential", p)
    }

    /// DejaVu Sans has Cyrillic glyphs: missing glyphs would all share the .notdef box's width.
    @Test func cyrillicGlyphsAreReal() {
        let w = ["к", "о", "ш", "а", "ф", "е"].map { TextMetrics.width($0, size: 10) }
        #expect(Set(w).count > 2, "Cyrillic letters all measure \(w): the font has no Cyrillic glyphs")
        #expect(TextMetrics.width("ш", size: 10) > TextMetrics.width("о", size: 10))
    }

    /// from scipy.cluster.hierarchy import dendrogram  (scipy 1.x)
    /// Z = np.array([[0, 2, 0.3, 2], [1, 3, 0.5, 2], [4, 5, 0.7, 3], [6, 7, 1.0, 5]])
    /// dendrogram(Z, no_plot=True)['leaves']  ->  [1, 3, 4, 0, 2]
    @Test func leafOrderFollowsTheLinkage() {
        #expect(MatrixPlot.leafOrder([(0, 2, 0.3), (1, 3, 0.5), (4, 5, 0.7), (6, 7, 1.0)], leaves: 5) == [1, 3, 4, 0, 2])
        var p = MatrixPlot(values: Self.correlation(), rows: 5, columns: 5, rowLabels: Self.labels)
        p.dendrogram = [(0, 2, 0.3), (1, 3, 0.5), (4, 5, 0.7), (6, 7, 1.0)]
        #expect(p.rowPermutation == [1, 3, 4, 0, 2])
        #expect(p.columnPermutation == [1, 3, 4, 0, 2])
        p.rowOrder = [1, 0, 2, 3, 4]
        #expect(p.rowPermutation == [1, 0, 2, 3, 4])
    }

    @Test func rangeIsSymmetricAroundZero() {
        var p = MatrixPlot(values: [-0.2, 0.5, 0.1, 0.3], rows: 2, columns: 2)
        #expect(p.dataRange == (-0.5, 0.5))
        p.range = .correlation
        #expect(p.dataRange == (-1, 1))
        #expect(p.annotated)
        #expect(!MatrixPlot(values: [Float](repeating: 0, count: 21 * 3), rows: 21, columns: 3).annotated)
    }

    /// Long column labels are rotated and the page grows to hold them: nothing is drawn outside the page.
    @Test func longColumnLabelsFitThePage() {
        let labels = ["a very long class name indeed", "b", "c"]
        let p = MatrixPlot(values: [Float](repeating: 0.5, count: 9), rows: 3, columns: 3, rowLabels: labels)
        let l = p.layout
        #expect(l.rotateColumns)
        let reach = MatrixPlot.sin45 * (TextMetrics.width(labels[0], size: l.labelSize) + TextMetrics.lineHeight(size: l.labelSize))
        #expect(l.matrix.x + 0.5 * l.cell - reach >= 0)
        #expect(l.matrix.maxY + reach <= l.size.height)
    }
}
