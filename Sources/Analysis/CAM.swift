import Engine
import Resampling

/// What a CAM method receives for one target layer: the explanation's own forward and backward passes, never the
/// graph. Shapes: activations and gradients (N, C, h, w).
public struct CAMInputs {
    /// The layer's output, (N, C, h, w); the input (N, C, H, W) for methods that explain no layer.
    public let activations: Tensor
    /// ∂score/∂activations from the explanation's backward pass, (N, C, h, w); zeros when the method asks for none.
    public let gradients: Tensor
    /// ∂score/∂input through guided ReLUs, (N, C, H, W), when the method asks for it.
    public let guided: Tensor?
    /// The images, (N, C, H, W).
    public let input: Tensor
    /// What each image's map explains, (N).
    public let targets: [CAMTarget]
    /// The network again, for the methods that by definition rerun it (Score-CAM, Ablation-CAM, SmoothGrad,
    /// integrated gradients); nil for the rest.
    public let rerun: CAMRerun?
    /// Methods that rerun the network report (done, total) here, in their own units (Score-CAM: masked images).
    public let progress: ((Int, Int) -> Void)?
}

/// A class activation mapping method: a name and one function that gives the raw map (N, h, w) before the shared
/// ReLU, normalisation and resize. A method defined by channel weights uses `CAMMethod.weighted`.
public struct CAMMethod: Sendable {
    /// What `map` returns.
    public enum Output: Sendable {
        /// A raw single-channel map (N, h, w), which the shared steps rectify, normalise and resize.
        case map
        /// A finished RGB image at the input's size, (N, 3, H, W) in [0, 1] (guided backpropagation).
        case image
    }
    /// A gradient a method reads; each costs one backward pass per target.
    public enum Gradient: Hashable, Sendable {
        /// ∂score/∂(the activations the method receives): the layer's, or the input's for methods without a layer.
        case plain
        /// ∂score/∂input with ReLUs passing only positive gradients (guided backpropagation).
        case guided
    }
    /// The name users type, e.g. "gradcam".
    public let name: String
    /// The paper, for captions and docs.
    public let reference: String
    /// The gradients `map` reads, from the explanation's backward passes.
    public let gradients: Set<Gradient>
    /// Whether the method explains a layer; input-gradient methods (saliency) do not, and run once.
    public let usesLayer: Bool
    /// Whether `map` reruns the network through `CAMInputs.rerun`.
    public let reruns: Bool
    /// Whether the map depends on a target score, so that the model needs a classifier or a target (Eigen-CAM's
    /// does not).
    public let needsClass: Bool
    public let output: Output
    /// The raw map, (N, h, w), or the image (N, 3, H, W).
    public let map: @Sendable (CAMInputs) throws -> Tensor

    public init(name: String, reference: String, gradients: Set<Gradient>, usesLayer: Bool = true, reruns: Bool = false,
                needsClass: Bool = true, output: Output = .map, map: @escaping @Sendable (CAMInputs) throws -> Tensor) {
        self.name = name
        self.reference = reference
        self.gradients = gradients
        self.usesLayer = usesLayer
        self.reruns = reruns
        self.needsClass = needsClass
        self.output = output
        self.map = map
    }

    /// Whether `map` reads a gradient (a backward pass is needed).
    public var usesGradients: Bool { !gradients.isEmpty }

    /// A method that weights the activation channels: map = Σ_c w[n, c] · A[n, c].
    /// - Parameter weights: gives w (N, C) from the activations and gradients (N, C, h, w).
    public static func weighted(_ name: String, reference: String, gradients: Set<Gradient> = [.plain], reruns: Bool = false,
                                weights: @escaping @Sendable (CAMInputs) throws -> [Float]) -> CAMMethod {
        CAMMethod(name: name, reference: reference, gradients: gradients, reruns: reruns) { inputs in
            let a = inputs.activations                                   // (N, C, h, w)
            let (n, c, h, w) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
            let wts = try weights(inputs)                                // (N, C)
            var out = Tensor(zeros: [n, h, w])                           // (N, h, w)
            for i in 0 ..< n {
                for k in 0 ..< c {
                    let wk = wts[i * c + k], base = (i * c + k) * h * w
                    if wk == 0 { continue }
                    for p in 0 ..< h * w { out.data[i * h * w + p] += wk * a.data[base + p] }
                }
            }
            return out
        }
    }
}

/// The maps of one explanation: one target per image.
public struct CAMResult {
    /// Final maps at the input's resolution, in [0, 1], (N, H, W); for image methods, the images' channel mean.
    public let maps: Tensor
    /// For image methods (guided backpropagation), the RGB result in [0, 1], (N, H, W, 3).
    public let images: Tensor?
    /// Per target layer, the normalised map at feature resolution, (N, h, w).
    public let featureMaps: [String: Tensor]
    /// What each image's map explains, (N).
    public let targets: [CAMTarget]
    /// The targets' values on the unmodified images (a class logit, a probability, ...), (N).
    public let scores: [Float]
    /// The confidence of each target: the softmax probability for class targets, the target's value otherwise, (N).
    public let confidences: [Float]
    /// Things the user should know, e.g. that a map was all zero.
    public let warnings: [String]
    /// (image, layer) pairs whose raw map held NaN or infinite values (set to 0 in `maps`): a result not to trust.
    public let nonFinite: [(image: Int, layer: String)]

