import Foundation

extension Parallelism {
    /// How many cores the engine may use: the online processors, lowered to OPENBLAS_NUM_THREADS (or
    /// CONVLENS_THREADS) when set and to the cgroup's CPU quota (/sys/fs/cgroup/cpu.max, "quota period", rounded
    /// up), so several copies on one node, or one in a container, do not oversubscribe it.
    /// - Parameters:
    ///   - online: the processors the system reports.
    ///   - environment: where OPENBLAS_NUM_THREADS and CONVLENS_THREADS are read.
    ///   - cpuMax: the contents of cgroup v2's cpu.max, when readable.
    public static func allowed(online: Int, environment: [String: String], cpuMax: String?) -> Int {
        var n = max(online, 1)
        for key in ["CONVLENS_THREADS", "OPENBLAS_NUM_THREADS"] {
            if let v = environment[key].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), v >= 1 { n = min(n, v); break }
        }
        if let fields = cpuMax?.split(whereSeparator: \.isWhitespace), fields.count == 2,
           let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 {   // "max 100000": no quota
            n = min(n, max(1, Int((quota / period).rounded(.up))))
        }
        return n
    }

    /// `allowed` for this process.
    static func allowedHere(online: Int) -> Int {
        allowed(online: online, environment: ProcessInfo.processInfo.environment,
                cpuMax: try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8))
    }
}
