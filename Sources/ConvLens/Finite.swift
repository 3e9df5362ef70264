import Engine
import Foundation
import Support

/// Results that hold NaN or infinity are errors, never printed or written: the error names the layer where the
/// non-finite values first appear.
enum Finite {
    /// Throws unless every value of `result` is finite. To name the layer, it runs the model's unfused graph
    /// forward on the first image whose row is bad, keeping every output, and scans them in order.
    /// - Parameters:
    ///   - result: (rows, …) values, one row per image.
    ///   - what: the result's name, e.g. "class probabilities".
    ///   - lm: the model.
    ///   - input: (rows, 3, S, S), the images the result came from.
    ///   - paths: the images' files, one per row.
    static func check(_ result: [Float], _ what: String, lm: LoadedModel, input: Tensor, paths: [String]) throws {
        guard let bad = result.firstIndex(where: { !$0.isFinite }) else { return }
        let row = min(bad / max(result.count / max(paths.count, 1), 1), paths.count - 1)
        throw error(what, lm: lm, input: input, row: row, path: paths[row])
    }

    /// The error for a non-finite result of image `row` of `input`, naming the first layer whose output is not
    /// finite (or saying that every output is, when a gradient or a later step overflowed).
    static func error(_ what: String, lm: LoadedModel, input: Tensor, row: Int, path: String) -> Error {
        let image = URL(fileURLWithPath: path).lastPathComponent
        let acts: Activations
        do { acts = try lm.model.graph.forward(input.item(row)) } catch { return error }
        guard let layer = acts.firstNonFinite else {
            return FileError(path: lm.model.source, message: "the \(what) of \(image) hold NaN or infinite values, though "
                + "every layer's output is finite: a gradient or a later step overflowed; nothing was written")
        }
        let kind = (try? acts.output(layer))?.data.contains(where: \.isNaN) == true ? "NaN" : "infinite values"
        return FileError(path: lm.model.source, message: "the \(what) of \(image) hold NaN or infinite values: \(kind) first "
            + "appear in the output of layer '\(layer)' (the weights overflow Float32 there); nothing was written")
    }
}
