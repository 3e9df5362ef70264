import Foundation
import Support
import TensorIO

/// The outputs of a dataset run in `--out DIR`: per shard, a JSON Lines index and a float32 .npy array whose rows
/// belong, in order, to the index lines without an error.
///
/// Files are named `<command>-<config>-<i>of<N>.index.jsonl` and `.<array>.npy`, where `<config>` is a hash of the
/// configuration (model file, method, layers, target, preprocessing). Each batch is committed as a hidden part
/// (`.<stem>.part00012.*`): its array first, then its index, each written atomically, so a part is there only when
/// its array is; a killed run loses at most the batch in flight. At the end the shard and its parts are joined into
/// the shard's files (the old rows first, so the index stays a prefix of the array even if the join is cut short
/// between the two renames) and the parts removed. A rerun skips every (path, content, target) already indexed.
struct DatasetStore {
    let dir: String
    /// "<command>-<config>": what every file of this configuration starts with.
    let prefix: String
    /// "<prefix>-<shard>": this shard's files.
    let stem: String
    /// The per-item array's name ("maps", "embeddings"), or nil when there is none.
    let array: String?
    private var nextPart: Int

    /// Opens (creating it if needed) the output directory and writes the configuration beside the outputs.
    init(dir: String, command: String, config: [String: String], shard: Shard, array: String?) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), !isDir.boolValue {
            throw FileError(path: dir, message: "is a file; --out takes a directory in dataset mode")
        }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw FileError(path: dir, message: "cannot create the output directory: \((error as NSError).localizedDescription)")
        }
        self.dir = dir
        prefix = "\(command)-\(Self.hash(config))"
        stem = "\(prefix)-\(shard)"
        self.array = array
        let json = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted])
        try AtomicFile.write(Array(json) + [10], to: "\(dir)/\(prefix).config.json")
        nextPart = (Self.parts(in: dir, stem: stem).last.map { $0.number + 1 }) ?? 0
    }

    /// Refuses a run whose arrays would not fit on the disk of `out` (or of its nearest existing folder).
    /// - Parameters:
    ///   - bytes: what the shard's arrays need, its parts and the joined file together.
    ///   - what: the run, for the message.
    ///   - free: the free bytes; nil reads them from the file system.
    /// - Throws: a `FileError` naming `out`, what is needed and what is free.
    static func checkRoom(_ bytes: Int, out: String, what: String, free: Int? = nil) throws {
        var dir = URL(fileURLWithPath: out).standardizedFileURL, fs = statvfs()
        while statvfs(dir.path, &fs) != 0 && dir.path != "/" { dir.deleteLastPathComponent() }
        let available = free ?? Int(clamping: UInt64(fs.f_bavail).multipliedReportingOverflow(by: UInt64(fs.f_frsize)).partialValue)
        guard bytes > available else { return }
        throw FileError(path: out, message: "\(what) need ~\(MemoryBudget.format(bytes)) on disk (twice the shard's array while its parts are "
            + "joined), and \(MemoryBudget.format(available)) are free; take a smaller part with --shard i/N or a layer with smaller maps")
    }

    /// The first 16 hex digits of the SHA-256 of the configuration's sorted JSON.
    static func hash(_ config: [String: String]) -> String {
        let text = config.keys.sorted().map { "\($0)=\(config[$0]!)" }.joined(separator: "\n")
        return String(SHA256.hex(Array(text.utf8)).prefix(16))
    }

    /// The key that says an item is done: its path, its content and its own target's text (a changed target is redone).
    static func key(path: String, sha256: String?, target: String?) -> String {
        "\(path)\u{0}\(sha256 ?? "")\u{0}\(target ?? "")"
    }

    /// The keys of every item indexed without an error under this configuration, in any shard or part.
    func doneKeys() throws -> Set<String> {
        var keys = Set<String>()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for name in names where name.hasSuffix(".index.jsonl") && (name.hasPrefix(prefix + "-") || name.hasPrefix("." + prefix + "-")) {
            for r in try Self.records(dir + "/" + name) where r.error == nil {
                keys.insert(Self.key(path: r.path, sha256: r.sha256, target: r.givenTarget))
            }
        }
        return keys
    }

    /// Commits one batch as a part: the array (when there are rows), then the index.
    mutating func commit(_ records: [DatasetRecord], rows: [Float], rowShape: [Int]) throws {
        guard !records.isEmpty else { return }
        let part = "\(dir)/.\(stem).part\(String(format: "%06d", nextPart))"
        nextPart += 1
        let n = records.filter { $0.error == nil }.count
        if let array, n > 0 {
            try NPY.write(TensorData(shape: [n] + rowShape, values: rows), to: "\(part).\(array).npy")
        }
        try AtomicFile.write(Array(Self.lines(records).utf8), to: "\(part).index.jsonl")
    }

    /// Joins the shard's files and its parts into the shard's files, then removes the parts.
    func consolidate() throws {
        let parts = Self.parts(in: dir, stem: stem)
        guard !parts.isEmpty else { return }
        let shardIndex = "\(dir)/\(stem).index.jsonl"
        var segments = parts.map { "\(dir)/\($0.name)" }
        if FileManager.default.fileExists(atPath: shardIndex) { segments.insert("\(dir)/\(stem)", at: 0) }
        // The rows to keep, in order: the first success of each key, each segment's rows in its index order; and the
        // last failure of each item (path and target) that never succeeded.
        func item(_ r: DatasetRecord) -> String { Self.key(path: r.path, sha256: nil, target: r.givenTarget) }
        var kept: [DatasetRecord] = [], seen = Set<String>(), failedLast: [String: DatasetRecord] = [:]
        var pieces: [(file: String, rows: Range<Int>)] = []
        for segment in segments {
            var row = 0
            var keepRows: [Int] = []
            for var r in try Self.records(segment + ".index.jsonl") {
                if r.error != nil { failedLast[item(r)] = r; continue }
                defer { row += 1 }
                let key = Self.key(path: r.path, sha256: r.sha256, target: r.givenTarget)
                guard seen.insert(key).inserted else { continue }
                failedLast[item(r)] = nil
                r.row = kept.count
                kept.append(r)
                keepRows.append(row)
            }
            if array != nil { pieces += Self.runs(keepRows).map { (segment, $0) } }
        }
        let keptItems = Set(kept.map(item))
        let failures = failedLast.filter { !keptItems.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)
        if let array, !pieces.isEmpty {
            try NPY.concatenate(pieces.map { (file: "\($0.file).\(array).npy", rows: $0.rows) }, to: "\(dir)/\(stem).\(array).npy")
        }
        try AtomicFile.write(Array(Self.lines(kept + failures).utf8), to: shardIndex)
        for p in parts {
            for ext in ["index.jsonl"] + (array.map { ["\($0).npy"] } ?? []) { unlink("\(dir)/\(p.name).\(ext)") }
        }
    }

    /// Consecutive runs of row numbers as ranges: [0, 1, 2, 5, 6] gives 0..<3 and 5..<7.
    static func runs(_ rows: [Int]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in rows {
            if let last = out.last, last.upperBound == r { out[out.count - 1] = last.lowerBound ..< r + 1 } else { out.append(r ..< r + 1) }
        }
        return out
    }

    /// This shard's parts, "<.stem>.partNNNNNN" without extension, in order.
    static func parts(in dir: String, stem: String) -> [(name: String, number: Int)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let head = ".\(stem).part", tail = ".index.jsonl"
        return names.compactMap { name -> (String, Int)? in
            guard name.hasPrefix(head), name.hasSuffix(tail), let n = Int(name.dropFirst(head.count).dropLast(tail.count)) else { return nil }
            return (String(name.dropLast(tail.count)), n)
        }.sorted { $0.1 < $1.1 }
    }

    /// The records of an index file.
    static func records(_ path: String) throws -> [DatasetRecord] {
        let bytes = try InputFile.read(path, as: InputFile.Kind("a dataset index", maxBytes: 1 << 32))
        let decoder = JSONDecoder()
        return try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            do { return try decoder.decode(DatasetRecord.self, from: Data(line.utf8)) } catch {
                throw FileError(path: path, message: "has a line that is not a dataset record; remove the file to redo its items")
            }
        }
    }

    /// JSON Lines text of records.
    static func lines(_ records: [DatasetRecord]) throws -> String {
        try records.map { try $0.jsonLine() + "\n" }.joined()
    }
}
