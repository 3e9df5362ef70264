import Engine
import Foundation

/// How a pattern's parameters climb their gradient. Each run starts from fresh state (`start()`), then every step
/// updates the parameters (N, ...) in place from the gradient of the objective (ascent).
public struct Optimiser: CustomStringConvertible {
    public let description: String
    /// Fresh state for one batch: returns the update (parameters, gradient), both (N, ...).
    public let start: () -> (inout Tensor, Tensor) -> Void

    /// The Keras book's step (Chollet, "Deep Learning with Python", 1st ed., §5.4.2): each item's gradient is divided
    /// by its root mean square plus `eps`, then added times `step`: x += step · g / (√mean(g²) + eps).
    public static func normalisedAscent(step: Float = 1, eps: Float = 1e-5) -> Optimiser {
        Optimiser(description: "normalised gradient ascent, step \(step)") {
            { p, g in
                let n = p.shape[0], per = p.count / n
                for i in 0 ..< n {
                    var ss: Float = 0
                    for j in i * per ..< (i + 1) * per { ss += g.data[j] * g.data[j] }
                    let k = step / ((ss / Float(per)).squareRoot() + eps)
                    for j in i * per ..< (i + 1) * per { p.data[j] += k * g.data[j] }
                }
            }
        }
    }

    /// Adam (Kingma & Ba, 2015, Algorithm 1) climbing the gradient: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
    /// p += lr · m̂ / (√v̂ + ε) with the bias-corrected m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) (torch.optim.Adam's order).
    public static func adam(lr: Float = 0.05, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) -> Optimiser {
        Optimiser(description: "Adam, lr \(lr)") {
            var m: [Float] = [], v: [Float] = [], t = 0
            return { p, g in
                if m.count != p.count { m = [Float](repeating: 0, count: p.count); v = m; t = 0 }
                t += 1
                let c1 = 1 - pow(beta1, Float(t)), c2 = (1 - pow(beta2, Float(t))).squareRoot()
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        p.data.withUnsafeMutableBufferPointer { p in
                            g.data.withUnsafeBufferPointer { g in
                                for j in 0 ..< p.count {
                                    m[j] = beta1 * m[j] + (1 - beta1) * g[j]
                                    v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j]
                                    p[j] += lr * (m[j] / c1) / (v[j].squareRoot() / c2 + eps)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
