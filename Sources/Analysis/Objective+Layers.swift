import Engine
import Foundation

// Objectives that read a layer's output A, (N, C, h, w), the same for every batch item (lucent's `objectives.py`:
// channel, neuron, direction, diversity), and DeepDream's layer norm. Each score is maximised; each gradient is that
// of the sum of the items' scores.

extension Objective {
    /// The mean of channel `c` over positions, for every item (lucent's `channel`): score_i = mean_{h,w} A[i, c].
    /// - Parameters:
    ///   - layer: the layer whose output A (N, C, h, w) is read.
    ///   - c: the channel.
    ///   - linearThrough: ReLUs to treat as the identity going down: the pre-activation is optimised.
    public static func channel(_ layer: String, _ c: Int, linearThrough: Set<String> = []) -> Objective {
        Objective(layer: layer, label: "channel \(c) of \(layer)" + preReLU(linearThrough), linearThrough: linearThrough) { a in
            channel(layer, filters: [Int](repeating: c, count: a.shape[0])).terms[0].score(a)
        }
    }

    /// One neuron (lucent's `neuron`): score_i = A[i, c, y, x], at the centre (h / 2, w / 2) when no position is given.
    /// - Parameters:
    ///   - position: (y, x) in the layer's map; the centre when nil.
    public static func neuron(_ layer: String, _ c: Int, at position: (y: Int, x: Int)? = nil, linearThrough: Set<String> = []) -> Objective {
        let at = position.map { " at (\($0.y), \($0.x))" } ?? ""
        return Objective(layer: layer, label: "neuron \(c) of \(layer)\(at)" + preReLU(linearThrough), linearThrough: linearThrough) { a in
            precondition(a.rank == 4 && c < a.shape[1], "neuron objective: channel \(c) does not fit activations \(a.shape)")
            let (n, ch, h, w) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
            let (y, x) = position ?? (h / 2, w / 2)
            precondition(y < h && x < w, "neuron objective: (\(y), \(x)) is outside the \(h)x\(w) map of \(layer)")
            var g = Tensor(zeros: a.shape)                                // (N, C, h, w)
            let scores = (0 ..< n).map { i -> Float in
                let p = ((i * ch + c) * h + y) * w + x
                g.data[p] = 1
                return a.data[p]
            }
            return (scores, g)
        }
    }

    /// A direction in the layer's channel space (lucent's `direction`): the mean over positions of the cosine
    /// between v and the activation vector there, score_i = mean_{h,w} ⟨v, A[i, :, h, w]⟩ / (‖v‖·‖A[i, :, h, w]‖).
    /// Backward, per position: (v / ‖v‖ − cos · a / ‖a‖) / ‖a‖ / (h·w), zero where ‖a‖ = 0.
    /// - Parameters:
    ///   - v: (C) the direction.
    public static func direction(_ layer: String, _ v: [Float], linearThrough: Set<String> = []) -> Objective {
        let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        let unit = v.map { $0 / norm }                                    // (C)
        return Objective(layer: layer, label: "direction in \(layer)" + preReLU(linearThrough), linearThrough: linearThrough) { a in
            precondition(a.rank == 4 && a.shape[1] == v.count, "direction objective: a \(v.count)-vector does not fit activations \(a.shape)")
            let (n, c, plane) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
            var g = Tensor(zeros: a.shape)                                // (N, C, h, w)
            var scores = [Float](repeating: 0, count: n)
            for i in 0 ..< n {
                for p in 0 ..< plane {
                    var dot: Float = 0, sq: Float = 0
                    for k in 0 ..< c { let x = a.data[(i * c + k) * plane + p]; dot += unit[k] * x; sq += x * x }
                    let len = sq.squareRoot()
                    guard len > 1e-12 else { continue }
                    let cos = dot / len
                    scores[i] += cos / Float(plane)
                    for k in 0 ..< c {
                        let j = (i * c + k) * plane + p
                        g.data[j] = (unit[k] - cos * a.data[j] / len) / len / Float(plane)
                    }
                }
            }
            return (scores, g)
        }
    }

