import Foundation
import Testing
@testable import ConvLens
import Engine
import Models
import Support

/// Loading the features of a checkpoint whose classifier differs, and the commands that then refuse.
@Suite struct FeaturesOnlyTests {
    /// A narrow (1/16 width) VGG19-BN's state dict with a CIFAR-10 head in place of ImageNet's, shaped as
    /// chenyaofo/pytorch-cifar-models' cifar10_vgg19_bn: classifier = Linear(512, 512), ReLU, Dropout,
    /// Linear(512, 512), ReLU, Dropout, Linear(512, 10), here 512 / 16 = 32 wide.
    static func cifarVGG() throws -> (source: Model, dict: [String: Tensor]) {
        let source = Model.random(try Zoo.layouts("vgg19_bn")[0], seed: 5, widthDivisor: 16)
        var dict = stateDict(source).filter { !$0.key.hasPrefix("classifier") }
        for (i, shape) in [(0, [32, 32]), (3, [32, 32]), (6, [10, 32])] {
            dict["classifier.\(i).weight"] = Tensor(shape: shape, repeating: 0.1)
            dict["classifier.\(i).bias"] = Tensor(shape: [shape[0]], repeating: 0)
        }
        return (source, dict)
    }

    /// Every parameter and buffer of a model by its state-dict key.
    static func stateDict(_ model: Model) -> [String: Tensor] {
        var dict: [String: Tensor] = [:]
        for node in model.graph.nodes {
            for spec in node.layer.parameterSpecs where spec.required { dict["\(node.name).\(spec.name)"] = node.layer.parameter(spec.name)! }
        }
        return dict
    }

    @Test func aCIFARHeadIsSkippedAndEveryLayerBelowItLoads() throws {
        let (source, dict) = try Self.cifarVGG()
        #expect(throws: ModelError.self) { try Model.load("vgg19_bn", weights: dict, source: "cifar.pth", widthDivisor: 16) }
        let (model, skipped, reason) = try Model.loadFeatures("vgg19_bn", weights: dict, source: "cifar.pth", widthDivisor: 16)
        #expect(skipped == ["classifier.0.bias", "classifier.0.weight", "classifier.3.bias", "classifier.3.weight",
                            "classifier.6.bias", "classifier.6.weight"])
        #expect(reason.contains("classifier.0.weight: file has [32, 32], model expects [256, 1568]"), "\(reason)")
        for node in model.graph.nodes where !node.name.hasPrefix("classifier") {
            for spec in node.layer.parameterSpecs where spec.required {
                #expect(node.layer.parameter(spec.name) == (try source.graph.node(node.name)).layer.parameter(spec.name), "\(node.name).\(spec.name)")
            }
        }
        let lm = try ModelStore.wrap(model, skipped: skipped, reason: reason)
        #expect(!lm.hasClassifier)
        #expect(throws: UsageError.self) { try lm.requireClassifier("classify") }
        #expect(throws: UsageError.self) { _ = try Classify.run(lm, images: [], top: 1) }
    }

    /// Only the head may differ: a wrong shape below it still refuses the file, with the strict message.
    @Test func aMismatchBelowTheHeadStillRefuses() throws {
        var (_, dict) = try Self.cifarVGG()
        dict["features.0.weight"] = Tensor(zeros: [4, 3, 5, 5])
        do {
            _ = try Model.loadFeatures("vgg19_bn", weights: dict, source: "broken.pth", widthDivisor: 16)
            Issue.record("loaded a file whose first convolution is the wrong shape")
        } catch let e as ModelError {
            #expect(e.message.contains("features.0.weight: file has [4, 3, 5, 5], model expects [4, 3, 3, 3]"), "\(e.message)")
        }
    }

    /// A head that fits, of another class count (a fine-tuned ResNet's 10-class fc), is a classifier, not skipped.
    @Test func aFittingHeadOfAnotherClassCountStaysAClassifier() throws {
        let source = Model.random(try Zoo.layouts("resnet18")[0], classes: 10, seed: 2, widthDivisor: 16)
        let (model, skipped, _) = try Model.loadFeatures("resnet18", weights: Self.stateDict(source), source: "fine-tuned.pth", widthDivisor: 16)
        #expect(skipped.isEmpty && model.classes == 10)
        #expect(try ModelStore.wrap(model, labels: nil).hasClassifier)
    }
}

/// The writer's temporaries and the escaping of error lines.
@Suite struct SupportHardeningTests {
    /// While the body runs, its temporary is registered (for the signal handler), exists, and has a short name
    /// whatever the destination's; afterwards it is gone from disk and from the table.
    @Test func temporariesAreShortNamedAndRegisteredWhileTheyExist() throws {
        let dir = NSTemporaryDirectory() + "convlens-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dest = dir + "/" + String(repeating: "y", count: 250)
        try AtomicFile.write(to: dest) { fd in
            let mine = AtomicFile.liveTemporaries.filter { $0.hasPrefix(dir + "/") }
            #expect(mine.count == 1 && FileManager.default.fileExists(atPath: mine[0]))
            #expect((mine.first.map { URL(fileURLWithPath: $0).lastPathComponent.count } ?? 99) < 32)
            try [UInt8]("ok".utf8).withUnsafeBytes { try AtomicFile.writeAll(fd: fd, $0, path: dest) }
        }
        #expect(AtomicFile.liveTemporaries.filter { $0.hasPrefix(dir + "/") }.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [String(repeating: "y", count: 250)])
    }

    @Test func controlCharactersAreEscaped() {
        #expect(escapingControlCharacters("a\u{1B}[1mb\nc\td\r\u{7F}\u{202E}é✓") == "a\\u{1B}[1mb\\nc\\td\\r\\u{7F}\\u{202E}é✓")
        #expect(escapingControlCharacters("usage\nline\u{1B}", keepingNewlines: true) == "usage\nline\\u{1B}")
    }

    @Test func memoryLimitsReadUnits() {
        #expect(MemoryBudget.parse("1M") == 1 << 20 && MemoryBudget.parse("12G") == 12 << 30 && MemoryBudget.parse("2000") == 2000)
        #expect(MemoryBudget.parse("1.5GB") == 3 << 29 && MemoryBudget.parse("lots") == nil && MemoryBudget.parse("-1") == nil)
    }
}
