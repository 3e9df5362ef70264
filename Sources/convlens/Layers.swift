import ArgumentParser
import ConvLens
import Engine
import Models

struct Layers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every named layer with its type, output shape and parameters, then the totals.")

    @Option(help: ArgumentHelp("The model: a name of the zoo, an ONNX file, or a Keras .keras or .h5 file.", valueName: "name|file")) var model: String = ModelStore.defaultModel
    @Option(help: ArgumentHelp("A weights file, to list the layout and class count it holds (default: the architecture as torchvision builds it).", valueName: "file"))
    var weights: String?

    func validate() throws {
        guard ModelStore.isModelFile(model) || Zoo.names.contains(model.lowercased()) else {
            throw ValidationError(unknownNameMessage("model", model, known: Zoo.names) + "; or give an .onnx, .keras or .h5 file")
        }
    }

    func run() throws {
        let m = ModelStore.isModelFile(model) ? try ModelStore.load(name: model, weights: weights).model
            : try weights.map { try ModelStore.load(name: model, weights: $0).model } ?? Model.untrained(try Zoo.layouts(model)[0])
        print(try LayerTable.text(m), terminator: "")
    }
}
