import Engine

/// The gradient-based CAM methods, each one function, following pytorch-grad-cam's definitions.
/// Notation: A (N, C, h, w) the layer's activations, G = ∂y^c/∂A the gradients, sums over the spatial positions ij.
extension CAMMethod {
    /// Grad-CAM (Selvaraju et al., 2017, eq. 1): α_k = (1/Z) Σ_ij G^k_ij, the spatial mean of the gradient.
    public static let gradcam = CAMMethod.weighted("gradcam", reference: "Selvaraju et al., ICCV 2017") { x in
        spatial(x.gradients) { g, _, n in g.reduce(0, +) / Float(n) }
    }

    /// Grad-CAM++ (Chattopadhyay et al., 2018, eq. 19): α^kc_ij = G² / (2G² + Σ_ab A^k_ab · G³ + ε), zero where
    /// G = 0, and w_k = Σ_ij α^kc_ij · ReLU(G^k_ij); ε = 1e-6.
    public static let gradcamPlusPlus = CAMMethod.weighted("gradcam++", reference: "Chattopadhyay et al., WACV 2018") { x in
        let sums = spatial(x.activations) { a, _, _ in a.reduce(0, +) }
        return spatial(x.gradients) { g, p, _ in
            var w: Float = 0
            for v in g where v != 0 {
                let g2 = v * v
                w += Swift.max(v, 0) * g2 / (2 * g2 + sums[p] * g2 * v + 1e-6)
            }
            return w
        }
    }

    /// XGrad-CAM (Fu et al., 2020, eq. 9): w_k = Σ_ij (A^k_ij / (Σ_ab A^k_ab + ε)) · G^k_ij; ε = 1e-7.
    public static let xgradcam = CAMMethod.weighted("xgradcam", reference: "Fu et al., BMVC 2020") { x in
        let sums = spatial(x.activations) { a, _, _ in a.reduce(0, +) }
        let hw = x.activations.shape[2] * x.activations.shape[3]
        return (0 ..< sums.count).map { p in
            var s: Float = 0
            for j in p * hw ..< (p + 1) * hw { s += x.gradients.data[j] * x.activations.data[j] / (sums[p] + 1e-7) }
            return s
        }
    }

    /// HiResCAM (Draelos & Carin, 2020, eq. 3): the map is Σ_k G^k ⊙ A^k, the gradient times the activation
    /// elementwise, without spatial averaging.
    public static let hirescam = CAMMethod(name: "hirescam", reference: "Draelos & Carin, 2020", gradients: [.plain]) { x in
        channelSum(x.activations) { j in x.gradients.data[j] * x.activations.data[j] }
    }

    /// LayerCAM (Jiang et al., 2021, eq. 5): the map is Σ_k ReLU(G^k) ⊙ A^k.
    public static let layercam = CAMMethod(name: "layercam", reference: "Jiang et al., IEEE TIP 2021", gradients: [.plain]) { x in
        channelSum(x.activations) { j in Swift.max(x.gradients.data[j], 0) * x.activations.data[j] }
    }

    /// Eigen-CAM (Muhammad & Yeasin, 2020, eq. 5): the projection of the centred activations (hw, C) on their first
    /// right singular vector; gradient-free. The SVD is LAPACK's dgesdd, as numpy's, so the sign agrees with
    /// pytorch-grad-cam's.
    public static let eigencam = CAMMethod(name: "eigencam", reference: "Muhammad & Yeasin, IJCNN 2020", gradients: [],
                                           needsClass: false) { x in
        let a = x.activations
        let (n, c, h, w) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
        var out = Tensor(zeros: [n, h, w])                             // (N, h, w)
        for i in 0 ..< n {
            var m = [Double](repeating: 0, count: h * w * c)           // (hw, C), centred per channel
            for k in 0 ..< c {
                let base = (i * c + k) * h * w
                var mean = 0.0
                for p in 0 ..< h * w { let v = a.data[base + p]; m[p * c + k] = Double(v.isNaN ? 0 : v); mean += m[p * c + k] }
                mean /= Double(h * w)
                for p in 0 ..< h * w { m[p * c + k] = Double(Float(m[p * c + k]) - Float(mean)) }
            }
            let vt = try LAPACK.svd(m, m: h * w, n: c).vt
            for p in 0 ..< h * w {
                var s: Float = 0
                for k in 0 ..< c { s += Float(m[p * c + k]) * Float(vt[k]) }
                out.data[i * h * w + p] = s
            }
        }
        return out
    }

    /// Every method by its command-line name.
    public static var all: [CAMMethod] {
        [.gradcam, .gradcamPlusPlus, .xgradcam, .hirescam, .layercam, .eigencam, .scorecam, .ablationcam,
         .guidedBackprop, .guidedGradcam, .saliency, .smoothgrad, .integratedGradients]
    }

    /// The method called `name`.
    /// - Throws: for an unknown name, suggesting the closest and listing the known ones.
    public static func named(_ name: String) throws -> CAMMethod {
        guard let m = all.first(where: { $0.name == name.lowercased() }) else {
            throw EngineError(unknownNameMessage("CAM method", name, known: all.map(\.name), plural: "methods"))
        }
        return m
    }
}

/// One value per (image, channel) of a (N, C, h, w) tensor: `f(plane values, plane index, plane size)`.
func spatial(_ t: Tensor, _ f: (ArraySlice<Float>, Int, Int) -> Float) -> [Float] {
    let hw = t.shape[2] * t.shape[3]
    return (0 ..< t.shape[0] * t.shape[1]).map { p in f(t.data[p * hw ..< (p + 1) * hw], p, hw) }
}

/// Σ over channels of `term(flat index)` for a (N, C, h, w) shape, giving (N, h, w).
func channelSum(_ like: Tensor, _ term: (Int) -> Float) -> Tensor {
    let (n, c, hw) = (like.shape[0], like.shape[1], like.shape[2] * like.shape[3])
    var out = Tensor(zeros: [n, like.shape[2], like.shape[3]])
    for i in 0 ..< n { for k in 0 ..< c { for p in 0 ..< hw { out.data[i * hw + p] += term((i * c + k) * hw + p) } } }
    return out
}
