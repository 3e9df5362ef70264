import Engine
import Foundation

/// Neural style transfer (Gatys, Ecker & Bethge, "A Neural Algorithm of Artistic Style", 2015), as in the Keras
/// example (keras.io/examples/generative/neural_style_transfer): an image that starts as the content photo is
/// optimised so that its Gram matrices at some layers match the style photo's while its features at one layer stay
/// the content photo's, minimising
///
///     L = β · (1/L) Σ_l style_l + α · content + γ · TV(image)
///
/// with the losses of `Objective.style`, `Objective.content` and `Objective.totalVariation`, on the RGB image in
/// [0, 1] seen through the model's preprocessing; by L-BFGS (`LBFGS`), or Adam for comparison, each step projected
/// back into [0, 1] (so every image evaluated, and the result, is a valid one).
public enum StyleTransfer {
    /// How to minimise.
    public enum Method: String, Sendable, CaseIterable {
        case lbfgs, adam
    }

    /// What to match and how hard.
    public struct Settings: Sendable, Equatable {
        public var styleLayers: [String]
        public var contentLayer: String
        /// β, α and γ; the defaults are `convlens style`'s, chosen on SqueezeNet (README, "Style transfer").
        public var styleWeight: Float = 30, contentWeight: Float = 1, tvWeight: Float = 10
        /// Iterations (L-BFGS) or steps (Adam).
        public var steps = 200
        public var method: Method = .lbfgs
        /// Adam's step size, in [0, 1] pixel units: the best of 0.005, 0.01, 0.02 and 0.05 on SqueezeNet and MobileNetV2.
        public var adamRate: Float = 0.01

        public init(styleLayers: [String], contentLayer: String) {
            self.styleLayers = styleLayers
            self.contentLayer = contentLayer
        }
    }

    /// The losses at one point of the optimisation.
    public struct Losses: Codable, Sendable, Equatable {
        /// 0 for the start.
        public var step: Int
        /// Function evaluations so far (each a forward and a backward pass).
        public var evaluations: Int
        /// β·style + α·content + γ·tv, what is minimised.
        public var total: Float
        /// The mean over the style layers of each layer's relative Gram error.
        public var style: Float
        public var content: Float
        public var tv: Float
    }

    /// A finished transfer.
    public struct Result {
        /// (1, 3, H, W) RGB in [0, 1], clipped.
        public let image: Tensor
        /// The losses at the start and after each step; the last are the result's.
        public let curve: [Losses]
        /// The objective maximised, −L, as its description.
        public let objective: String
        /// The content loss of the style photo itself: how far from the content an image made only of the style is,
        /// the scale against which the result's content loss reads.
        public let styleContentLoss: Float
    }

    /// White noise, uniform in [0, 1), to start from instead of the content photo (Gatys's start), seeded.
    /// - Returns: `shape`, e.g. (1, 3, H, W).
    public static func noise(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = PatternRandom(seed: seed, filter: 0)
        return Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map { _ in g.uniform() })
    }

    /// −L as an objective, with the targets taken from the photos.
    /// - Parameters:
    ///   - content: (1, 3, H, W) RGB in [0, 1].
    ///   - style: (1, 3, H', W') RGB in [0, 1].
    ///   - toModel: image → network input.
    public static func objective(_ graph: Graph, content: Tensor, style: Tensor, toModel: [ImageOp], _ s: Settings) throws -> Objective {
        var none: [PatternRandom] = []
        let layers = s.styleLayers + [s.contentLayer]
        let deepest = try layers.max { try graph.index(of: $0) < graph.index(of: $1) }!
        let c = try graph.forward(toModel.apply(content, &none).0, until: deepest)
        let st = try graph.forward(toModel.apply(style, &none).0, until: deepest)
        var o = -s.contentWeight * Objective.content(s.contentLayer, target: try c.output(s.contentLayer))
        for layer in s.styleLayers {
            o = o - (s.styleWeight / Float(s.styleLayers.count)) * Objective.style(layer, target: Gram.matrices(try st.output(layer)))
        }
        return o - s.tvWeight * Objective.totalVariation
    }

    /// The losses of `objective`'s term scores (content first, then the style layers, then TV).
    static func losses(_ scores: [[Float]], _ s: Settings, step: Int, evaluations: Int) -> Losses {
        let v = scores.map { $0.reduce(0, +) }
        let style = v[1 ..< 1 + s.styleLayers.count].reduce(0, +) / Float(s.styleLayers.count)
        let content = v[0], tv = v[v.count - 1]
        return Losses(step: step, evaluations: evaluations, total: s.styleWeight * style + s.contentWeight * content + s.tvWeight * tv,
                      style: style, content: content, tv: tv)
    }

    /// Runs the transfer.
    /// - Parameters:
    ///   - content: (1, 3, H, W) RGB in [0, 1]; the result has its size.
    ///   - style: (1, 3, H', W') RGB in [0, 1]; the result's `styleContentLoss` needs H' = H and W' = W (else NaN).
    ///   - start: (1, 3, H, W), where the image starts; the content photo when nil.
    ///   - progress: called after every step with (steps done, steps in all, the current losses).
    public static func run(_ graph: Graph, content: Tensor, style: Tensor, start: Tensor? = nil, toModel: [ImageOp], settings s: Settings,
                           progress: ((Int, Int, Losses) -> Void)? = nil) throws -> Result {
        let objective = try Self.objective(graph, content: content, style: style, toModel: toModel, s)
        let shape = content.shape
        var evaluations = 0
        var latest: Losses?, curve: [Losses] = []
        /// L and its gradient at x, (1, 3, H, W) flat; the first evaluation is the start of the curve.
        func loss(_ x: [Float]) throws -> (Float, [Float]) {
            let (scores, g) = try objective.evaluate(graph, image: Tensor(shape: shape, data: x), toModel: toModel)
            evaluations += 1
            latest = losses(scores, s, step: 0, evaluations: evaluations)
            if curve.isEmpty { curve.append(latest!) }
            return (latest!.total, g.data.map { -$0 })                   // the objective is −L
        }
        func record(_ step: Int) {
            var l = latest!                                               // L-BFGS evaluates the accepted point last
            l.step = step
            curve.append(l)
            progress?(step, s.steps, l)
        }
        /// Projected steps: every point evaluated is a valid image.
        func clip(_ x: inout [Float]) { for j in x.indices { x[j] = min(max(x[j], 0), 1) } }
        var x = (start ?? content).data                                   // (1, 3, H, W) flat
        switch s.method {
        case .lbfgs:
            try LBFGS().minimise(&x, iterations: s.steps, loss, project: clip) { it, _, _ in record(it) }
        case .adam:
            let update = Optimiser.adam(lr: s.adamRate).start()
            var p = Tensor(shape: shape, data: x)                         // (1, 3, H, W)
            var g = try loss(x).1                                         // ∇L
            for it in 0 ..< s.steps {
                update(&p, Tensor(shape: shape, data: g.map { -$0 }))     // Adam climbs; −∇L is the way down
                var q = p.data
                clip(&q)
                p.data = q
                g = try loss(q).1
                record(it + 1)
            }
            x = p.data
        }
        let image = Tensor(shape: shape, data: x)                         // every point evaluated was clipped
        let reference = style.shape == content.shape
            ? try objective.evaluate(graph, image: style, toModel: toModel).scores[0][0] : Float.nan
        return Result(image: image, curve: curve, objective: objective.description, styleContentLoss: reference)
    }
}
