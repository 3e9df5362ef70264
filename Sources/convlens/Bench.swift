import ArgumentParser
import ConvLens
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time forward, batch-8 forward, Grad-CAM, backward to the input and a filter-pattern step, against this machine's sgemm peak.")

    @Option(name: .customLong("model"), help: ArgumentHelp("A model to time; repeat for several (default: resnet18, vgg16, squeezenet1_1).", valueName: "name"))
    var models: [String] = []
    @Option(help: "Timed repetitions per workload (after one warm-up).") var runs = 5
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Instead, time each layer of the forward pass (random weights) and list the slowest.") var profile = false
    @Option(help: "Batch size for --profile.") var batch = 1

    func run() throws {
        if profile {
            for name in models.isEmpty ? ["resnet18", "vgg16", "squeezenet1_1"] : models { print(try Benchmark.profile(name, batch: batch, runs: runs)) }
            return
        }
        let names = models.isEmpty ? ["resnet18", "vgg16", "squeezenet1_1"] : models
        let report = try Benchmark.run(models: names, runs: max(1, runs)) { if !json { warn("bench: \($0)") } }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        } else {
            print(Benchmark.text(report), terminator: "")
        }
    }
}
