import Engine
import Foundation

// Shapes in the filter-pattern files: N patterns (one per filter), 3 colour channels, H×W pixels.
// "Image" means the parameterisation's output: RGB in [0, 1] for the clear recipe, the model input for Keras's.

/// One differentiable function on a batch of images, (N, C, H, W) → (N, C', H', W'): the forward, and beside it the
/// backward (llm.c's pair, as one value). Parameterisations and transforms are lists of these (lucent's habit).
///
/// Calling an op returns its output and a closure mapping the output gradient to the input gradient; the closure
/// keeps what the backward needs from the forward. Random ops draw from one generator per batch item, so a
/// pattern does not depend on which other filters share its batch.
public struct ImageOp: Sendable {
    /// A short name for descriptions, e.g. "jitter(8)".
    public let name: String
    let body: @Sendable (Tensor, inout [PatternRandom]) -> (Tensor, (Tensor) -> Tensor)

    /// - Parameters:
    ///   - name: for descriptions.
    ///   - body: (x, one generator per item) ↦ (y, dy ↦ dx).
    public init(_ name: String, _ body: @escaping @Sendable (Tensor, inout [PatternRandom]) -> (Tensor, (Tensor) -> Tensor)) {
        self.name = name
        self.body = body
    }

    /// Runs the op on x, (N, C, H, W); returns y and the backward dy ↦ dx.
    public func callAsFunction(_ x: Tensor, _ rng: inout [PatternRandom]) -> (Tensor, (Tensor) -> Tensor) {
        body(x, &rng)
    }

    /// An op without randomness or shape change that applies `f` to every value; `df(x, y)` is its derivative.
    static func elementwise(_ name: String, _ f: @escaping @Sendable (Float) -> Float, _ df: @escaping @Sendable (Float, Float) -> Float) -> ImageOp {
        ImageOp(name) { x, _ in
            let y = Tensor(shape: x.shape, data: x.data.map(f))
            return (y, { dy in
                var dx = dy
                dx.data.withUnsafeMutableBufferPointer { d in
                    for i in 0 ..< d.count { d[i] *= df(x.data[i], y.data[i]) }
                }
                return dx
            })
        }
    }
}

extension Array where Element == ImageOp {
    /// Runs the ops in order; the returned backward runs their backwards in reverse.
    public func apply(_ x: Tensor, _ rng: inout [PatternRandom]) -> (Tensor, (Tensor) -> Tensor) {
        var y = x, backs: [(Tensor) -> Tensor] = []
        for op in self {
            let (out, back) = op(y, &rng)
            y = out
            backs.append(back)
        }
        return (y, { dy in backs.reversed().reduce(dy) { $1($0) } })
    }

    /// "fourier(1/f) → decorrelate → sigmoid", or "identity".
    public var description: String { isEmpty ? "identity" : map(\.name).joined(separator: " → ") }
}

// MARK: - Parameterisations

