import Analysis
import Engine
import Foundation
import Imaging
import Support

/// How a dataset run goes: which part of the manifest, where its outputs go, and what else to compute.
public struct DatasetOptions {
    /// The part of the manifest this run takes.
    public var shard = Shard.whole
    /// The output directory (index, arrays, figures); nothing is written when nil.
    public var out: String?
    /// Also draw one overlay per item into `<out>/figures` (gradcam).
    public var figures = false
    /// Also measure each map's faithfulness (gradcam; about 45 extra forward passes per map).
    public var faithfulness = false
    /// Images per batch (read, committed and, with `batchedPasses`, run together): memory is bounded by one batch,
    /// whatever the size of the manifest.
    public var batch = 8
    /// Run a batch's images through the network together. Faster, but a GEMM over several images may round in
    /// the last bits differently from one over a single image, so results then depend on an image's batch peers
    /// (which differ between shardings and reruns). Off by default: each image runs alone and its results are a
    /// function of the image and the configuration only.
    public var batchedPasses = false
    public var maxPixels = ImageIO.defaultMaxPixels
    public var fit: Fit?
    public init() {}
}

/// One line of a dataset index (and of `--jsonl` output).
public struct DatasetRecord: Codable {
    public var path: String
    /// The SHA-256 of the file's bytes; nil when the file could not be read.
    public var sha256: String?
    /// The configuration hash (model file, method, layers, target, preprocessing).
    public var config: String
    /// The class explained (gradcam), or the class of the target the manifest gave.
    public var target: Int?
    /// The target the manifest gave for this item, as written ("prob:281"; "class:281" for a bare 281).
    public var givenTarget: String?
    /// The K classes explained, best first, one map each (gradcam --top K).
    public var classes: [Int]?
    public var top: [Prediction]?
    public var faithfulness: Faithfulness?
    /// The item's row in the shard's array (maps or embeddings), in the shard's index; nil in `--jsonl` lines and on
    /// an error.
    public var row: Int?
    /// Why the item failed, one line with control characters escaped.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case path, sha256, config, target, givenTarget = "given_target", classes, top, faithfulness, row, error
    }

    /// The record as one line of JSON, keys sorted.
    public func jsonLine() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}

/// What a dataset command computes for each batch.
public struct DatasetWork {
    /// The results of one batch: a record per image (path and hash filled in by the run) and their array rows.
    public struct Batch {
        public var records: [DatasetRecord]
        /// (n, rowShape...) rows, image-major; empty when the command has no array.
        public var rows: [Float]
        public var rowShape: [Int]
        public init(records: [DatasetRecord], rows: [Float] = [], rowShape: [Int] = []) {
            self.records = records
            self.rows = rows
            self.rowShape = rowShape
        }
    }

    /// "classify", "gradcam", "embeddings": the first word of the output files.
    public let command: String
    /// What the configuration hash covers besides the model and preprocessing, e.g. ["method": "gradcam"].
    public let settings: [String: String]
    /// The per-item array's name ("maps", "embeddings"), or nil.
    public let array: String?
    /// Whether the images keep their decoded photos (for figures over the photo).
    public let keepPhotos: Bool
    /// Checks a manifest's target against the model before its image runs (a target that fails fails its item).
    public let checkTarget: ((CAMTarget) throws -> Void)?
    /// Why the command takes no per-image targets (e.g. "--top explains each image's best classes"), or nil.
    public let refusesTargets: String?
    /// Why every image needs a target from the manifest (e.g. the model has no classifier to pick one), or nil.
    public let needsTargets: String?
    /// The bytes of one item's array row, when known before the run and large: the run first checks that the
    /// shard's array fits on disk.
    public let rowBytes: Int?
    /// Computes a batch: prepared images and the targets the manifest gave them.
    public let run: (_ images: [PreparedImage], _ targets: [CAMTarget?]) throws -> Batch

    public init(command: String, settings: [String: String], array: String?, keepPhotos: Bool = false,
                checkTarget: ((CAMTarget) throws -> Void)? = nil, refusesTargets: String? = nil,
                needsTargets: String? = nil, rowBytes: Int? = nil,
                run: @escaping ([PreparedImage], [CAMTarget?]) throws -> Batch) {
        self.command = command
        self.settings = settings
        self.array = array
        self.keepPhotos = keepPhotos
        self.checkTarget = checkTarget
        self.refusesTargets = refusesTargets
        self.needsTargets = needsTargets
        self.rowBytes = rowBytes
        self.run = run
    }
}

