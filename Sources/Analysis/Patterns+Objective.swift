import Engine
import Foundation

/// What filter-pattern optimisation maximises: a weighted sum of terms, each reading one place (a layer's output,
/// or the image) and scoring every batch item, with the gradient of those scores. Objectives are values that add
/// and scale, as in lucent, and their description becomes the figure's caption:
///
///     let o = Objective.channel("fire4", filters: [3, 7]) - 0.05 * Objective.totalVariation
///     o.description   // "channel mean of fire4 − 0.05·TV(image)"
public struct Objective: CustomStringConvertible, Sendable {
    /// One scored quantity.
    public struct Term: Sendable {
        /// A layer name, or nil for the image (the parameterisation's output, before the random transforms).
        public var layer: String?
        /// Activation layers whose gradient is taken as the identity on the way down (`Graph.backward`'s
        /// `linearThrough:`), so that a dead ReLU still passes the gradient of its pre-activation.
        public var linearThrough: Set<String> = []
        public var weight: Float = 1
        /// For descriptions, e.g. "channel mean of fire4".
        public var label: String
        /// Scores (N) of a batch (N, ...) and their gradients, shaped like the batch.
        public var score: @Sendable (Tensor) -> (scores: [Float], gradient: Tensor)
    }

    public var terms: [Term]

    public init(terms: [Term]) { self.terms = terms }

    /// A single term.
    public init(layer: String?, label: String, linearThrough: Set<String> = [],
                score: @escaping @Sendable (Tensor) -> (scores: [Float], gradient: Tensor)) {
        terms = [Term(layer: layer, linearThrough: linearThrough, label: label, score: score)]
    }

    public var description: String {
        var s = ""
        for (i, t) in terms.enumerated() {
            let w = abs(t.weight)
            let body = (w == 1 ? "" : String(format: "%g·", Double(w))) + t.label
            s += i == 0 ? (t.weight < 0 ? "−" : "") + body : (t.weight < 0 ? " − " : " + ") + body
        }
        return s
    }

    public static func + (a: Objective, b: Objective) -> Objective { Objective(terms: a.terms + b.terms) }
    public static func - (a: Objective, b: Objective) -> Objective { a + (-1) * b }
    public static func * (k: Float, o: Objective) -> Objective {
        Objective(terms: o.terms.map { var t = $0; t.weight *= k; return t })
    }
}

extension Objective {
    /// The mean activation of one channel per batch item: item i scores mean_{h,w} A[i, filters[i], h, w] (the
    /// Keras book's `K.mean(layer_output[:, :, :, filter_index])`). Gradient: 1/(h·w) on that channel.
    /// - Parameters:
    ///   - layer: the layer whose output A (N, C, h, w) is read.
    ///   - filters: the channel of each item, (N).
    ///   - linearThrough: ReLUs to treat as the identity going down: the pre-activation is optimised.
    public static func channel(_ layer: String, filters: [Int], linearThrough: Set<String> = []) -> Objective {
        let label = linearThrough.isEmpty ? "channel mean of \(layer)" : "channel mean of \(layer) (pre-ReLU)"
        return Objective(layer: layer, label: label, linearThrough: linearThrough) { a in
            precondition(a.rank == 4 && a.shape[0] == filters.count, "channel objective: activations \(a.shape) do not fit \(filters.count) filters")
            let (n, c, plane) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
            var g = Tensor(zeros: a.shape)                                // (N, C, h, w)
            var scores = [Float](repeating: 0, count: n)
            for i in 0 ..< n {
                let base = (i * c + filters[i]) * plane
                var s: Float = 0
                for p in 0 ..< plane { s += a.data[base + p]; g.data[base + p] = 1 / Float(plane) }
                scores[i] = s / Float(plane)
            }
            return (scores, g)
        }
    }

    /// Total variation of the image, the mean squared difference between neighbouring pixels (Mahendran &
    /// Vedaldi, 2015, eq. 5 with β = 2): subtract it to favour smooth patterns.
    public static let totalVariation = Objective(layer: nil, label: "TV(image)") { x in
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var g = Tensor(zeros: x.shape), scores = [Float](repeating: 0, count: n)
        let norm = 1 / Float(c * h * w)
        for i in 0 ..< n {
            var s: Float = 0
            for ch in 0 ..< c {
                let base = (i * c + ch) * h * w
                for y in 0 ..< h {
                    for xx in 0 ..< w {
                        let p = base + y * w + xx
                        if xx + 1 < w { let d = x.data[p + 1] - x.data[p]; s += d * d; g.data[p + 1] += 2 * d * norm; g.data[p] -= 2 * d * norm }
                        if y + 1 < h { let d = x.data[p + w] - x.data[p]; s += d * d; g.data[p + w] += 2 * d * norm; g.data[p] -= 2 * d * norm }
                    }
                }
            }
            scores[i] = s * norm
        }
        return (scores, g)
    }

    /// The mean squared distance of the image from `centre` (grey, 0.5, for RGB in [0, 1]): subtract it to keep
    /// colours from saturating (Simonyan et al., 2014, eq. 1's L2 term).
    public static func l2(centre: Float = 0.5) -> Objective {
        Objective(layer: nil, label: "L2(image)") { x in
            let n = x.shape[0], per = x.count / n
            var g = Tensor(zeros: x.shape), scores = [Float](repeating: 0, count: n)
            for i in 0 ..< n {
                var s: Float = 0
                for p in i * per ..< (i + 1) * per {
                    let d = x.data[p] - centre
                    s += d * d
                    g.data[p] = 2 * d / Float(per)
                }
                scores[i] = s / Float(per)
            }
            return (scores, g)
        }
    }
}
