import Engine

extension CAMMethod {
    /// Grad-CAM (Selvaraju et al., 2017, eq. 1): α_k = (1/Z) Σ_ij ∂y^c/∂A^k_ij, the spatial mean of the gradient.
    public static let gradcam = CAMMethod.weighted("gradcam", reference: "Selvaraju et al., ICCV 2017") { x in
        let g = x.gradients
        let (n, c, hw) = (g.shape[0], g.shape[1], g.shape[2] * g.shape[3])
        return (0 ..< n * c).map { p in g.data[p * hw ..< (p + 1) * hw].reduce(0, +) / Float(hw) }
    }

    /// Every method by its command-line name.
    public static var all: [CAMMethod] { [.gradcam] }

    /// The method called `name`.
    /// - Throws: for an unknown name, listing the known ones.
    public static func named(_ name: String) throws -> CAMMethod {
        guard let m = all.first(where: { $0.name == name.lowercased() }) else {
            throw EngineError("unknown CAM method '\(name)'; methods are: \(all.map(\.name).joined(separator: ", "))")
        }
        return m
    }
}