/// What a dataset run did.
public struct DatasetSummary {
    public var processed = 0
    /// Items already done by an earlier run of the same configuration.
    public var skipped = 0
    public var failed = 0
    /// Items of the manifest outside this shard.
    public var otherShards = 0
}

/// Runs a command over a manifest in batches: decode, compute, record, commit; a bad item is recorded and the
/// run goes on.
public enum DatasetRun {
    /// Runs `work` over the shard's items.
    /// - Parameters:
    ///   - lm: the model.
    ///   - items: the whole manifest (the shard is taken here).
    ///   - work: what to compute per batch.
    ///   - options: shard, output directory, batch size.
    ///   - emit: called with each item's record as soon as its batch is committed (for `--jsonl`).
    ///   - progress: called after each batch with (items done, items in this shard).
    public static func run(_ lm: LoadedModel, items: [ManifestItem], work: DatasetWork, options o: DatasetOptions,
                           emit: (DatasetRecord) -> Void, progress: ((Int, Int) -> Void)? = nil) throws -> DatasetSummary {
        try OptionLimits.batchSize.check(o.batch)
        let mine = items.filter { o.shard.contains($0.path) }
        if let why = work.refusesTargets, let t = items.lazy.compactMap(\.target).first {
            throw UsageError("\(t.origin) gives a target, but \(why); drop one or the other")
        }
        if let why = work.needsTargets, let item = items.first(where: { $0.target == nil }) {
            throw UsageError("\(why); or give every image a target in a JSON Lines manifest ('\(item.path.printable)' has none)")
        }
        var summary = DatasetSummary()
        summary.otherShards = items.count - mine.count
        if let row = work.rowBytes, let out = o.out {
            try DatasetStore.checkRoom(row.multipliedSaturating(2 * mine.count), out: out,
                                       what: "\(work.command) of \(mine.count) images, \(MemoryBudget.format(row)) each, in shard \(o.shard.index)/\(o.shard.count)")
        }
        let config = try configuration(lm, work: work, options: o)
        let configHash = DatasetStore.hash(config)
        var store = try o.out.map { try DatasetStore(dir: $0, command: work.command, config: config, shard: o.shard, array: work.array) }
        let done = try store?.doneKeys() ?? []
        let figures = o.out.map { $0 + "/figures" }
        if o.figures, let figures { try FileManager.default.createDirectory(atPath: figures, withIntermediateDirectories: true) }

        for start in stride(from: 0, to: mine.count, by: o.batch) {
            let chunk = mine[start ..< min(start + o.batch, mine.count)]
            var records: [DatasetRecord] = [], images: [PreparedImage] = [], targets: [CAMTarget?] = [], good: [Int] = []
            for read in readAll(chunk, done: done, work: work, options: o, configHash: configHash, lm.preprocessing) {
                switch read {
                case .done: summary.skipped += 1
                case .failed(let r): records.append(r)
                case .ready(let r, let image, let target):
                    images.append(image)
                    targets.append(target)
                    good.append(records.count)
                    records.append(r)
                }
            }
            var rows: [Float] = [], rowShape: [Int] = []
            if !images.isEmpty {
                let batch = o.batchedPasses ? try computeIsolating(work, images: images, targets: targets)
                                            : try computeEach(work, images: images, targets: targets)
                rowShape = batch.rowShape
                let size = rowShape.reduce(1, *)
                var next = 0                                                  // the batch's rows belong to its successes
                for (j, i) in good.enumerated() {
                    let (path, sha, given) = (records[i].path, records[i].sha256, records[i].givenTarget)
                    records[i] = batch.records[j]
                    records[i].path = path
                    records[i].sha256 = sha
                    records[i].config = configHash
                    records[i].givenTarget = given
                    if records[i].error == nil, work.array != nil, !batch.rows.isEmpty {
                        rows += batch.rows[next * size ..< (next + 1) * size]
                        next += 1
                    }
                }
            }
            // A part's rows follow its successful records in order; the join at the end numbers them in the shard.
            try store?.commit(records, rows: rows, rowShape: rowShape)
            for r in records {
                if r.error != nil { summary.failed += 1 } else { summary.processed += 1 }
                emit(r)
            }
            progress?(min(start + o.batch, mine.count), mine.count)
        }
        try store?.consolidate()
        return summary
    }

