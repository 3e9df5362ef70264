import Engine

/// A way to draw filter patterns: where the parameters start, how they become an image, what the network sees
/// while optimising, what is maximised, and by which steps.
///
///     parameters ──parameterisation──▶ image ──transforms──▶ ──toModel──▶ network input ──▶ layer
///                                        └── display ──▶ RGB in [0, 1]          (the raw result is toModel(image))
public struct PatternRecipe {
    /// "keras" or "clear".
    public var name: String
    public var steps: Int
    /// The starting parameters of N patterns of H×W, from one generator per pattern: (N, ...).
    public var start: (_ height: Int, _ width: Int, _ rng: inout [PatternRandom]) -> Tensor
    /// Parameters → image, for an H×W image.
    public var parameterisation: (_ height: Int, _ width: Int) -> [ImageOp]
    /// Image → image, random, applied only while optimising.
    public var transforms: [ImageOp]
    /// Image → the model's input, deterministic.
    public var toModel: [ImageOp]
    /// Image → RGB in [0, 1] for display, (N, 3, H, W).
    public var display: (Tensor) -> Tensor
    /// What to maximise at a layer, one filter per batch item.
    public var objective: (_ graph: Graph, _ layer: String, _ filters: [Int]) throws -> Objective
    public var optimiser: Optimiser
}

extension PatternRecipe {
    /// Exactly the Keras book's recipe (Chollet, "Deep Learning with Python", 1st ed., §5.4.2, `generate_pattern`):
    /// uniform noise ×20 + 128 in pixel units (here through the model's preprocessing), 40 steps of 1 along the
    /// gradient of the filter's mean activation divided by its RMS + 1e-5, in the model's input space; shown with
    /// `deprocess_image` (per image: minus the mean, over std + 1e-5, ×0.1, +0.5, clipped to [0, 1], ×255 truncated)
    /// applied, as in the book, to the image in pixel units (RGB): the book's VGG16 took raw pixels, so a Caffe
    /// model's mean pixel or torchvision's per-channel statistics do not tint the picture.
    public static func keras(_ space: InputSpace) -> PatternRecipe {
        PatternRecipe(
            name: "keras", steps: 40,
            start: { h, w, rng in
                var x = Tensor(uninitialized: [rng.count, 3, h, w])       // (N, 3, H, W) pixels 0...255
                let per = 3 * h * w
                for i in rng.indices { for j in 0 ..< per { x.data[i * per + j] = rng[i].uniform() * 20 + 128 } }
                return space.fromPixels(x)
            },
            parameterisation: { _, _ in [] }, transforms: [], toModel: [],
            display: { deprocess(space.toPixels($0)) },
            objective: { _, layer, filters in .channel(layer, filters: filters) },
            optimiser: .normalisedAscent(step: 1, eps: 1e-5))
    }

    /// The Keras book's `deprocess_image`, per image of (N, 3, H, W): (x − mean) / (std + 1e-5) · 0.1 + 0.5, clipped
    /// to [0, 1], then truncated to 1/255 steps as `astype('uint8')` does.
    public static func deprocess(_ x: Tensor) -> Tensor {
        var y = x
        let n = x.shape[0], per = x.count / n
        for i in 0 ..< n {
            let r = i * per ..< (i + 1) * per
            let mean = x.data[r].reduce(0, +) / Float(per)
            let std = (x.data[r].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(per)).squareRoot()
            for j in r {
                let v = min(max((x.data[j] - mean) / (std + 1e-5) * 0.1 + 0.5, 0), 1)
                y.data[j] = (v * 255).rounded(.down) / 255
            }
        }
        return y
    }

    /// The recipe ConvLens draws with by default, after lucid (Olah et al., "Feature Visualization", Distill 2017):
    /// - the pre-activation of the filter is maximised where a ReLU follows, so a filter that is dead on the
    ///   starting image still gets a gradient (`FilterPatterns.preActivation`);
    /// - the image is parameterised in a decorrelated space: Fourier coefficients scaled by 1/f, colours along
    ///   ImageNet's principal colour axes, and a sigmoid into [0, 1];
    /// - the network sees it padded, jittered, scaled and rotated a little at each step (lucid's standard
    ///   transforms), so only patterns that survive small shifts grow;
    /// - Adam with lucid's learning rate 0.05.
    /// - Parameters:
    ///   - space: the model's preprocessing.
    ///   - steps: optimisation steps.
    ///   - learningRate: Adam's step size.
    ///   - tv: weight of a total-variation penalty on the image (0 leaves it out).
    public static func clear(_ space: InputSpace, steps: Int = 64, learningRate: Float = 0.05, tv: Float = 0) -> PatternRecipe {
        PatternRecipe(
            name: "clear", steps: steps,
            start: { h, w, rng in
                var a = Tensor(uninitialized: [rng.count, 3, h, w])       // (N, 3, H, W) Fourier coefficients
                let per = 3 * h * w
                for i in rng.indices { for j in 0 ..< per { a.data[i * per + j] = 0.01 * rng[i].gaussian() } }
                return a
            },
            parameterisation: { h, w in [.fourier(height: h, width: w), .decorrelateColours, .sigmoid] },
            transforms: [.pad(12), .jitter(8), .scale((0 ... 10).map { 1 + Float($0 - 5) / 50 }),
                         .rotate((-10 ... 10).map(Float.init) + [0, 0, 0, 0, 0]), .jitter(4)],
            toModel: [.toModel(space)],
            display: { $0 },
            objective: { graph, layer, filters in
                let o = Objective.channel(layer, filters: filters, linearThrough: try FilterPatterns.preActivation(graph, layer))
                return tv > 0 ? o - tv * .totalVariation : o
            },
            optimiser: .adam(lr: learningRate))
    }
}
