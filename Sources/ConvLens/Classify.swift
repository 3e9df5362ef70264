import Engine
import Foundation
import Models

/// One class and its probability.
public struct Prediction: Codable, Equatable {
    public let index: Int
    public let label: String
    public let probability: Double
}

/// The top classes of one image.
public struct Classification: Codable {
    public let image: String
    public let top: [Prediction]
}

/// Image classification: softmax of the logits, top K per image.
public enum Classify {
    /// Images per forward pass: large enough to use the GEMMs well, small enough to bound memory.
    public static let batchSize = 8

    /// Classifies prepared images in batches.
    /// - Parameters:
    ///   - lm: the model, its labels and preprocessing.
    ///   - images: images prepared with the model's recipe.
    ///   - top: how many classes to report per image.
    /// - Throws: a `UsageError` for a model without a classifier; an error naming the layer where NaN or infinity
    ///   first appear when the probabilities are not finite.
    public static func run(_ lm: LoadedModel, images: [PreparedImage], top: Int) throws -> [Classification] {
        try lm.requireClassifier("classify")
        try OptionLimits.top.check(top, upper: lm.model.classes)
        var out: [Classification] = []
        for start in stride(from: 0, to: images.count, by: batchSize) {
            let chunk = Array(images[start ..< min(start + batchSize, images.count)])
            let x = ImageBatch.tensor(chunk)                                    // (n, 3, S, S)
            let (probs, best) = predictions(try lm.model.logits(x), top, lm)     // (n, K), (n)
            try Finite.check(probs.data, "class probabilities", lm: lm, input: x, paths: chunk.map(\.path))
            for (image, top) in zip(chunk, best) { out.append(Classification(image: image.path, top: top)) }
        }
        return out
    }

    /// The softmax of each image's logits and its `top` most probable classes.
    /// - Parameters:
    ///   - logits: (n, ...), one row of K scores per image.
    /// - Returns: the probabilities (n, K), and the best classes of each image.
    static func predictions(_ logits: Tensor, _ top: Int, _ lm: LoadedModel) -> (probabilities: Tensor, best: [[Prediction]]) {
        let n = logits.shape[0], k = logits.count / n
        let p = Softmax.rows(logits.reshaped([n, k]))                          // (n, K)
        return (p, (0 ..< n).map { i in best(p.data[i * k ..< (i + 1) * k], top, lm) })
    }

    /// The `top` most probable classes of one row of probabilities, ties to the lower index.
    static func best(_ probabilities: ArraySlice<Float>, _ top: Int, _ lm: LoadedModel) -> [Prediction] {
        let row = Array(probabilities)                                          // (K)
        return row.indices.sorted { row[$0] > row[$1] || row[$0] == row[$1] && $0 < $1 }.prefix(top)
            .map { Prediction(index: $0, label: lm.label($0), probability: Double(row[$0])) }
    }

    /// JSON text of classifications: [{"image": PATH, "top": [{"index": I, "label": S, "probability": P}, ...]}, ...].
    public static func json(_ results: [Classification]) throws -> String {
        try Outputs.json(results)
    }
}
