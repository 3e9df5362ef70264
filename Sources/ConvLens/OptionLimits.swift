import Foundation
import Support

/// The accepted range of a numeric option, with the one message every refusal uses:
/// "--scale must be in (0, 16], got -1".
public struct OptionLimit: Sendable {
    /// The option as typed, e.g. "--scale".
    public let name: String
    public let lower: Double
    public let upper: Double
    /// Whether `lower` itself is refused, "(0, 16]" instead of "[0, 16]".
    public let excludesLower: Bool

    public init(_ name: String, _ lower: Double, _ upper: Double, excludesLower: Bool = false) {
        self.name = name
        self.lower = lower
        self.upper = upper
        self.excludesLower = excludesLower
    }

    /// "(0, 16]" or "[1, 1024]".
    public var range: String { "\(excludesLower ? "(" : "[")\(Self.number(lower)), \(Self.number(upper))]" }

    /// Throws a `UsageError` unless `value` is in the range (NaN and infinities never are).
    /// - Parameters:
    ///   - value: what the user gave.
    ///   - upper: a tighter upper bound known only at run time (the model's class count for `--top`).
    public func check(_ value: Double, upper: Double? = nil) throws {
        let hi = Swift.min(upper ?? self.upper, self.upper)
        let ok = value.isFinite && (excludesLower ? value > lower : value >= lower) && value <= hi
        guard ok else {
            let limit = OptionLimit(name, lower, hi, excludesLower: excludesLower)
            throw UsageError("\(name) must be in \(limit.range), got \(Self.number(value))")
        }
    }

    /// `check` for an integer option.
    public func check(_ value: Int, upper: Int? = nil) throws {
        try check(Double(value), upper: upper.map(Double.init))
    }

    /// `check` for an option that may be absent.
    public func check(_ value: Int?, upper: Int? = nil) throws {
        if let value { try check(value, upper: upper) }
    }

    /// 16 rather than 16.0; 0.25 as it is; a Float option's 1.3 as 1.3 rather than 1.2999999523162842.
    static func number(_ v: Double) -> String {
        if v.isFinite && v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return Double(Float(v)) == v ? String(Float(v)) : String(v)
    }
}

/// Every numeric option of every command, in one table. A job checks its settings against it (its `check`, for
/// library callers too), and the command calls the same check in `validate()`, before anything is loaded.
public enum OptionLimits {
    /// PNG pixels per point (per photo pixel for a bare overlay); past 16 a page becomes gigapixels.
    public static let scale = OptionLimit("--scale", 0, 16, excludesLower: true)
    public static let alpha = OptionLimit("--alpha", 0, 1)
    /// The side of a filter pattern; the memory budget refuses large sides long before this.
    public static let size = OptionLimit("--size", 16, 65536)
    public static let steps = OptionLimit("--steps", 1, 100_000)
    public static let perRow = OptionLimit("--per-row", 1, 1024)
    /// Classes per image; a model with fewer classes lowers the bound.
    public static let top = OptionLimit("--top", 1, 1000)
    public static let maxPixels = OptionLimit("--max-pixels", 1, 4_294_967_296)
    /// A filter index in `--filters`: no layer of the zoo has more channels.
    public static let filter = OptionLimit("--filters", 0, 65535)
    public static let runs = OptionLimit("--runs", 1, 1000)
    public static let batch = OptionLimit("--batch", 1, 1024)
    /// Images a dataset run reads, commits (and with --batched-passes, runs) together.
    public static let batchSize = OptionLimit("--batch-size", 1, 1024)
    /// Neighbours listed per image by `correlate --embeddings`; 0 lists none.
    public static let neighbours = OptionLimit("--neighbours", 0, 1000)
    /// `bench --size`: the side of the profiled input.
    public static let inputSize = OptionLimit("--size", 16, 4096)

    /// DeepDream's scales; each is 1.4 times smaller than the last, so past 10 the image is a few pixels.
    public static let octaves = OptionLimit("--octaves", 1, 10)
    public static let octaveScale = OptionLimit("--octave-scale", 1, 4, excludesLower: true)
    /// DeepDream's mean change of a pixel per step, in [0, 1] units.
    public static let stepSize = OptionLimit("--step-size", 0, 1, excludesLower: true)
    /// Style transfer's weights; the losses are relative (about 1 at the start), so weights past 1e6 only drown the others.
    public static let styleWeight = OptionLimit("--style-weight", 0, 1e6)
    public static let contentWeight = OptionLimit("--content-weight", 0, 1e6)
    public static let tvWeight = OptionLimit("--tv-weight", 0, 1e6)

    /// The table, for listings and tests.
    public static let all = [scale, alpha, size, steps, perRow, top, maxPixels, filter, runs, batch, inputSize, octaves, octaveScale,
                             stepSize, styleWeight, contentWeight, tvWeight, batchSize, neighbours]
}
