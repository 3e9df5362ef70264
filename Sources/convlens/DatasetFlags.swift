import ArgumentParser
import ConvLens
import Foundation

/// The options of dataset mode, which every per-image command takes: its images argument may then be a manifest
/// (a directory, a text file of paths, `-` for paths on stdin, or a .jsonl file with a path and a target a line).
struct DatasetFlags: ParsableArguments {
    @Flag(help: "Dataset mode: print one JSON line per image on stdout (path, sha256, top classes, target, row, error).")
    var jsonl = false
    @Option(help: ArgumentHelp("Dataset mode: take the i-th of N parts of the manifest, by a hash of each path (default: "
                               + "SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT in a SLURM job array).", valueName: "i/N"))
    var shard: String?
    @Option(name: .customLong("batch-size"), help: "Dataset mode: images per batch (memory is bounded by one batch).")
    var batchSize = 8
    @Flag(help: ArgumentHelp("Dataset mode: run a batch's images through the network together: faster, but results may then "
                             + "differ in the last bits with an image's batch peers (so between shardings and reruns)."))
    var batchedPasses = false
    @Flag(help: "Dataset mode (gradcam): draw an overlay per image into OUT/figures.") var figures = false
    @Flag(help: "Dataset mode (gradcam): measure each map's faithfulness (about 45 extra forward passes per map).")
    var faithfulness = false

    func validate() throws {
        try validating { try OptionLimits.batchSize.check(batchSize) }
        if let shard { try validating { _ = try Shard.parse(shard) } }
    }

    /// Whether the command runs in dataset mode: its images name a manifest, or a dataset option is given.
    func active(_ images: [String]) -> Bool {
        Manifest.names(images) || jsonl || shard != nil || figures || faithfulness || batchedPasses
    }

    /// Runs a dataset command: reads the manifest, loads the model, streams the shard's images through `work` and
    /// prints a JSON line (or a short line) per image. A failed item is recorded and the run goes on; the exit
    /// code is 1 at the end when any failed.
    /// - Parameters:
    ///   - out: the output directory, when given.
    func run(_ images: [String], model: ModelOptions, out: String?,
             work: (LoadedModel, DatasetOptions) throws -> DatasetWork) throws {
        var o = DatasetOptions()
        o.shard = try shard.map { try Shard.parse($0) } ?? Shard.fromSLURM() ?? .whole
        o.out = out
        o.figures = figures
        o.faithfulness = faithfulness
        o.batch = batchSize
        o.batchedPasses = batchedPasses
        o.maxPixels = model.maxPixels
        o.fit = model.fit
        if figures && out == nil { throw ValidationError("--figures needs --out DIR") }
        let items = Manifest.names(images) ? try Manifest.load(images[0]) : images.map { ManifestItem(path: $0) }
        let lm = try model.load()
        let w = try work(lm, o)
        let bar = ProgressBar.ifTerminal()
        let started = Date()
        let summary = try DatasetRun.run(lm, items: items, work: w, options: o, emit: { r in
            if jsonl {
                print((try? r.jsonLine()) ?? "{\"path\": \"\(r.path)\"}")
            } else if r.error == nil {
                let best = r.top?.first.map { " \($0.label) (\($0.index)) \(String(format: "%.3f", $0.probability))" } ?? ""
                print(r.path + ":" + best + ((r.target.map(String.init) ?? r.givenTarget).map { ", target \($0)" } ?? "")
                      + (r.classes.map { ", classes " + $0.map(String.init).joined(separator: ",") } ?? ""))
            }
            if let e = r.error { warn("failed: \(e)") }
        }, progress: { done, total in
            fflush(nil)  // every stream: Swift 6 forbids naming the global stdout
            let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-3)
            bar?.update(done: Double(done), total: Double(total), what: "\(done)/\(total) images, \(String(format: "%.1f", rate)) images/s")
        })
        fflush(nil)  // every stream: Swift 6 forbids naming the global stdout
        if summary.skipped > 0 { warn("note: \(summary.skipped) images were already done in \(out ?? "the output directory") and were skipped") }
        if summary.failed > 0 {
            throw DatasetFailed(failed: summary.failed, total: summary.failed + summary.processed + summary.skipped)
        }
    }
}

/// Some items of a dataset run failed (each is recorded with its error); exit 1.
struct DatasetFailed: Error, CustomStringConvertible {
    let failed: Int, total: Int
    var description: String { "\(failed) of \(total) images failed; each is recorded with its error" }
}