extension ImageOp {
    /// Lucid's Fourier parameterisation (Olah et al., "Feature Visualization", Distill 2017, §Preconditioning):
    /// the parameters are the coefficients A of an orthonormal real Fourier basis, scaled by 1/f^decay, so that a
    /// gradient step moves low frequencies as much as high ones and the image stays smooth. Per plane:
    ///     X = B_H · (S ⊙ A) · B_Wᵀ,   S[i, j] = 1 / max(f(i, j), 1 / max(H, W))^decay / 4
    /// where B_n (n, n) holds the constant, cos(2πkt/n), sin(2πkt/n) (and the Nyquist ±1) columns, normalised,
    /// and f = √(f_i² + f_j²) in cycles per pixel. This is lucid's `irfft2d(scale · spectrum, norm="ortho") / 4`
    /// written in a real basis, so two matrix products replace the FFT.
    /// Backward: dA = S ⊙ (B_Hᵀ · dX · B_W).
    /// - Parameters:
    ///   - height, width: H and W of the image; the parameters have the same shape (N, C, H, W).
    ///   - decay: the spectrum's power law (lucid's `decay_power`, 1).
    public static func fourier(height: Int, width: Int, decay: Float = 1) -> ImageOp {
        let (bh, fh) = FourierBasis.make(height), (bw, fw) = FourierBasis.make(width)
        let floor = 1 / Float(max(height, width))
        var scale = [Float](repeating: 0, count: height * width)        // (H, W) S
        for i in 0 ..< height {
            for j in 0 ..< width {
                scale[i * width + j] = 1 / pow(max((fh[i] * fh[i] + fw[j] * fw[j]).squareRoot(), floor), decay) / 4
            }
        }
        let scales = scale                                              // (H, W), fixed from here on
        return ImageOp(decay == 1 ? "fourier(1/f)" : "fourier(1/f^\(decay))") { a, _ in
            precondition(a.rank == 4 && a.shape[2] == height && a.shape[3] == width,
                         "fourier: parameters \(a.shape) do not fit (N, C, \(height), \(width))")
            let planes = a.shape[0] * a.shape[1], (h, w) = (height, width)
            // Two GEMMs over all planes at once, with a transpose of every plane between them:
            // Xᵀ = ((S ⊙ A) · B_Wᵀ)ᵀ · B_Hᵀ.
            var sa = a                                                   // (P, H, W) S ⊙ A
            multiplyPlanes(&sa, by: scales)
            let t = matmul(sa, bw, rows: planes * h, n: w, k: w, transB: true)            // (P, H, W)
            let xt = matmul(transposePlanes(t, h, w), bh, rows: planes * w, n: h, k: h, transB: true)   // (P, W, H)
            return (transposePlanes(xt, w, h).reshaped(a.shape), { dx in
                let dt = matmul(transposePlanes(dx, h, w), bh, rows: planes * w, n: h, k: h, transB: false)   // (P, W, H)
                var da = matmul(transposePlanes(dt, w, h), bw, rows: planes * h, n: w, k: w, transB: false)   // (P, H, W)
                multiplyPlanes(&da, by: scales)
                return da.reshaped(a.shape)
            })
        }
    }

    /// Lucid's colour decorrelation: the three channels are coordinates along the principal axes of ImageNet's
    /// colour covariance (its square root, normalised so the largest column has norm 1), mapped to RGB:
    /// rgb[c] = Σ_d M[c][d] · x[d]. Backward: dx[d] = Σ_c M[c][d] · drgb[c].
    public static let decorrelateColours: ImageOp = {
        let svdSqrt: [[Float]] = [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]
        let maxNorm = (0 ..< 3).map { d in (0 ..< 3).reduce(0) { $0 + svdSqrt[$1][d] * svdSqrt[$1][d] }.squareRoot() }.max()!
        let m = svdSqrt.map { $0.map { $0 / maxNorm } }
        return channelMix("decorrelate", m)
    }()

    /// σ(x) = 1 / (1 + e^−x), which keeps every pixel inside [0, 1]. Backward: dx = dy · y(1 − y).
    public static let sigmoid = elementwise("sigmoid", { 1 / (1 + exp(-$0)) }, { _, y in y * (1 - y) })

    /// From RGB in [0, 1] to the model's input: ×255, then the model's preprocessing (channel order, scale, mean, std).
    public static func toModel(_ space: InputSpace) -> ImageOp {
        ImageOp("to \(space.name)") { x, _ in (space.fromUnit(x), { space.fromUnitBackward($0) }) }
    }

    /// y[c] = Σ_d m[c][d] · x[d] at every pixel of (N, 3, H, W).
    static func channelMix(_ name: String, _ m: [[Float]]) -> ImageOp {
        @Sendable func mix(_ x: Tensor, _ m: [[Float]]) -> Tensor {
            precondition(x.rank == 4 && x.shape[1] == 3, "\(name): expects (N, 3, H, W), got \(x.shape)")
            let plane = x.shape[2] * x.shape[3]
            var y = Tensor(zeros: x.shape)
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    for i in 0 ..< x.shape[0] {
                        for c in 0 ..< 3 {
                            for d in 0 ..< 3 where m[c][d] != 0 {
                                let (src, dst, k) = (xp.baseAddress! + (i * 3 + d) * plane, yp.baseAddress! + (i * 3 + c) * plane, m[c][d])
                                for p in 0 ..< plane { dst[p] += k * src[p] }
                            }
                        }
                    }
                }
            }
            return y
        }
        let mt = (0 ..< 3).map { d in (0 ..< 3).map { c in m[c][d] } }
        return ImageOp(name) { x, _ in (mix(x, m), { mix($0, mt) }) }
    }
}