    /// Diversity across the batch (lucid's and lucent's `diversity`, Olah et al., "Feature Visualization", 2017,
    /// §Diversity): each item's Gram matrix Gᵢ = Fᵢ·Fᵢᵀ over the layer's positions, normalised to unit Frobenius
    /// norm, and score_i = −Σ_{j≠i} ⟨Ĝᵢ, Ĝⱼ⟩ / N. Adding it pushes the items' styles apart. Backward: the total's
    /// gradient with respect to Ĝᵢ is −2·Σ_{j≠i} Ĝⱼ / N, through the normalisation (dĜ − Ĝ⟨Ĝ, dĜ⟩) / ‖G‖, and through
    /// the Gram (`Gram.backward`).
    public static func diversity(_ layer: String) -> Objective {
        Objective(layer: layer, label: "diversity of \(layer)") { a in
            precondition(a.rank == 4, "diversity objective: expects (N, C, h, w), got \(a.shape)")
            let (n, per) = (a.shape[0], a.shape[1] * a.shape[1])
            let grams = Gram.matrices(a)                                  // (N, C, C), divided by M
            var unit = grams                                              // (N, C, C) Ĝ
            var lengths = [Float](repeating: 1, count: n)
            for i in 0 ..< n {
                let len = max(grams.data[i * per ..< (i + 1) * per].reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                lengths[i] = len
                for k in i * per ..< (i + 1) * per { unit.data[k] /= len }
            }
            var scores = [Float](repeating: 0, count: n)
            var dG = Tensor(zeros: grams.shape)                           // (N, C, C)
            for i in 0 ..< n {
                var dUnit = [Float](repeating: 0, count: per)             // (C, C) d total / d Ĝᵢ
                for j in 0 ..< n where j != i {
                    var dot: Float = 0
                    for k in 0 ..< per { dot += unit.data[i * per + k] * unit.data[j * per + k]; dUnit[k] -= 2 * unit.data[j * per + k] / Float(n) }
                    scores[i] -= dot / Float(n)
                }
                var along: Float = 0
                for k in 0 ..< per { along += unit.data[i * per + k] * dUnit[k] }
                for k in 0 ..< per { dG.data[i * per + k] = (dUnit[k] - unit.data[i * per + k] * along) / lengths[i] }
            }
            // Normalising removes the 1/M of `Gram.matrices`, so Ĝ is lucent's; dG is with respect to the divided Gram
            // that `Gram.backward` differentiates.
            return (scores, Gram.backward(a, dG))
        }
    }

    /// DeepDream's loss (the Keras example, `compute_loss`): the sum of the squared activations, leaving out a
    /// border of `border` positions (where padding makes artefacts), over the number of values of the whole map:
    /// score_i = Σ_{c, border ≤ y < h−border, border ≤ x < w−border} A[i, c, y, x]² / (C·h·w). A map too small for the
    /// border, or a layer without one (N, K), counts every value. Backward: 2·A / (C·h·w) inside, 0 on the border.
    public static func layerNorm(_ layer: String, border: Int = 2) -> Objective {
        Objective(layer: layer, label: "L2(\(layer))") { a in
            let n = a.shape[0], per = a.count / n
            let (h, w) = a.rank == 4 ? (a.shape[2], a.shape[3]) : (1, per)
            let b = a.rank == 4 && h > 2 * border && w > 2 * border ? border : 0
            var g = Tensor(zeros: a.shape)                                // like A
            var scores = [Float](repeating: 0, count: n)
            for i in 0 ..< n {
                var s = 0.0
                for plane in 0 ..< per / (h * w) {
                    for y in b ..< h - b {
                        for x in b ..< w - b {
                            let p = i * per + (plane * h + y) * w + x
                            s += Double(a.data[p]) * Double(a.data[p])
                            g.data[p] = 2 * a.data[p] / Float(per)
                        }
                    }
                }
                scores[i] = Float(s / Double(per))
            }
            return (scores, g)
        }
    }

    /// " (pre-ReLU)" when ReLUs are passed through, for labels.
    static func preReLU(_ linearThrough: Set<String>) -> String { linearThrough.isEmpty ? "" : " (pre-ReLU)" }
}
