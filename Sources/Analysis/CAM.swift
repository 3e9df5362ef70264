import Engine
import Resampling

/// What a CAM method receives for one target layer. Shapes: activations and gradients (N, C, h, w).
public struct CAMInputs {
    /// The layer's output, (N, C, h, w).
    public let activations: Tensor
    /// d(target score)/d(activations), (N, C, h, w); zeros for methods that do not use gradients.
    public let gradients: Tensor
    /// The network, input and targets, for methods that run extra passes (Score-CAM, Ablation-CAM).
    public let context: CAMContext
}

/// The pass a CAM was computed from.
public struct CAMContext {
    public let graph: Graph
    /// The forward pass of `input`.
    public let activations: Activations
    /// The layer being explained.
    public let layer: String
    /// The class explained for each image, (N).
    public let classes: [Int]
    /// Methods that run extra passes report (done, total) here, in their own units (Score-CAM: masked images).
    public let progress: ((Int, Int) -> Void)?
}

/// A class activation mapping method: a name and one function that gives the raw map (N, h, w) before the shared
/// ReLU, normalisation and resize. A method defined by channel weights uses `CAMMethod.weighted`.
public struct CAMMethod {
    /// What `map` returns.
    public enum Output: Sendable {
        /// A raw single-channel map (N, h, w), which the shared steps rectify, normalise and resize.
        case map
        /// A finished RGB image at the input's size, (N, 3, H, W) in [0, 1] (guided backpropagation).
        case image
    }
    /// The name users type, e.g. "gradcam".
    public let name: String
    /// The paper, for captions and docs.
    public let reference: String
    /// Whether `map` reads `CAMInputs.gradients` (a backward pass to the layer is needed).
    public let usesGradients: Bool
    /// Whether the method explains a layer; input-gradient methods (saliency) do not, and run once.
    public let usesLayer: Bool
    /// Whether the map depends on a class score, so that the model needs a classifier (Eigen-CAM's does not).
    public let needsClass: Bool
    public let output: Output
    /// The raw map, (N, h, w), or the image (N, 3, H, W).
    public let map: (CAMInputs) throws -> Tensor

    public init(name: String, reference: String, usesGradients: Bool, usesLayer: Bool = true, needsClass: Bool = true,
                output: Output = .map, map: @escaping (CAMInputs) throws -> Tensor) {
        self.name = name
        self.reference = reference
        self.usesGradients = usesGradients
        self.usesLayer = usesLayer
        self.needsClass = needsClass
        self.output = output
        self.map = map
    }

