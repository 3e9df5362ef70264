import ArgumentParser
import ConvLens
import Models

struct Layers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every named layer with its type, output shape and parameters, then the totals.")

    @Option(help: ArgumentHelp("The model.", valueName: "name")) var model: String = ModelStore.defaultModel
    @Option(help: ArgumentHelp("A weights file (else the layout of the installed weights, or the default layout).", valueName: "file"))
    var weights: String?

    func run() throws {
        let m: Model
        if let w = weights {
            m = try ModelStore.load(name: model, weights: w).model
        } else if let installed = ModelStore.installedWeights(model.lowercased()) {
            m = try ModelStore.load(name: model, weights: installed).model
        } else {
            m = Model.untrained(try Zoo.layouts(model)[0])
        }
        print(try LayerTable.text(m), terminator: "")
    }
}
