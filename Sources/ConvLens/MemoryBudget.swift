import Engine
import Foundation
import Support

/// How much memory a command may plan to use, checked from shapes before anything large is allocated.
///
/// The limit is $CONVLENS_MEMORY_LIMIT (bytes, or with a K, M, G or T suffix) when set, else half the physical
/// memory, lowered to half the address-space limit (`ulimit -v`) when there is one.
public enum MemoryBudget {
    /// The limit in bytes.
    public static var limit: Int { limitAndSource.bytes }

    /// The limit and where it comes from, for messages.
    static var limitAndSource: (bytes: Int, source: String) {
        if let text = ProcessInfo.processInfo.environment["CONVLENS_MEMORY_LIMIT"], let bytes = parse(text) {
            return (bytes, "set by CONVLENS_MEMORY_LIMIT")
        }
        let other = "; CONVLENS_MEMORY_LIMIT=8G sets another"
        var result = (bytes: Int(clamping: ProcessInfo.processInfo.physicalMemory / 2), source: "half the memory" + other)
        var rl = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &rl) == 0, rl.rlim_cur != rlim_t.max, Int(clamping: rl.rlim_cur / 2) < result.bytes {
            result = (Int(clamping: rl.rlim_cur / 2), "half of ulimit -v" + other)
        }
        return result
    }

    /// "12G", "800M", "2000000000" in bytes; nil when unreadable.
    static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "B", with: "")
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        let (digits, unit) = t.last.flatMap { units[$0] }.map { (String(t.dropLast()), $0) } ?? (t, 1)
        guard let v = Double(digits), v > 0, v * unit < 9e18 else { return nil }
        return Int(v * unit)
    }

    /// Refuses a plan past the limit.
    /// - Parameters:
    ///   - bytes: the estimate.
    ///   - what: the command as typed, e.g. "patterns --size 60000".
    ///   - hint: what to change, e.g. "try --size 512 or fewer --filters".
    /// - Throws: a `UsageError`: "patterns --size 60000 would need ~170 GB, past the limit of 12 GB (…); try …".
    public static func check(_ bytes: Int, _ what: String, hint: String) throws {
        let (limit, source) = limitAndSource
        guard bytes > limit else { return }
        throw UsageError("\(what) would need ~\(format(bytes)), past the limit of \(format(limit)) (\(source)); \(hint)")
    }

    /// "11 TB", "170 GB", "1.5 GB", "820 MB".
    public static func format(_ bytes: Int) -> String {
        let gb = Double(bytes) / Double(1 << 30)
        if gb >= 1024 { return String(format: "%.0f TB", gb / 1024) }
        if gb >= 10 { return String(format: "%.0f GB", gb) }
        if gb >= 1 { return String(format: "%.1f GB", gb) }
        return String(format: "%.0f MB", Double(bytes) / Double(1 << 20))
    }

    /// Bytes of Float32 in the outputs of `graph`'s layers up to `last` (all when nil) for one input of `shape`,
    /// from `Graph.shapes` (no allocation). Saturates instead of overflowing.
    public static func activationBytes(_ graph: Graph, input shape: [Int], upTo last: String? = nil) throws -> Int {
        let end = try last.map { try graph.index(of: $0) } ?? graph.nodes.count - 1
        guard end >= 0 else { return elements(shape) * 4 }
        let shapes = try graph.shapes(input: shape, through: end)
        return shapes[0 ... end].reduce(elements(shape) * 4) { $0.addingSaturating(elements($1).multipliedSaturating(4)) }
    }

    /// Bytes of the largest single output of `graph` for an input of `shape`.
    public static func largestOutputBytes(_ graph: Graph, input shape: [Int]) throws -> Int {
        try graph.shapes(input: shape).map { elements($0).multipliedSaturating(4) }.max() ?? 0
    }

    /// The product of a shape, saturating.
    public static func elements(_ shape: [Int]) -> Int { shape.reduce(1) { $0.multipliedSaturating($1) } }
}

extension Int {
    /// a + b, or Int.max on overflow.
    func addingSaturating(_ b: Int) -> Int { let (r, o) = addingReportingOverflow(b); return o ? .max : r }
    /// a * b, or Int.max on overflow (both non-negative).
    func multipliedSaturating(_ b: Int) -> Int { let (r, o) = multipliedReportingOverflow(by: b); return o ? .max : r }
}
