import Engine
import TensorIO

/// Finds a layer's variables in a Keras file, in the order Keras saves them (a layer's trainable variables, then
/// the others, each in creation order: kernel, bias; gamma, beta, moving_mean, moving_variance; ...).
///
/// - `.keras`: Keras 3's saving walk stores layer L of a model at `layers/<class in snake case>/vars/<i>`, the
///   class name made unique within its list in order (`conv2d`, `conv2d_1`, ...; the InputLayer counts in a
///   Functional model, not in a Sequential one), and a nested model's layers under its own path
///   (`layers/functional/layers/conv2d/vars/0`). `KerasImport.parseModel` computes the paths.
/// - legacy `.h5` and weights-only files: `model_weights/<layer>` (or `<layer>` at the root) lists its datasets in
///   the `weight_names` attribute, in order; for a nested model that group holds all its layers' variables, named
///   `…/<inner layer>/<variable>`.
struct KerasWeights {
    let file: KerasFile
    let source: String

    /// The variables of one layer, checked against the shapes its config implies (Keras's layout).
    /// - Parameters:
    ///   - layer: the layer.
    ///   - scope: the nested models around it, outermost first.
    ///   - savePath: its path in a `.keras` weights file, e.g. "layers/conv2d".
    ///   - expected: each variable's name and shape, in Keras's order.
    /// - Returns: one tensor per expected variable, shaped as expected.
    func tensors(for layer: KerasLayer, scope: [String], savePath: String, expected: [(String, [Int])],
                 source: String) throws -> [Tensor] {
        guard !expected.isEmpty else { return [] }
        let found: [(name: String, data: HDF5Dataset)]
        if file.format == .keras {
            let group = savePath + "/vars"
            guard let members = file.weights.groups[group] else {
                throw ModelError("\(source): the weights file has no '\(group)' for layer '\(layer.name)' (\(layer.className))")
            }
            if let stored = file.weights.attribute(group, "name")?.strings?.first, stored != layer.name {
                throw ModelError("\(source): the weights at '\(group)' belong to layer '\(stored)', not '\(layer.name)'; "
                    + "the weights file does not match the config")
            }
            found = try (0 ..< members.count).map { i in
                guard let d = file.weights.datasets["\(group)/\(i)"] else {
                    throw ModelError("\(source): the weights file has no '\(group)/\(i)' for layer '\(layer.name)'")
                }
                return ("\(group)/\(i)", d)
            }
        } else {
            let top = scope.first ?? layer.name
            let group = file.weightsRoot.isEmpty ? top : file.weightsRoot + "/" + top
            guard var names = file.stringList(at: group, "weight_names") else {
                throw ModelError("\(source): the weights file has no weights for layer '\(top)' (no '\(group)' with weight_names)")
            }
            if !scope.isEmpty {                                     // the nested model's variables of this layer
                names = names.filter { n in
                    let parts = n.split(separator: "/")
                    return parts.count >= 2 && parts[parts.count - 2] == layer.name
                }
            }
            found = try names.map { n in
                guard let d = file.weights.datasets[group + "/" + n] else {
                    throw ModelError("\(source): weight '\(n)' of layer '\(top)' is listed but not in the file")
                }
                return (n, d)
            }
        }
        guard found.count == expected.count else {
            throw ModelError("\(source): layer '\(layer.name)' (\(layer.className)) has \(found.count) weights in the file, but its config "
                + "makes \(expected.count) (\(expected.map(\.0).joined(separator: ", ")))")
        }
        return try zip(found, expected).map { f, e in
            let squeeze = { (s: [Int]) in s.filter { $0 != 1 } }
            guard squeeze(f.data.shape) == squeeze(e.1), f.data.floats.count == e.1.reduce(1, *) else {
                throw ModelError("\(source): layer '\(layer.name)': weight '\(e.0)' has shape \(f.data.shape) in the file, "
                    + "but the config makes it \(e.1)")
            }
            return Tensor(shape: e.1, data: f.data.floats)
        }
    }
}
