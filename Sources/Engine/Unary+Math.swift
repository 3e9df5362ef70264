#if canImport(Glibc)
import Glibc
#endif

// Transcendental functions eight lanes at a time, for the activations that run over whole feature maps (SiLU,
// GELU, sigmoid, tanh). libm's scalar expf/erff cost 5–20 ns a value; these run in a few ns for eight. Accuracy is
// checked against libm by `UnaryTests.vectorMathMatchesLibm`.

/// eˣ, within 2 ulp of expf: Cephes' expf (range reduction by ln 2 in two parts, a degree-6 polynomial), with
/// 2ⁿ built in the exponent bits. Gives 0 below −87.34, +∞ above 88.72, NaN for NaN.
@inline(__always)
func expV(_ x: Float8) -> Float8 {
    let lo: Float = -87.3365448, hi: Float = 88.7228394
    let xc = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
    let magic = Float8(repeating: 12_582_912)            // 1.5·2²³: adding it rounds to an integer in the low bits
    let shifted = xc * 1.44269504088896341 + magic
    let n = shifted - magic                               // round(x / ln 2)
    let r = xc - n * 0.693359375 + n * 2.12194440e-4      // x − n·ln 2, ln 2 split for exactness
    var p = Float8(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    // 2ⁿ for n in [−126, 128] as two factors 2^⌊n/2⌋·2^⌈n/2⌉, each a normal float.
    let k = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    let k1 = k &>> 1, k2 = k &- k1
    let s1 = unsafeBitCast((k1 &+ 127) &<< 23, to: Float8.self), s2 = unsafeBitCast((k2 &+ 127) &<< 23, to: Float8.self)
    return (p * s1 * s2).replacing(with: 0, where: x .< lo).replacing(with: .infinity, where: x .> hi).replacing(with: x, where: x .!= x)
}

/// The error function, within 4e-7 of erff: Eigen's rational approximation x·P(x²)/Q(x²) on (−4, 4), exactly ±1
/// outside (where erf rounds to ±1 in Float32), NaN for NaN.
@inline(__always)
func erfV(_ x: Float8) -> Float8 {
    let xc = x.replacing(with: -4, where: x .< -4).replacing(with: 4, where: x .> 4)
    let x2 = xc * xc
    var p = Float8(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    var q = Float8(repeating: -1.45660718464996e-05)
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    let one = Float8(repeating: 1)
    return (xc * p / q).replacing(with: one, where: x .>= 4).replacing(with: -one, where: x .<= -4)
}

/// tanh x, within 2 ulp of tanhf: Cephes' odd polynomial below |x| = 0.625, 1 − 2 / (e²ˣ + 1) above (with the sign).
@inline(__always)
func tanhV(_ x: Float8) -> Float8 {
    let s = x * x
    var p = Float8(repeating: -5.70498872745e-3)
    p = p * s + 2.06390887954e-2
    p = p * s - 5.37397155531e-2
    p = p * s + 1.33314422036e-1
    p = p * s - 3.33332819422e-1
    let small = p * s * x + x
    let ax = x.replacing(with: -x, where: x .< 0)
    let big = 1 - 2 / (expV(2 * ax) + 1)
    return small.replacing(with: big.replacing(with: -big, where: x .< 0), where: ax .>= 0.625)
}

/// 1 / (1 + e⁻ˣ).
@inline(__always)
func sigmoidV(_ x: Float8) -> Float8 { 1 / (1 + expV(-x)) }