/// The orthonormal real Fourier basis of length n, and the frequency of each basis vector.
enum FourierBasis {
    /// - Returns: B (n, n) row-major with B[t, j] = φ_j(t), and f_j in cycles per sample.
    static func make(_ n: Int) -> (basis: [Float], freqs: [Float]) {
        var b = [Float](repeating: 0, count: n * n), f = [Float](repeating: 0, count: n)
        let dc = 1 / Double(n).squareRoot(), ac = (2 / Double(n)).squareRoot()
        for t in 0 ..< n { b[t * n] = Float(dc) }
        var j = 1
        for k in 1 ..< (n + 1) / 2 {
            for t in 0 ..< n {
                let phase = 2 * Double.pi * Double(k * t % n) / Double(n)
                b[t * n + j] = Float(ac * cos(phase))
                b[t * n + j + 1] = Float(ac * sin(phase))
            }
            f[j] = Float(k) / Float(n); f[j + 1] = f[j]
            j += 2
        }
        if n % 2 == 0 && n > 1 {
            for t in 0 ..< n { b[t * n + n - 1] = Float(t % 2 == 0 ? dc : -dc) }
            f[n - 1] = 0.5
        }
        return (b, f)
    }
}

/// a (rows, k) · op(b), with b (n, k) if transposed else (k, n), row-major: one GEMM over planes stacked as rows.
private func matmul(_ a: Tensor, _ b: [Float], rows: Int, n: Int, k: Int, transB: Bool) -> Tensor {
    var c = Tensor(uninitialized: [rows * n])
    a.data.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.data.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(transB: transB, m: rows, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: transB ? k : n,
                          c: cp.baseAddress!, ldc: n)
            }
        }
    }
    return c
}

/// Every (h, w) plane of x transposed to (w, h).
private func transposePlanes(_ x: Tensor, _ h: Int, _ w: Int) -> Tensor {
    var y = Tensor(uninitialized: [x.count])
    let planes = x.count / (h * w), block = 32
    x.data.withUnsafeBufferPointer { xp in
        y.data.withUnsafeMutableBufferPointer { yp in
            for p in 0 ..< planes {
                let src = xp.baseAddress! + p * h * w, dst = yp.baseAddress! + p * h * w
                for i0 in stride(from: 0, to: h, by: block) {
                    for j0 in stride(from: 0, to: w, by: block) {
                        for i in i0 ..< min(i0 + block, h) { for j in j0 ..< min(j0 + block, w) { dst[j * h + i] = src[i * w + j] } }
                    }
                }
            }
        }
    }
    return y
}

/// x (P, plane) ⊙ s (plane), in place.
private func multiplyPlanes(_ x: inout Tensor, by s: [Float]) {
    let n = s.count
    x.data.withUnsafeMutableBufferPointer { xp in
        s.withUnsafeBufferPointer { sp in
            for p in 0 ..< xp.count / n { for k in 0 ..< n { xp[p * n + k] *= sp[k] } }
        }
    }
}

/// One generator per pattern: SplitMix64 seeded from (seed, filter), so a filter's pattern is the same in any batch.
public typealias PatternRandom = SplitMix64

extension SplitMix64 {
    /// The generator of one filter's pattern, started from a hash of (seed, filter): a few draws of a generator
    /// seeded from `seed`, mixed with the filter index.
    public init(seed: UInt64, filter: Int) {
        var g = SplitMix64(seed ^ 0x5851_F42D_4C95_7F2D)
        for _ in 0 ... (filter % 7) { _ = g.next() }
        self.init(g.next() &+ UInt64(filter) &* 0x9E37_79B9_7F4A_7C15)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Float {
        let u = max(Double(next() >> 11) / Double(1 << 53), 1e-300), v = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}
