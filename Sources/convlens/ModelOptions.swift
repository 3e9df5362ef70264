import ArgumentParser
import ConvLens
import Engine
import Imaging
import Models
import Foundation
import Support

/// The options every model-running command shares.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The model: a name of the zoo, an ONNX file (net.onnx, its external data beside it), or a Keras "
                               + "model (.keras, or a legacy .h5).", valueName: "name|file"))
    var model: String = ModelStore.defaultModel
    @Option(help: ArgumentHelp("A weights file: torchvision .pth, .safetensors, legacy .pt or an ndf pickle; or keras.applications' "
                               + ".h5 for --model vgg16, vgg19, resnet50 or mobilenet_v2.", valueName: "file"))
    var weights: String?
    @Option(help: ArgumentHelp("Class names, one per line (UTF-8).", valueName: "file")) var labels: String?
    @Option(help: "Refuse images with more pixels than this (a guard against decompression bombs).")
    var maxPixels: Int = ImageIO.defaultMaxPixels
    @Option(help: ArgumentHelp("How an image becomes the model's square input: crop (torchvision: shorter side, then the centre) "
                               + "or squash (Keras's load_img: the whole image resized). Default: the model's preset (crop for "
                               + "torchvision and Caffe models).", valueName: "crop|squash"))
    var fit: Fit?
    @Option(help: ArgumentHelp("The input recipe: torchvision (/255, ImageNet mean and std), caffe (BGR, 0-255 minus the mean pixel), "
                               + "tf (/127.5 - 1), raw (/255 only) or efficientnet-lite ((x - 127) / 128, bicubic resize). "
                               + "Default: the model's own; torchvision for ONNX files.",
                               valueName: "preset"))
    var preprocess: String?
    @Option(help: ArgumentHelp("Per-channel mean to subtract, R,G,B, in the preset's units (after its scale: 0.485,0.456,0.406 for torchvision).",
                               valueName: "r,g,b"))
    var mean: String?
    @Option(help: ArgumentHelp("Per-channel standard deviation to divide by, R,G,B, in the preset's units.", valueName: "r,g,b"))
    var std: String?

    /// The preprocessing asked for on the command line.
    var choice: PreprocessChoice {
        PreprocessChoice(preset: preprocess, mean: mean.flatMap { Self.triple($0) }, std: std.flatMap { Self.triple($0) })
    }

    /// "0.5,0.5,0.5" as three numbers, or nil.
    static func triple(_ s: String) -> [Float]? {
        let v = s.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        return v.count == 3 && v.allSatisfy(\.isFinite) ? v : nil
    }

    /// Loads the model; a classifier that did not fit and was skipped gets a one-line note on stderr.
    func load() throws -> LoadedModel {
        let lm = try ModelStore.load(name: model, weights: weights, labels: labels, preprocess: choice)
        for note in lm.notes { warn("note: \(model): \(note)") }
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
        guard ModelStore.isModelFile(model) || Zoo.names.contains(model.lowercased()) else {
            throw ValidationError(unknownNameMessage("model", model, known: Zoo.names) + "; or give an .onnx, .keras or .h5 file")
        }
        try validating { try OptionLimits.maxPixels.check(maxPixels) }
        if let p = preprocess, !Preprocessing.presets.contains(where: { $0.name == p }) {
            throw ValidationError(unknownNameMessage("preprocessing", p, known: Preprocessing.presets.map(\.name)))
        }
        for (option, value) in [("--mean", mean), ("--std", std)] {
            guard let value else { continue }
            guard let v = Self.triple(value) else { throw ValidationError("\(option) takes three numbers R,G,B, got '\(value)'") }
            if option == "--std", v.contains(where: { $0 <= 0 }) { throw ValidationError("--std values must be positive, got '\(value)'") }
        }
    }
}

extension Fit: ExpressibleByArgument {}
