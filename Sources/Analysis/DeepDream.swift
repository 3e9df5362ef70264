import Engine
import Resampling
import Foundation

/// DeepDream (Mordvintsev, Olah & Tyka, 2015) as the Keras example does it (keras.io/examples/generative/deep_dream,
/// after Chollet's "Deep Learning with Python", §8.2): gradient ascent on a photo to amplify what some layers see in
/// it, at a few scales (octaves) from small to full size, with the detail lost by shrinking put back after each, and
/// the result clipped to valid pixels.
///
///     let dream = try DeepDream.run(graph, .layerNorm("fire8"), image: photo, toModel: [.toModel(space)])
///     dream     // (1, 3, H, W) RGB in [0, 1], the photo's size
public enum DeepDream {
    /// The Keras example's knobs. The image is RGB in [0, 1] here, where Keras steps InceptionV3's input in [−1, 1]:
    /// its step of 0.01 is 0.005 here.
    public struct Settings: Sendable, Equatable {
        /// Number of scales (Keras's num_octave).
        public var octaves = 3
        /// Size ratio between scales (octave_scale).
        public var octaveScale: Float = 1.4
        /// Ascent steps per scale (iterations).
        public var steps = 20
        /// The mean absolute change of a pixel per step, in [0, 1] units (Keras's step, halved).
        public var stepSize: Float = 0.005
        public init(octaves: Int = 3, octaveScale: Float = 1.4, steps: Int = 20, stepSize: Float = 0.005) {
            self.octaves = octaves
            self.octaveScale = octaveScale
            self.steps = steps
            self.stepSize = stepSize
        }
    }

    /// The octaves' sizes, smallest first: (H, W) / scaleⁱ for i = octaves − 1 … 0, truncated, as the example's
    /// `successive_shapes`; at least 1 pixel a side.
    public static func shapes(height: Int, width: Int, _ s: Settings) -> [(height: Int, width: Int)] {
        (0 ..< s.octaves).reversed().map { i in
            let k = pow(Double(s.octaveScale), Double(i))
            return (max(1, Int(Double(height) / k)), max(1, Int(Double(width) / k)))
        }
    }

    /// One ascent step, the example's `gradient_ascent_step`: g = ∇ objective, then x += step · g / max(mean|g|, 1e-6).
    /// - Parameters:
    ///   - image: (1, 3, H, W), changed in place.
    ///   - toModel: image → network input.
    /// - Returns: the objective's value before the step.
    @discardableResult
    public static func step(_ graph: Graph, _ objective: Objective, image: inout Tensor, toModel: [ImageOp], stepSize: Float) throws -> Float {
        let (scores, g) = try objective.evaluate(graph, image: image, toModel: toModel)      // g: (1, 3, H, W)
        let meanAbs = g.data.reduce(0.0) { $0 + Double(abs($1)) } / Double(max(g.count, 1))
        let k = stepSize / Float(max(meanAbs, 1e-6))
        for j in 0 ..< image.count { image.data[j] += k * g.data[j] }
        return zip(objective.terms, scores).reduce(0) { $0 + $1.0.weight * $1.1.reduce(0, +) }
    }

    /// The whole dream: for each octave, resize the image to it, climb `steps` steps, and add back the detail that
    /// the smaller octave lost (the photo at this size minus the photo shrunk to the previous size and enlarged).
    /// - Parameters:
    ///   - image: (1, 3, H, W) RGB in [0, 1].
    ///   - progress: called after every step with (steps done, steps in all).
    /// - Returns: (1, 3, H, W), clipped to [0, 1].
    public static func run(_ graph: Graph, _ objective: Objective, image: Tensor, toModel: [ImageOp], settings s: Settings = Settings(),
                           progress: ((Int, Int) -> Void)? = nil) throws -> Tensor {
        let sizes = shapes(height: image.shape[2], width: image.shape[3], s)
        var shrunk = resize(image, sizes[0])                              // (1, 3, h₀, w₀)
        var x = image                                                     // (1, 3, h, w) the dream at the current octave
        var done = 0
        for size in sizes {
            x = resize(x, size)
            for _ in 0 ..< s.steps {
                try step(graph, objective, image: &x, toModel: toModel, stepSize: s.stepSize)
                done += 1
                progress?(done, sizes.count * s.steps)
            }
            let upscaled = resize(shrunk, size), same = resize(image, size)
            for j in 0 ..< x.count { x.data[j] += same.data[j] - upscaled.data[j] }
            shrunk = same
        }
        for j in 0 ..< x.count { x.data[j] = min(max(x.data[j], 0), 1) }
        return x
    }

    /// Bilinear resizing of every plane with half-pixel centres (`tf.image.resize`, torch's `interpolate(...,
    /// align_corners=False)`), (N, C, h, w) → (N, C, height, width).
    public static func resize(_ x: Tensor, _ size: (height: Int, width: Int)) -> Tensor {
        let (h, w) = (x.shape[2], x.shape[3])
        if (h, w) == size { return x }
        let planes = x.count / (h * w)
        var data: [Float] = []
        data.reserveCapacity(planes * size.height * size.width)
        for p in 0 ..< planes {
            data += Resample.bilinear(Array(x.data[p * h * w ..< (p + 1) * h * w]), h: h, w: w, outH: size.height, outW: size.width)
        }
        return Tensor(shape: [x.shape[0], x.shape[1], size.height, size.width], data: data)
    }
}
