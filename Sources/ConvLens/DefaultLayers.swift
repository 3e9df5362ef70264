import Engine
import Support

/// The layers `dream` and `style` use when none are given, chosen from the graph by one rule for every model.
///
/// The candidates are the block outputs and activations among the layers `activations --all` shows
/// (`ActivationsJob.tileLayers`): ReLUs and other activations, residual sums and concatenations, up to the default
/// Grad-CAM layer (the last conv block; no pooling, padding, normalisation or classifier). They fall into stages by
/// their spatial size at the model's input, and within a stage only those with the fewest dots in their names count
/// (`fire8`, not `fire8.relu_squeeze1x1`), leaving out containers that hold blocks of other stages (`features`).
/// - Style (Gatys et al., 2015, §2: conv1_1 … conv5_1): the first candidate of each of the first five stages, the
///   first layer after each downsampling. Content (conv4_2): the second candidate of the fourth stage (of the last
///   one, if there are fewer; the first, if the stage has one).
/// - DeepDream (the Keras example: InceptionV3's mixed4 to mixed7, weighted 1, 1.5, 2, 2.5): the stage whose stride
///   (input side over map side) is nearest 16, where mixed3 to mixed7 sit; its candidates after the first, at most
///   four, weighted 1, 1.5, 2, 2.5.
///
/// On VGG19 the rule gives the paper's layers under both namings: features.1, .6, .11, .20, .29 and features.22, or
/// block1_conv1 … block5_conv1 and block4_conv2.
public enum DefaultLayers {
    /// The candidates, stage by stage, shallow first.
    public static func stages(_ lm: LoadedModel) throws -> [[String]] {
        let graph = lm.model.graph
        let shapes = try graph.shapes(input: lm.model.inputShape)
        let last = (try? graph.index(of: lm.model.architecture.camLayer)) ?? graph.nodes.count - 1
        var stages: [(size: [Int], names: [String])] = []
        for name in try ActivationsJob.tileLayers(graph, input: lm.model.inputShape) {
            let i = try graph.index(of: name)
            let layer = graph.nodes[i].layer
            guard i <= last, layer is ActivationLayer || layer is Add || layer is Concat
                || (layer as? Unary).map({ $0.op != .identity }) == true else { continue }
            let size = Array(shapes[i][2...])
            if let k = stages.firstIndex(where: { $0.size == size }) { stages[k].names.append(name) } else { stages.append((size, [name])) }
        }
        // A container alias that holds blocks of other stages (MobileNetV2's `features`) is no block of its own stage.
        let all = stages.enumerated().flatMap { k, s in s.names.map { ($0, k) } }
        return stages.enumerated().compactMap { k, s in
            let blocks = s.names.filter { x in !all.contains { $0.1 != k && $0.0.hasPrefix(x + ".") } }
            guard let fewest = blocks.map(ActivationsJob.dots).min() else { return nil }
            return blocks.filter { ActivationsJob.dots($0) == fewest }
        }
    }

    /// Gatys's style and content layers, or the comparable ones.
    /// - Throws: a `UsageError` when the model has no layer the rule can use.
    public static func style(_ lm: LoadedModel) throws -> (style: [String], content: String) {
        let stages = try stages(lm)
        guard !stages.isEmpty else {
            throw UsageError("no default style layers for \(lm.model.name): give --style-layers and --content-layer")
        }
        let fourth = stages[min(3, stages.count - 1)]
        return (stages.prefix(5).map { $0[0] }, fourth[min(1, fourth.count - 1)])
    }

    /// The Keras example's weighted DeepDream layers, or the comparable ones.
    /// - Throws: a `UsageError` when the model has no layer the rule can use.
    public static func dream(_ lm: LoadedModel) throws -> [(layer: String, weight: Float)] {
        let stages = try stages(lm)
        let shapes = try lm.model.graph.shapes(input: lm.model.inputShape)
        let side = Double(lm.model.inputShape[2])
        func stride(_ stage: [String]) throws -> Double {
            side / Double(shapes[try lm.model.graph.index(of: stage[0])][2])
        }
        guard let stage = try stages.min(by: { abs(try stride($0) - 16) < abs(try stride($1) - 16) }) else {
            throw UsageError("no default DeepDream layers for \(lm.model.name): give --layer")
        }
        let chosen = stage.count == 1 ? stage : Array(stage.dropFirst().prefix(4))
        return chosen.enumerated().map { ($0.element, 1 + 0.5 * Float($0.offset)) }
    }
}