    /// What reading one item gave: already done (skipped), a failure to record, or an image ready to run.
    enum Read {
        case done
        case failed(DatasetRecord)
        case ready(DatasetRecord, PreparedImage, CAMTarget?)
    }

    /// Reads, hashes, decodes and prepares a batch's items, on all cores (each item alone), in manifest order.
    static func readAll(_ chunk: ArraySlice<ManifestItem>, done: Set<String>, work: DatasetWork, options o: DatasetOptions,
                        configHash: String, _ preprocessing: Preprocessing) -> [Read] {
        let items = Array(chunk)
        var reads = [Read](repeating: .done, count: items.count)
        reads.withUnsafeMutableBufferPointer { out in
            let out = out                                   // each iteration writes its own slot
            parallelFor(items.count) { i in
                let item = items[i]
                var r = DatasetRecord(path: item.path, config: configHash, givenTarget: item.target?.text)
                do {
                    let bytes = try InputFile.read(item.path, as: .image(maxPixels: o.maxPixels))
                    r.sha256 = SHA256.hex(bytes)
                    if done.contains(DatasetStore.key(path: item.path, sha256: r.sha256, target: item.target?.text)) {
                        out[i] = .done
                        return
                    }
                    let target = try item.target?.resolve(check: work.checkTarget)      // a mask file is read here
                    r.target = target?.classIndex
                    let photo = try ImageIO.decode(bytes, name: item.path, maxPixels: o.maxPixels)
                    out[i] = .ready(r, ImageBatch.prepare(photo, path: item.path, preprocessing, fit: o.fit, keepPhotos: work.keepPhotos), target)
                } catch {
                    r.error = escapingControlCharacters("\(error)")
                    out[i] = .failed(r)
                }
            }
        }
        return reads
    }

    /// Runs a batch in one pass; when it fails with anything but bad usage, runs its images one by one, so one
    /// image whose result is not finite fails alone.
    static func computeIsolating(_ work: DatasetWork, images: [PreparedImage], targets: [CAMTarget?]) throws -> DatasetWork.Batch {
        do { return try work.run(images, targets) } catch where !(error is UsageError) && images.count > 1 {
            return try computeEach(work, images: images, targets: targets)
        }
    }

    /// Runs each image of a batch on its own; an image that fails with anything but bad usage is recorded.
    static func computeEach(_ work: DatasetWork, images: [PreparedImage], targets: [CAMTarget?]) throws -> DatasetWork.Batch {
        var out = DatasetWork.Batch(records: [])
        for (image, target) in zip(images, targets) {
            do {
                let one = try work.run([image], [target])
                out.records += one.records
                out.rows += one.rows
                out.rowShape = one.rowShape
            } catch where !(error is UsageError) {
                out.records.append(DatasetRecord(path: image.path, config: "", error: escapingControlCharacters("\(error)")))
            }
        }
        return out
    }

    /// What the configuration hash covers: the model (its name and the SHA-256 of its file), the preprocessing and
    /// fit, and the command's own settings.
    static func configuration(_ lm: LoadedModel, work: DatasetWork, options o: DatasetOptions) throws -> [String: String] {
        var c = work.settings
        c["command"] = work.command
        c["model"] = lm.model.name
        c["model_file"] = lm.model.source
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: lm.model.source, isDirectory: &isDir), !isDir.boolValue {
            c["model_sha256"] = try fileHash(lm.model.source)
        }
        let p = lm.preprocessing
        c["preprocessing"] = "\(p.name) size \(p.cropSize)x\(p.cropWidth) resize \(p.resizeShorterSide) \(p.resample) bgr \(p.bgr) "
            + "scale \(p.scale) mean \(p.mean) std \(p.std) fit \((o.fit ?? p.defaultFit).rawValue)"
        c["faithfulness"] = o.faithfulness ? "yes" : "no"
        c["passes"] = o.batchedPasses ? "batched" : "one image each"
        c["index"] = "2"                            // given_target as text: indices of an older format are not read
        return c
    }

    /// The SHA-256 of a file, read in pieces.
    static func fileHash(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError(path: path, message: "cannot be read") }
        defer { try? handle.close() }
        var h = SHA256()
        while case let piece = handle.readData(ofLength: 4 << 20), !piece.isEmpty { h.update(Array(piece)) }
        return h.finish().map { String(format: "%02x", $0) }.joined()
    }
}
