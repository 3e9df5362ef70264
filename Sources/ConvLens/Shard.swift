import Foundation
import Support

/// One of N parts of a manifest, chosen by a stable hash of each path, so every machine and every rerun agrees
/// on which part an image belongs to, whatever the order or the other paths of the manifest.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int
    /// The whole manifest.
    public static let whole = Shard(index: 0, count: 1)
    /// The most parts a manifest is cut into.
    public static let maxCount = 1_000_000

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (0 ..< count).contains(index), "Shard: index \(index) is not in 0..<\(count)")
        self.index = index
        self.count = count
    }

    /// "3/8" as the fourth of eight; anything else is bad usage naming `option`.
    public static func parse(_ text: String, option: String = "--shard") throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw UsageError("\(option) takes i/N (the i-th of N parts, counting from 0), got '\(text.printable)'")
        }
        guard (1 ... maxCount).contains(n), (0 ..< n).contains(i) else {
            throw UsageError("\(option) \(text): N must be in [1, \(maxCount)] and i in [0, N-1]")
        }
        return Shard(index: i, count: n)
    }

    /// The part a SLURM job array assigns: SLURM_ARRAY_TASK_ID (less SLURM_ARRAY_TASK_MIN, so `--array=1-8` works)
    /// of SLURM_ARRAY_TASK_COUNT; nil outside a job array.
    public static func fromSLURM(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        guard let id = env["SLURM_ARRAY_TASK_ID"], let count = env["SLURM_ARRAY_TASK_COUNT"] else { return nil }
        let first = env["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
        guard let i = Int(id), let n = Int(count) else {
            throw UsageError("SLURM_ARRAY_TASK_ID '\(id.printable)' and SLURM_ARRAY_TASK_COUNT '\(count.printable)' must be whole numbers")
        }
        return try parse("\(i - first)/\(n)", option: "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT")
    }

    /// Whether `path` belongs to this part.
    public func contains(_ path: String) -> Bool { count == 1 || Int(Self.hash(path) % UInt64(count)) == index }

    /// FNV-1a over the path's UTF-8 bytes, then SplitMix64's finaliser so that every bit counts in `% N`.
    public static func hash(_ path: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in path.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// "0of1", "3of8": the part's name in output files.
    public var description: String { "\(index)of\(count)" }
}