    /// The class explained for each image, when its target is one class.
    public var classes: [Int?] { targets.map(\.classIndex) }
}

/// The machinery every CAM method shares, following pytorch-grad-cam's BaseCAM: forward, backward from the target
/// scores to the layers, the method's map, ReLU, per-image min-max normalisation at feature resolution, bilinear
/// resize to the input, and for several layers the mean of the per-layer maps, normalised again.
public enum CAM {
    /// Computes class activation maps of one target per image, from one forward pass (`CAMPass`).
    /// - Parameters:
    ///   - method: how to turn activations (and gradients) into a map.
    ///   - graph: the network; its "logits" output holds pre-softmax scores (N, K).
    ///   - input: preprocessed images, (N, 3, H, W).
    ///   - layers: the target layers (one map each, then averaged).
    ///   - classes: the class logit to explain per image; nil explains the top class.
    ///   - progress: methods that rerun the network (Score-CAM, Ablation-CAM) report (done, total) per layer here.
    public static func compute(_ method: CAMMethod, graph: Graph, input: Tensor, layers: [String],
                               classes: [Int?]? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> CAMResult {
        let pass = try CAMPass(graph: graph, input: input)
        let top = try pass.top(1)[0]
        let targets = top.indices.map { i in classes.flatMap { $0.count > i ? $0[i] : nil }.map(CAMTarget.logit) ?? top[i] }
        return try pass.explain(method, layers: layers, targets: targets, progress: progress)
    }

    /// The shared steps after the method: per image, non-finite values set to 0 (and reported), ReLU, min-max
    /// normalisation, bilinear resize to (H, W), then the mean over layers, normalised again.
    /// - Parameters:
    ///   - raws: per layer, the method's raw map (N, h, w).
    ///   - size: the input's (H, W).
    static func finish(_ raws: [(layer: String, map: Tensor)], method: String, size: (Int, Int))
        -> (maps: Tensor, featureMaps: [String: Tensor], warnings: [String], nonFinite: [(image: Int, layer: String)]) {
        let (hIn, wIn) = size, n = raws[0].map.shape[0]
        var warnings: [String] = [], nonFinite: [(image: Int, layer: String)] = []
        var featureMaps: [String: Tensor] = [:]
        var sum = Tensor(zeros: [n, hIn, wIn])                           // (N, H, W)
        for (layer, raw) in raws {
            let (h, w) = (raw.shape[1], raw.shape[2])
            var small = raw                                              // (N, h, w)
            for i in 0 ..< n {
                var m = Array(raw.data[i * h * w ..< (i + 1) * h * w])
                if m.contains(where: { !$0.isFinite }) {
                    warnings.append("image \(i): the \(method) map at '\(layer)' had non-finite values; they were set to 0")
                    nonFinite.append((i, layer))
                    m = m.map { $0.isFinite ? $0 : 0 }
                }
                m = normalize(m.map { Swift.max($0, 0) })
                if m.allSatisfy({ $0 == 0 }) {
                    warnings.append("image \(i): the \(method) map at '\(layer)' is constant or all negative; it is drawn as zero")
                }
                small.data.replaceSubrange(i * h * w ..< (i + 1) * h * w, with: m)
                let big = Resample.bilinear(m, h: h, w: w, outH: hIn, outW: wIn)
                for p in 0 ..< hIn * wIn { sum.data[i * hIn * wIn + p] += Swift.max(big[p], 0) }
            }
            featureMaps[layer] = small
        }
        var maps = sum                                                   // (N, H, W)
        for i in 0 ..< n {
            let r = i * hIn * wIn ..< (i + 1) * hIn * wIn
            maps.data.replaceSubrange(r, with: normalize(sum.data[r].map { $0 / Float(featureMaps.count) }))
        }
        return (maps, featureMaps, warnings, nonFinite)
    }

    /// x − min, then / (max + 1e−7), as pytorch-grad-cam's scale_cam_image.
    public static func normalize(_ m: [Float]) -> [Float] {
        guard let lo = m.min() else { return m }
        let shifted = m.map { $0 - lo }
        let hi = shifted.max()! + 1e-7
        return shifted.map { $0 / hi }
    }

    static func argmax(_ xs: ArraySlice<Float>) -> Int {
        var best = xs.startIndex
        for i in xs.indices where xs[i] > xs[best] { best = i }
        return best - xs.startIndex
    }
}
