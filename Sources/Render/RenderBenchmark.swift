import Foundation

/// Timings of the two figures most likely to be slow, rendered to PNG in memory at the default scale.
public enum RenderBenchmark {
    /// Runs each case a few times and reports the median wall time.
    /// - Returns: (case name, median seconds) pairs.
    public static func run(repeats: Int = 5) -> [(name: String, seconds: Double)] {
        var grid = TileGrid(values: (0 ..< 512 * 49).map { Float(($0 * 7919) % 101) / 100 }, count: 512, height: 7, width: 7, columns: 32)
        grid.captions = .index
        grid.title = "512 tiles of 7x7"
        var matrix = MatrixPlot(values: (0 ..< 64).map { Float((($0 * 37) % 41) - 20) / 20 }, rows: 8, columns: 8,
                                rowLabels: (0 ..< 8).map { "channel \($0)" })
        matrix.range = .correlation
        matrix.title = "8x8 correlation"
        return [("tilegrid 512x(7x7) png", median(repeats) { grid }),
                ("matrix 8x8 labelled png", median(repeats) { matrix })]
    }

    private static func median(_ n: Int, _ make: () -> any Figure) -> Double {
        var times: [Double] = []
        for _ in 0 ..< max(1, n) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try? FigureWriter.render(make(), format: .png)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}
