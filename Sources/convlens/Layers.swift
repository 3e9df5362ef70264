import ArgumentParser
import ConvLens
import Engine
import Models

struct Layers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every named layer with its type, output shape and parameters, then the totals.")

    @Option(help: ArgumentHelp("The model.", valueName: "name")) var model: String = ModelStore.defaultModel
    @Option(help: ArgumentHelp("A weights file, to list the layout and class count it holds (default: the architecture as torchvision builds it).", valueName: "file"))
    var weights: String?

    func validate() throws {
        guard Zoo.names.contains(model.lowercased()) else { throw ValidationError(unknownNameMessage("model", model, known: Zoo.names)) }
    }

    func run() throws {
        let m = try weights.map { try ModelStore.load(name: model, weights: $0).model } ?? Model.untrained(try Zoo.layouts(model)[0])
        print(try LayerTable.text(m), terminator: "")
    }
}
