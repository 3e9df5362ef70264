import Engine

/// Methods built on the gradient of the target score with respect to the input pixels. Saliency and guided
/// backpropagation read the explanation's own backward pass; SmoothGrad and integrated gradients rerun the network
/// on noisy or scaled images by definition.
extension CAMMethod {
    /// Saliency (Simonyan et al., 2014, §3.1): M_ij = max_c |∂y^c/∂x_cij|.
    public static let saliency = CAMMethod(name: "saliency", reference: "Simonyan et al., ICLR Workshop 2014",
                                           gradients: [.plain], usesLayer: false) { x in
        channelMax(x.gradients) { abs($0) }
    }

    /// SmoothGrad (Smilkov et al., 2017, eq. 3): the saliency averaged over noisy copies x + N(0, σ²), with
    /// σ = `noise` × (max x − min x) per image; as captum's NoiseTunnel(Saliency) with nt_type "smoothgrad", the
    /// absolute gradients are averaged, then the maximum over colour channels is taken.
    /// - Parameters:
    ///   - samples: noisy copies per image.
    ///   - noise: the noise level σ / (max − min).
    ///   - seed: the noise's seed.
    ///   - fixedNoise: unit-variance noise to use instead of drawing it, (samples, C, H, W) (tests supply captum's).
    public static func smoothgrad(samples: Int = 25, noise: Float = 0.15, seed: UInt64 = 0, fixedNoise: Tensor? = nil) -> CAMMethod {
        CAMMethod(name: "smoothgrad", reference: "Smilkov et al., 2017", gradients: [], usesLayer: false, reruns: true) { x in
            let input = x.input, rerun = try x.rerun.unwrap("smoothgrad")
            let (n, per) = (input.shape[0], input.count / input.shape[0])
            var rng = NormalRandom(seed: seed)
            var out: [Float] = []
            for i in 0 ..< n {
                let image = Array(input.data[i * per ..< (i + 1) * per])
                let sigma = noise * (image.max()! - image.min()!)
                var mean = [Float](repeating: 0, count: per)
                for start in stride(from: 0, to: samples, by: 8) {
                    let count = Swift.min(8, samples - start)
                    var batch = Tensor(zeros: [count] + input.shape.dropFirst())
                    for b in 0 ..< count {
                        for j in 0 ..< per {
                            let z = fixedNoise.map { $0.data[(start + b) * per + j] } ?? rng.next()
                            batch.data[b * per + j] = image[j] + sigma * z
                        }
                    }
                    let g = try rerun.inputGradients(batch, x.targets[i])              // (count, C, H, W)
                    for b in 0 ..< count { for j in 0 ..< per { mean[j] += abs(g.data[b * per + j]) / Float(samples) } }
                }
                out += channelMax(Tensor(shape: [1] + input.shape.dropFirst(), data: mean)) { $0 }.data
            }
            return Tensor(shape: [n, input.shape[2], input.shape[3]], data: out)
        }
    }
    public static let smoothgrad = smoothgrad()

    /// Integrated Gradients (Sundararajan et al., 2017, eq. 1): (x − x′) ⊙ ∫₀¹ ∂y^c/∂x(x′ + α(x − x′)) dα with the
    /// zero baseline x′ = 0 (in the model's input space), the integral by `steps`-point Gauss–Legendre quadrature as
    /// captum's default; the map is |Σ_channels attribution|.
    public static func integratedGradients(steps: Int = 50) -> CAMMethod {
        CAMMethod(name: "integrated-gradients", reference: "Sundararajan et al., ICML 2017", gradients: [], usesLayer: false,
                  reruns: true) { x in
            let input = x.input, rerun = try x.rerun.unwrap("integrated-gradients")
            let (n, per) = (input.shape[0], input.count / input.shape[0])
            let (nodes, weights) = gaussLegendre(steps)
            var out: [Float] = []
            for i in 0 ..< n {
                let image = Array(input.data[i * per ..< (i + 1) * per])
                var total = [Float](repeating: 0, count: per)
                for start in stride(from: 0, to: steps, by: 10) {
                    let count = Swift.min(10, steps - start)
                    var batch = Tensor(zeros: [count] + input.shape.dropFirst())
                    for b in 0 ..< count { for j in 0 ..< per { batch.data[b * per + j] = Float(nodes[start + b]) * image[j] } }
                    let g = try rerun.inputGradients(batch, x.targets[i])              // (count, C, H, W)
                    for b in 0 ..< count { for j in 0 ..< per { total[j] += Float(weights[start + b]) * g.data[b * per + j] } }
                }
                let attribution = Tensor(shape: [1] + input.shape.dropFirst(), data: zip(image, total).map { $0 * $1 })
                out += channelSum(attribution) { attribution.data[$0] }.data.map { abs($0) }
            }
            return Tensor(shape: [n, input.shape[2], input.shape[3]], data: out)
        }
    }
    public static let integratedGradients = integratedGradients()

