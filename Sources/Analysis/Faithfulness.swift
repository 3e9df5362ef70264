import Engine

/// How well a saliency map explains the model's confidence, by removing or keeping the pixels it ranks highest.
/// Confidence is the target's (`CAMTarget.confidence`: the softmax probability of an explained class). The
/// perturbed images run through `CAMRerun`, the one interface for methods that rerun the network. Pixels are "removed" by setting them to 0 in the
/// model's input space (the dataset mean colour for mean-subtracted inputs).
public struct Faithfulness: Codable, Sendable {
    /// Confidence on the unmodified image.
    public let confidence: Float
    /// Confidence lost when the 20% most salient pixels are removed (higher means the map found what matters).
    public let dropRemovingTop20: Float
    /// Confidence lost when only the 20% most salient pixels are kept (lower is better).
    public let dropKeepingTop20: Float
    /// Area under the confidence curve as the most salient pixels are deleted first (Petsiuk et al., 2018; lower is better).
    public let deletionAUC: Float
    /// Area under the confidence curve as the most salient pixels are inserted into a blurred copy (higher is better).
    public let insertionAUC: Float

    /// Computes the figures for one image.
    /// - Parameters:
    ///   - rerun: the network.
    ///   - image: one preprocessed image, (1, C, H, W).
    ///   - map: the saliency map at the input's size, (H, W).
    ///   - target: what the map explains.
    ///   - steps: points on the deletion and insertion curves.
    public static func measure(_ rerun: CAMRerun, image: Tensor, map: [Float], target: CAMTarget, steps: Int = 20) throws -> Faithfulness {
        let (c, h, w) = (image.shape[1], image.shape[2], image.shape[3]), plane = h * w
        precondition(map.count == plane, "Faithfulness: map has \(map.count) values, image is \(h)x\(w)")
        let order = map.indices.sorted { map[$0] > map[$1] || map[$0] == map[$1] && $0 < $1 }   // most salient first
        let blurred = blur(image)
        /// The image with the first `n` pixels of `order` taken from `source` and the rest from `base`.
        func mix(_ base: Tensor, _ source: Tensor, _ n: Int) -> Tensor {
            var out = base
            for p in order.prefix(n) { for k in 0 ..< c { out.data[k * plane + p] = source.data[k * plane + p] } }
            return out
        }
        let zero = Tensor(zeros: image.shape)
        let top = plane / 5
        var variants = [image, mix(image, zero, top), mix(zero, image, top)]
        for s in 0 ... steps { variants.append(mix(image, zero, plane * s / steps)) }     // deletion
        for s in 0 ... steps { variants.append(mix(blurred, image, plane * s / steps)) }   // insertion
        var p: [Float] = []
        for start in stride(from: 0, to: variants.count, by: 16) {
            let chunk = Array(variants[start ..< min(start + 16, variants.count)])
            p += try rerun.confidences(Tensor.batch(chunk), target)
        }
        func auc(_ ys: ArraySlice<Float>) -> Float {
            let y = Array(ys)
            return zip(y, y.dropFirst()).reduce(0) { $0 + ($1.0 + $1.1) / 2 } / Float(y.count - 1)
        }
        return Faithfulness(confidence: p[0], dropRemovingTop20: p[0] - p[1], dropKeepingTop20: p[0] - p[2],
                            deletionAUC: auc(p[3 ..< 4 + steps]), insertionAUC: auc(p[(4 + steps)...]))
    }

    /// A strong blur (three passes of an 11×11 box filter, close to a Gaussian), the insertion curve's start.
    static func blur(_ image: Tensor) -> Tensor {
        let (c, h, w) = (image.shape[1], image.shape[2], image.shape[3]), r = 5
        var out = image
        for _ in 0 ..< 3 {
            for k in 0 ..< c {
                var plane = Array(out.data[k * h * w ..< (k + 1) * h * w])
                for pass in 0 ..< 2 {                       // rows, then columns
                    var next = plane
                    for i in 0 ..< h {
                        for j in 0 ..< w {
                            var s: Float = 0, n: Float = 0
                            for d in -r ... r {
                                let (ii, jj) = pass == 0 ? (i, j + d) : (i + d, j)
                                if ii >= 0 && ii < h && jj >= 0 && jj < w { s += plane[ii * w + jj]; n += 1 }
                            }
                            next[i * w + j] = s / n
                        }
                    }
                    plane = next
                }
                out.data.replaceSubrange(k * h * w ..< (k + 1) * h * w, with: plane)
            }
        }
        return out
    }
}
