import Engine

/// The one narrow way a method runs the network again, for the methods that do so by definition: Score-CAM
/// (masked images), Ablation-CAM (ablated channels), SmoothGrad and integrated gradients (noisy or scaled images)
/// and the perturbation metrics (`Faithfulness`). Every other method sees only its explanation's own passes.
public struct CAMRerun {
    let graph: Graph
    /// The explanation's forward pass, which `scores(image:replacing:)` resumes; nil for the metrics.
    let pass: Activations?
    /// The explanation's output, (N, ...); empty for the metrics.
    let original: Tensor
    /// The layer the targets read ("logits").
    let outputName: String
    /// The layer explained, whose output `scores(image:replacing:)` replaces.
    let layer: String

    init(pass: CAMPass, layer: String) {
        graph = pass.graph
        self.pass = pass.activations
        original = pass.output
        outputName = pass.outputName
        self.layer = layer
    }

    /// A rerun of `graph` with no pass to resume, for the perturbation metrics.
    public init(graph: Graph, output: String = "logits") {
        self.graph = graph
        pass = nil
        original = Tensor(zeros: [0])
        outputName = output
        self.layer = output
    }

    /// The model's output for a batch of images, one row per image, each flat.
    func outputs(_ batch: Tensor) throws -> [ArraySlice<Float>] {   // batch (B, C, H, W)
        let y = try graph.forward(batch, retaining: [outputName]).output(outputName)   // (B, ...)
        return rows(y)
    }

    /// The target's value for each image of a batch, (B).
    public func scores(_ batch: Tensor, _ target: CAMTarget) throws -> [Float] {   // batch (B, C, H, W)
        try outputs(batch).map { target.score($0).value }
    }

    /// The target's confidence (`CAMTarget.confidence`) for each image of a batch, (B).
    public func confidences(_ batch: Tensor, _ target: CAMTarget) throws -> [Float] {   // batch (B, C, H, W)
        try outputs(batch).map { target.confidence($0) }
    }

    /// The target's value for image `i` with the explained layer's output replaced by each item of `value`, (B);
    /// only the layers above run again.
    func scores(image i: Int, replacing value: Tensor, _ target: CAMTarget) throws -> [Float] {   // value (B, C, h, w)
        guard let pass else { throw EngineError("CAMRerun: no forward pass to resume at '\(layer)'") }
        let y = try graph.resume(pass.item(i), at: layer, with: value).output(outputName)       // (B, ...)
        return rows(y).map { target.score($0).value }
    }

    /// Image `i`'s output in the explanation's forward pass, flat.
    func output(image i: Int) -> ArraySlice<Float> {
        rows(original)[i]
    }

    /// ∂ target / ∂ input for each image of a batch, (B, C, H, W).
    func inputGradients(_ batch: Tensor, _ target: CAMTarget) throws -> Tensor {   // batch (B, C, H, W)
        let acts = try graph.forward(batch)
        let seed = CAMTarget.seed([CAMTarget](repeating: target, count: batch.shape[0]), output: try acts.output(outputName))
        return try graph.backward(acts, seed: seed, at: outputName, to: ["input"])["input"]!
    }

    private func rows(_ y: Tensor) -> [ArraySlice<Float>] {
        let per = y.count / y.shape[0]
        return (0 ..< y.shape[0]).map { y.data[$0 * per ..< ($0 + 1) * per] }
    }
}