    /// Guided backpropagation (Springenberg et al., 2015): the input gradient with ReLUs passing only positive
    /// gradients, shown as an image after pytorch-grad-cam's deprocess_image (standardise, ×0.1, +0.5, clip).
    public static let guidedBackprop = CAMMethod(name: "guided-backprop", reference: "Springenberg et al., ICLR Workshop 2015",
                                                 gradients: [.guided], usesLayer: false, output: .image) { x in
        deprocess(x.guided!)
    }

    /// Guided Grad-CAM (Selvaraju et al., 2017, §3.2): guided backpropagation times the Grad-CAM map of the layer,
    /// per pixel, then deprocessed as an image. Both come from the explanation's pass: the plain backward pass to
    /// the layer and the guided one to the input.
    public static let guidedGradcam = CAMMethod(name: "guided-gradcam", reference: "Selvaraju et al., ICCV 2017",
                                                gradients: [.plain, .guided], output: .image) { x in
        let input = x.input
        let cam = CAM.finish([("layer", try CAMMethod.gradcam.map(x))], method: "gradcam", size: (input.shape[2], input.shape[3])).maps
        var g = x.guided!                                                                      // (N, 3, H, W)
        let (c, plane) = (input.shape[1], input.shape[2] * input.shape[3])
        for i in 0 ..< input.shape[0] { for k in 0 ..< c { for p in 0 ..< plane { g.data[(i * c + k) * plane + p] *= cam.data[i * plane + p] } } }
        return deprocess(g)
    }
}

/// max over channels of f(value), (N, C, H, W) → (N, H, W).
func channelMax(_ t: Tensor, _ f: (Float) -> Float) -> Tensor {
    let (n, c, plane) = (t.shape[0], t.shape[1], t.shape[2] * t.shape[3])
    var out = Tensor(shape: [n, t.shape[2], t.shape[3]], repeating: -.infinity)
    for i in 0 ..< n { for k in 0 ..< c { for p in 0 ..< plane { out.data[i * plane + p] = Swift.max(out.data[i * plane + p], f(t.data[(i * c + k) * plane + p])) } } }
    return out
}

/// pytorch-grad-cam's deprocess_image per image, without the final quantisation: x − mean, / (std + 1e-5), ×0.1,
/// +0.5, clipped to [0, 1]. (N, C, H, W) → same shape.
func deprocess(_ t: Tensor) -> Tensor {
    var out = t
    let per = t.count / t.shape[0]
    for i in 0 ..< t.shape[0] {
        let xs = t.data[i * per ..< (i + 1) * per]
        let mean = xs.reduce(0.0) { $0 + Double($1) } / Double(per)
        let std = (xs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(per)).squareRoot()
        for j in i * per ..< (i + 1) * per {
            out.data[j] = Float(Swift.min(Swift.max((Double(t.data[j]) - mean) / (std + 1e-5) * 0.1 + 0.5, 0), 1))
        }
    }
    return out
}

/// Nodes in [0, 1] and weights of the n-point Gauss–Legendre rule, as captum maps numpy's leggauss:
/// α = (1 + x)/2, w = w/2.
func gaussLegendre(_ n: Int) -> ([Double], [Double]) {
    var nodes = [Double](repeating: 0, count: n), weights = nodes
    for i in 0 ..< n {
        var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))    // initial guess for the i-th root
        var dp = 0.0
        for _ in 0 ..< 100 {
            var (p0, p1) = (1.0, x)                                          // P0, P1; recurrence to P_n
            for k in 2 ... max(2, n) where n >= 2 { (p0, p1) = (p1, (Double(2 * k - 1) * x * p1 - Double(k - 1) * p0) / Double(k)) }
            if n == 1 { p0 = 1; p1 = x }
            dp = Double(n) * (x * p1 - p0) / (x * x - 1)
            let dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-15 { break }
        }
        nodes[n - 1 - i] = 0.5 * (1 + x)
        weights[n - 1 - i] = 0.5 * 2 / ((1 - x * x) * dp * dp)
    }
    return (nodes, weights)
}

/// Standard normal numbers (Box–Muller over SplitMix64), reproducible for a seed.
struct NormalRandom {
    var uniform: SplitMix64
    var spare: Float?
    init(seed: UInt64) { uniform = SplitMix64(seed) }
    mutating func next() -> Float {
        if let s = spare { spare = nil; return s }
        let (u, v) = (uniform.nextUnitOpen(), uniform.nextUnitOpen())
        let r = (-2 * log(u)).squareRoot()
        spare = Float(r * sin(2 * .pi * v))
        return Float(r * cos(2 * .pi * v))
    }
}

#if canImport(Glibc)
import Glibc
#endif
