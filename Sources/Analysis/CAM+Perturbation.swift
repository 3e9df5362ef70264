import Engine
import Resampling

/// The gradient-free CAM methods, which score masked or ablated copies of the input with extra forward passes.
extension CAMMethod {
    /// Images per forward pass for Score-CAM's masked copies and Ablation-CAM's ablated ones.
    public static let chunk = 32

    /// Score-CAM (Wang et al., 2020, eqs. 5–7): each activation channel, upsampled to the input (bilinear, corners
    /// aligned) and min-max normalised, masks the input; the class score of each masked input, softmaxed over the
    /// channels, weights the channels.
    public static let scorecam = CAMMethod.weighted("scorecam", reference: "Wang et al., CVPR Workshops 2020", gradients: [], reruns: true) { x in
        let a = x.activations, input = x.input, rerun = try x.rerun.unwrap("scorecam")
        let (n, c, h, w) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
        let (ch, hIn, wIn) = (input.shape[1], input.shape[2], input.shape[3]), plane = hIn * wIn
        var weights: [Float] = []
        for i in 0 ..< n {
            let image = Array(input.data[i * ch * plane ..< (i + 1) * ch * plane])   // (3, H, W)
            var scores: [Float] = []
            for start in stride(from: 0, to: c, by: chunk) {
                let count = Swift.min(chunk, c - start)
                var batch = Tensor(zeros: [count, ch, hIn, wIn])                      // (count, 3, H, W)
                for b in 0 ..< count {
                    let base = (i * c + start + b) * h * w
                    var mask = Resample.bilinear(Array(a.data[base ..< base + h * w]), h: h, w: w, outH: hIn, outW: wIn, alignCorners: true)
                    let lo = mask.min()!, span = mask.max()! - lo + 1e-8
                    mask = mask.map { ($0 - lo) / span }
                    for k in 0 ..< ch { for p in 0 ..< plane { batch.data[(b * ch + k) * plane + p] = image[k * plane + p] * mask[p] } }
                }
                scores += try rerun.scores(batch, x.targets[i])
                x.progress?(i * c + start + count, n * c)
            }
            let m = scores.max()!
            let e = scores.map { expf($0 - m) }, total = e.reduce(0, +)
            weights += e.map { $0 / total }
        }
        return weights
    }

    /// Ablation-CAM (Desai & Ramaswamy, 2020, eq. 3): w_k = (y^c − y^c_k) / y^c, where y^c_k is the class score with
    /// channel k of the layer set to zero (or, when the layer has negative values, to its minimum − 1e7, as
    /// pytorch-grad-cam does). Only the layers above the target run again.
    public static let ablationcam = CAMMethod.weighted("ablationcam", reference: "Desai & Ramaswamy, WACV 2020", gradients: [], reruns: true) { x in
        let a = x.activations, rerun = try x.rerun.unwrap("ablationcam")
        let (n, c, hw) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        var weights: [Float] = []
        for i in 0 ..< n {
            let own = Array(a.data[i * c * hw ..< (i + 1) * c * hw])                  // (C, h, w)
            let lo = own.min()!
            let ablated: Float = lo == 0 ? 0 : lo - 1e7
            let original = x.targets[i].score(rerun.output(image: i)).value
            for start in stride(from: 0, to: c, by: chunk) {
                let count = Swift.min(chunk, c - start)
                var batch = Tensor(shape: [count, c, a.shape[2], a.shape[3]], data: Array([[Float]](repeating: own, count: count).joined()))
                for b in 0 ..< count {
                    let base = (b * c + start + b) * hw
                    for p in 0 ..< hw { batch.data[base + p] = ablated }
                }
                weights += try rerun.scores(image: i, replacing: batch, x.targets[i]).map { (original - $0) / original }
                x.progress?(i * c + start + count, n * c)
            }
        }
        return weights
    }
}

extension Optional where Wrapped == CAMRerun {
    /// The rerun a method declared it needs (`CAMMethod.reruns`).
    func unwrap(_ method: String) throws -> CAMRerun {
        guard let r = self else { throw EngineError("\(method) reruns the network, but was given no CAMRerun") }
        return r
    }
}

#if canImport(Glibc)
import Glibc
#endif