    /// A method that weights the activation channels: map = Σ_c w[n, c] · A[n, c].
    /// - Parameter weights: gives w (N, C) from the activations and gradients (N, C, h, w).
    public static func weighted(_ name: String, reference: String, usesGradients: Bool = true,
                                weights: @escaping (CAMInputs) throws -> [Float]) -> CAMMethod {
        CAMMethod(name: name, reference: reference, usesGradients: usesGradients) { inputs in
            let a = inputs.activations
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

/// The maps of one CAM run.
public struct CAMResult {
    /// Final maps at the input's resolution, in [0, 1], (N, H, W); for image methods, the images' channel mean.
    public let maps: Tensor
    /// For image methods (guided backpropagation), the RGB result in [0, 1], (N, H, W, 3).
    public let images: Tensor?
    /// Per target layer, the normalised map at feature resolution, (N, h, w).
    public let featureMaps: [String: Tensor]
    /// The class explained for each image.
    public let classes: [Int]
    /// The logits of the explained classes, (N).
    public let scores: [Float]
    /// Softmax probabilities of the explained classes, (N).
    public let probabilities: [Float]
    /// Things the user should know, e.g. that a map was all zero.
    public let warnings: [String]
    /// (image, layer) pairs whose raw map held NaN or infinite values (set to 0 in `maps`): a result not to trust.
    public let nonFinite: [(image: Int, layer: String)]
}

/// The machinery every CAM method shares, following pytorch-grad-cam's BaseCAM: forward, backward from the target
/// logits to the layers, the method's map, ReLU, per-image min-max normalisation at feature resolution,
/// bilinear resize to the input, and for several layers the mean of the per-layer maps, normalised again.
public enum CAM {
    /// Computes class activation maps.
    /// - Parameters:
    ///   - method: how to turn activations (and gradients) into a map.
    ///   - graph: the network; its "logits" output holds pre-softmax scores (N, K).
    ///   - input: preprocessed images, (N, 3, H, W).
    ///   - layers: the target layers (one map each, then averaged).
    ///   - classes: the class to explain per image; nil explains the top class.
    ///   - progress: methods that run extra passes (Score-CAM, Ablation-CAM) report (done, total) per layer here.
    public static func compute(_ method: CAMMethod, graph: Graph, input: Tensor, layers: [String],
                               classes: [Int?]? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> CAMResult {
        let n = input.shape[0], (hIn, wIn) = (input.shape[2], input.shape[3])
        guard !layers.isEmpty else { throw EngineError("CAM: no target layer given") }
        let acts = try graph.forward(input)
        let logits = try acts.output("logits")                           // (N, K)
        let k = logits.count / n
        let probs = Softmax.rows(logits.reshaped([n, k]))
        var chosen: [Int] = []
        for i in 0 ..< n {
            let asked = classes.flatMap { $0.count > i ? $0[i] : nil }
            if let c = asked {
                guard c >= 0 && c < k else { throw EngineError("class index \(c) is out of range: the model has \(k) classes (0…\(k - 1))") }
                chosen.append(c)
            } else {
                chosen.append(argmax(logits.data[i * k ..< (i + 1) * k]))
            }
        }
        var grads: [String: Tensor] = [:]
        if method.usesGradients && method.usesLayer {
            var seed = Tensor(zeros: [n, k])                             // one-hot at each image's class
            for i in 0 ..< n { seed.data[i * k + chosen[i]] = 1 }
            grads = try graph.backward(acts, seed: seed, at: "logits", to: layers)
        }
        var warnings: [String] = [], nonFinite: [(image: Int, layer: String)] = []
        var featureMaps: [String: Tensor] = [:]
        var sum = Tensor(zeros: [n, hIn, wIn])                           // (N, H, W)
        let context = { (layer: String) in CAMContext(graph: graph, activations: acts, layer: layer, classes: chosen,
                                                                   progress: progress) }
        if method.output == .image {
            let img = try method.map(CAMInputs(activations: acts.input, gradients: Tensor(zeros: [0]), context: context(layers[0])))
            var hwc = Tensor(zeros: [n, hIn, wIn, 3]), gray = Tensor(zeros: [n, hIn, wIn])
            for i in 0 ..< n { for c in 0 ..< 3 { for p in 0 ..< hIn * wIn {
                let v = img.data[(i * 3 + c) * hIn * wIn + p]
                hwc.data[(i * hIn * wIn + p) * 3 + c] = v
                gray.data[i * hIn * wIn + p] += v / 3
            } } }
            return CAMResult(maps: gray, images: hwc, featureMaps: [:], classes: chosen,
                             scores: (0 ..< n).map { logits.data[$0 * k + chosen[$0]] },
                             probabilities: (0 ..< n).map { probs.data[$0 * k + chosen[$0]] }, warnings: warnings,
                             nonFinite: hwc.isFinite ? [] : [(0, "input")])
        }
        for layer in method.usesLayer ? layers : [layers[0]] {
            let a = method.usesLayer ? try acts.output(layer) : acts.input
            guard a.rank == 4 else { throw EngineError("layer '\(layer)' has shape \(a.shape); CAM needs a layer with spatial extent (N, C, h, w)") }
            let raw = try method.map(CAMInputs(activations: a, gradients: grads[layer] ?? Tensor(zeros: a.shape), context: context(layer)))
            let (h, w) = (raw.shape[1], raw.shape[2])
            var small = raw
            for i in 0 ..< n {
                var m = Array(raw.data[i * h * w ..< (i + 1) * h * w])
                if m.contains(where: { !$0.isFinite }) {
                    warnings.append("image \(i): the \(method.name) map at '\(layer)' had non-finite values; they were set to 0")
                    nonFinite.append((i, layer))
                    m = m.map { $0.isFinite ? $0 : 0 }
                }
                m = normalize(m.map { Swift.max($0, 0) })
                if m.allSatisfy({ $0 == 0 }) {
                    warnings.append("image \(i): the \(method.name) map at '\(layer)' is constant or all negative; it is drawn as zero")
                }
                small.data.replaceSubrange(i * h * w ..< (i + 1) * h * w, with: m)
                let big = Resample.bilinear(m, h: h, w: w, outH: hIn, outW: wIn)
                for p in 0 ..< hIn * wIn { sum.data[i * hIn * wIn + p] += Swift.max(big[p], 0) }
            }
            featureMaps[method.usesLayer ? layer : "input"] = small
        }
        var maps = sum
        for i in 0 ..< n {
            let r = i * hIn * wIn ..< (i + 1) * hIn * wIn
            maps.data.replaceSubrange(r, with: normalize(sum.data[r].map { $0 / Float(featureMaps.count) }))
        }
        return CAMResult(maps: maps, images: nil, featureMaps: featureMaps, classes: chosen,
                         scores: (0 ..< n).map { logits.data[$0 * k + chosen[$0]] },
                         probabilities: (0 ..< n).map { probs.data[$0 * k + chosen[$0]] }, warnings: warnings, nonFinite: nonFinite)
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
