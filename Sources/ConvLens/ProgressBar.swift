import Analysis
import Foundation

/// A one-line progress bar on standard error, redrawn in place: what is done, the bar, and the time left.
public final class ProgressBar {
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let width = 30

    /// A bar when standard error is a terminal, else nil (no bar in logs and pipes).
    public static func ifTerminal() -> ProgressBar? { isatty(2) != 0 ? ProgressBar() : nil }

    /// Redraws the bar for filter patterns: filters done, and the time left from the optimisation steps.
    public func update(_ p: FilterPatterns.Progress) {
        update(fraction: Double(p.stepsDone) / Double(max(p.stepsTotal, 1)), "\(p.filtersDone)/\(p.filtersTotal) filters")
    }

    /// Redraws the bar with the report's current stage.
    public func update(_ p: ReportJob.Progress) {
        update(done: p.done, total: p.total, what: p.stage)
    }

    /// Redraws the bar: `done` of `total` units, and what is being done.
    public func update(done: Double, total: Double, what: String) {
        update(fraction: done / max(total, 1e-9), what)
    }

    /// Redraws the bar (at most ten times a second, and always at the end).
    /// - Parameters:
    ///   - fraction: of the work done, 0...1.
    ///   - label: what is done, e.g. "12/64 filters" or "256/512 channels".
    public func update(fraction: Double, _ label: String) {
        let now = Date(), finished = fraction >= 1
        guard finished || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let f = min(max(fraction, 0), 1)
        let elapsed = now.timeIntervalSince(start)
        let eta = f > 0 ? elapsed * (1 - f) / f : 0
        let filled = Int((f * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        // Erase to the end of the line: a shorter label must not leave the tail of a longer one.
        let line = "\r\(bar) \(label)  " + (finished ? "\(Self.clock(elapsed)) total\u{1B}[K\n" : "ETA \(Self.clock(eta))\u{1B}[K")
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// "1:05" or "0:07".
    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return String(format: "%d:%02d", t / 60, t % 60)
    }
}
