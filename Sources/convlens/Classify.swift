import ArgumentParser
import ConvLens
import Foundation

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the top classes of each image.")

    @Argument(help: "Images (PNG or JPEG).") var images: [String]
    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetFlags
    @Option(help: ArgumentHelp("Dataset mode: the output directory (index per shard).", valueName: "dir")) var out: String?
    @Option(help: "How many classes to show per image.") var top: Int = 5
    @Flag(help: "Print JSON: [{\"image\": PATH, \"top\": [{\"index\": I, \"label\": S, \"probability\": P}, ...]}, ...].")
    var json = false

    func validate() throws {
        try validating { try OptionLimits.top.check(top) }
    }

    func run() throws {
        if dataset.active(images) {
            return try dataset.run(images, model: model, out: out) { lm, _ in try DatasetWork.classify(lm, top: min(top, lm.model.classes)) }
        }
        guard out == nil else { throw ValidationError("--out is for dataset mode (a directory, a manifest, --jsonl or --shard)") }
        let lm = try model.load()
        try lm.requireClassifier("classify")                                   // before decoding any image
        let batch = try model.prepare(images, for: lm).images
        let results = try ConvLens.Classify.run(lm, images: batch, top: min(top, lm.model.classes))
        if json { print(try ConvLens.Classify.json(results)); return }
        for r in results {
            print(r.image)
            for p in r.top { print(String(format: "  %5.1f%%  %4d  %@", p.probability * 100, p.index, p.label)) }
        }
    }
}
