import Engine

/// What an explanation explains: one number computed from one image's output, after pytorch-grad-cam's model
/// targets. Its gradient with respect to the output seeds the backward pass.
/// Notation: y the image's output without the batch axis, (K) for a classifier, any shape for the rest.
public enum CAMTarget: Equatable, Sendable {
    /// y[c], a class logit (pytorch-grad-cam's ClassifierOutputTarget); the default.
    case logit(Int)
    /// softmax(y)[c], a class probability (ClassifierOutputSoftmaxTarget).
    case probability(Int)
    /// Σ y[c] over several classes.
    case logits([Int])
    /// σ(y[i]), one output of a multi-label model that outputs logits (BinaryClassifierOutputTarget on σ(y[i])).
    case sigmoid(Int)
    /// y[i] at flat index i of the output, any rank: a regression model's raw output (RawScoresOutputTarget).
    case output(Int)
    /// Σ_hw y[c, h, w] · mask[h, w], a class's scores summed over a mask of a segmentation output (K, H, W)
    /// (SemanticSegmentationTarget).
    case mask(class: Int, Mask)

    /// A binary mask over a segmentation output's (H, W).
    public struct Mask: Equatable, Sendable {
        public let height: Int, width: Int
        /// (H, W), 1 inside, 0 outside.
        public let values: [Float]
        public init(height: Int, width: Int, values: [Float]) {
            precondition(values.count == height * width, "CAMTarget.Mask: \(values.count) values do not fill \(height)x\(width)")
            self.height = height
            self.width = width
            self.values = values
        }
    }

    /// The class explained, when the target is one class of a classifier.
    public var classIndex: Int? {
        switch self {
        case let .logit(c), let .probability(c): c
        default: nil
        }
    }

    /// Whether the target reads a classifier's (N, K) output.
    public var needsClassifier: Bool {
        switch self {
        case .logit, .probability, .logits, .sigmoid: true
        case .output, .mask: false
        }
    }

    /// For captions: "class 281", "p(281)", "281+282", "σ(3)", "output[3]", "class 15 over a mask of 812 px".
    public var description: String {
        switch self {
        case let .logit(c): "class \(c)"
        case let .probability(c): "p(\(c))"
        case let .logits(cs): cs.map(String.init).joined(separator: "+")
        case let .sigmoid(i): "σ(\(i))"
        case let .output(i): "output[\(i)]"
        case let .mask(c, m): "class \(c) over a mask of \(m.values.filter { $0 != 0 }.count) px"
        }
    }

    /// Checks the target against the output of one image (shape without the batch axis).
    /// - Throws: an error naming the target, the output's shape and what would fit.
    public func check(output shape: [Int]) throws {
        func index(_ i: Int, below n: Int, _ what: String) throws {
            guard i >= 0 && i < n else { throw EngineError("\(what) index \(i) is out of range: the model has \(n) \(what == "class" ? "classes" : "outputs") (0…\(n - 1))") }
        }
        switch self {
        case let .logit(c), let .probability(c):
            try classifier(shape)
            try index(c, below: shape[0], "class")
        case let .sigmoid(i):
            try classifier(shape)
            try index(i, below: shape[0], "output")
        case let .logits(cs):
            try classifier(shape)
            guard !cs.isEmpty else { throw EngineError("target: no classes to sum") }
            for c in cs { try index(c, below: shape[0], "class") }
        case let .output(i):
            try index(i, below: shape.reduce(1, *), "output")
        case let .mask(c, m):
            guard shape.count == 3 else {
                throw EngineError("target \(description) needs a segmentation output (K, H, W); this model's output is \(Self.text(shape))")
            }
            try index(c, below: shape[0], "class")
            guard m.height == shape[1] && m.width == shape[2] else {
                throw EngineError("the mask is \(m.width)×\(m.height) pixels, the model's output is \(shape[2])×\(shape[1]): give a mask of the output's size")
            }
        }
    }

    /// The target's value and its gradient with respect to one image's output.
    /// - Parameter y: the image's output, flat.
    /// - Returns: the score and ∂score/∂y, shaped like `y`.
    public func score(_ y: ArraySlice<Float>) -> (value: Float, gradient: [Float]) {
        let y = Array(y)
        var g = [Float](repeating: 0, count: y.count)
        switch self {
        case let .logit(c), let .output(c):
            g[c] = 1
            return (y[c], g)
        case let .probability(c):
            let p = Softmax.rows(Tensor(shape: [1, y.count], data: y)).data
            for j in g.indices { g[j] = p[c] * ((j == c ? 1 : 0) - p[j]) }     // ∂p_c/∂y_j = p_c (δ_cj − p_j)
            return (p[c], g)
        case let .logits(cs):
            for c in cs { g[c] += 1 }
            return (cs.reduce(0) { $0 + y[$1] }, g)
        case let .sigmoid(i):
            let s = 1 / (1 + expf(-y[i]))
            g[i] = s * (1 - s)
            return (s, g)
        case let .mask(c, m):
            let plane = m.values.count
            var v: Float = 0
            for p in 0 ..< plane where m.values[p] != 0 {
                v += y[c * plane + p] * m.values[p]
                g[c * plane + p] = m.values[p]
            }
            return (v, g)
        }
    }

    /// The confidence the faithfulness figures follow: the softmax probability for class targets (as for a
    /// class logit), the target's own value for the rest.
    public func confidence(_ y: ArraySlice<Float>) -> Float {
        switch self {
        case let .logit(c): CAMTarget.probability(c).score(y).value
        case let .logits(cs): cs.reduce(0) { $0 + CAMTarget.probability($1).score(y).value }
        default: score(y).value
        }
    }

    /// The seed of one backward pass: ∂ Σ_i score_i / ∂ output for a batch, one target per image, (N, ...).
    static func seed(_ targets: [CAMTarget], output: Tensor) -> Tensor {
        let per = output.count / output.shape[0]
        var seed = Tensor(zeros: output.shape)
        for (i, t) in targets.enumerated() {
            seed.data.replaceSubrange(i * per ..< (i + 1) * per, with: t.score(output.data[i * per ..< (i + 1) * per]).gradient)
        }
        return seed
    }

    private func classifier(_ shape: [Int]) throws {
        guard shape.count == 1 else {
            throw EngineError("target \(description) needs a classifier's output (K); this model's output is \(Self.text(shape)): "
                + "use output:I for a raw output element, or mask:C@FILE for a segmentation output")
        }
    }

    static func text(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }
}

#if canImport(Glibc)
import Glibc
#endif
