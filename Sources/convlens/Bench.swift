import ArgumentParser
import ConvLens
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time forward, batch-8 forward, Grad-CAM, backward to the input and a filter-pattern step, against this machine's sgemm peak.")

    /// The models timed when none is named: the default model first.
    static let defaultModels = [ModelStore.defaultModel, "resnet18", "vgg16", "squeezenet1_1"]

    @Option(name: .customLong("model"), help: ArgumentHelp("A model to time; repeat for several (default: efficientnet_lite0, resnet18, vgg16, squeezenet1_1).", valueName: "name"))
    var models: [String] = []
    @Option(help: "Timed repetitions per workload (after one warm-up); the median resists a busy neighbour better with more.") var runs = 9
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Instead, time each layer of the forward and backward passes (random weights; the median of --runs passes) and list the slowest.") var profile = false
    @Option(help: "Batch size for --profile.") var batch = 1
    @Option(help: "Input side for --profile (default: the model's).") var size: Int?
    @Option(help: ArgumentHelp("With --profile, stop at this layer (as filter patterns do).", valueName: "name")) var until: String?
    @Option(help: "With --profile, how many of the slowest layers to list.") var top = 12
    @Flag(help: "Instead, time im2col against Winograd on typical 3x3 convolutions.") var algorithms = false
    @Option(help: ArgumentHelp("With --algorithms, one shape only: C,O,H,batch.", valueName: "c,o,h,n")) var shape: String?

    func validate() throws {
        try validating {
            try OptionLimits.runs.check(runs)
            try OptionLimits.batch.check(batch)
            try OptionLimits.inputSize.check(size)
            try OptionLimits.top.check(top)
        }
    }

    func run() throws {
        if algorithms {
            let v = shape?.split(separator: ",").compactMap { Int($0) }
            let only = v.flatMap { $0.count == 4 ? ($0[0], $0[1], $0[2], $0[3]) : nil }
            print(Benchmark.convAlgorithms(runs: runs, only: only), terminator: "")
            return
        }
        if profile {
            for name in models.isEmpty ? Self.defaultModels : models { print(try Benchmark.profile(name, batch: batch, runs: runs, size: size, until: until, top: top)) }
            return
        }
        let names = models.isEmpty ? Self.defaultModels : models
        let report = try Benchmark.run(models: names, runs: runs) { if !json { warn("bench: \($0)") } }
        if json {
            print(try Outputs.json(report))
        } else {
            print(Benchmark.text(report), terminator: "")
        }
    }
}
