import Engine

// The losses of style transfer (Gatys et al., "A Neural Algorithm of Artistic Style", 2015), as objectives whose
// score is a loss: subtract them. Each is divided by the size of its target, so the weights that balance them do not
// depend on the model or the layer.

extension Objective {
    /// The style loss at one layer against a target Gram Â (`Gram.matrices` of the style image):
    /// score_i = Σ(Ĝᵢ − Â)² / Σ Â², the squared error of the item's Gram relative to the target's own size.
    /// Gatys's layer loss is E_l = Σ(Ĝ − Â)² / (4·C²) (eq. 4, with Ĝ = G/M); this is E_l times the layer weight
    /// w_l = 4·C² / Σ Â² that eq. 5 leaves free, so every layer counts alike. Backward: 2(Ĝᵢ − Â) / Σ Â², through
    /// `Gram.backward`.
    /// - Parameters:
    ///   - layer: the layer whose output (N, C, h, w) is read.
    ///   - target: (1, C, C) or (C, C), Â.
    public static func style(_ layer: String, target: Tensor) -> Objective {
        let size = max(target.data.reduce(0.0) { $0 + Double($1) * Double($1) }, 1e-30)
        return Objective(layer: layer, label: "style(\(layer))") { a in
            let g = Gram.matrices(a)                                      // (N, C, C)
            precondition(g.count / g.shape[0] == target.count, "style objective: Gram \(g.shape) does not fit the target \(target.shape)")
            let (scores, dG) = relativeSquaredError(g, target, size)      // (N), (N, C, C)
            return (scores, Gram.backward(a, dG))
        }
    }

    /// The content loss at one layer against the content image's features P: score_i = Σ(Fᵢ − P)² / Σ P², Gatys's
    /// ½·Σ(F − P)² (eq. 1) divided by ½·Σ P². Backward: 2(Fᵢ − P) / Σ P².
    /// - Parameters:
    ///   - target: (1, C, h, w), P.
    public static func content(_ layer: String, target: Tensor) -> Objective {
        let size = max(target.data.reduce(0.0) { $0 + Double($1) * Double($1) }, 1e-30)
        return Objective(layer: layer, label: "content(\(layer))") { a in
            precondition(a.count / a.shape[0] == target.count, "content objective: features \(a.shape) do not fit the target \(target.shape)")
            return relativeSquaredError(a, target, size)                  // (N), (N, C, h, w)
        }
    }

    /// Per item i of x (N, ...), Σ(xᵢ − t)² / size, and its gradient 2(xᵢ − t) / size, shaped like x; sums in Double.
    /// - Parameters:
    ///   - x: (N, ...), each item the size of t.
    ///   - t: the target, one item.
    static func relativeSquaredError(_ x: Tensor, _ t: Tensor, _ size: Double) -> (scores: [Float], gradient: Tensor) {
        let n = x.shape[0], per = x.count / n
        var g = Tensor(zeros: x.shape)                                    // like x
        var scores = [Float](repeating: 0, count: n)
        for i in 0 ..< n {
            var s = 0.0
            for k in 0 ..< per {
                let e = Double(x.data[i * per + k]) - Double(t.data[k])
                s += e * e
                g.data[i * per + k] = Float(2 * e / size)
            }
            scores[i] = Float(s / size)
        }
        return (scores, g)
    }
}
