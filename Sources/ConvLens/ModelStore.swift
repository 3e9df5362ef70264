import Engine
import Foundation
import Imaging
import Models
import Support
import TensorIO

/// A model with what it needs around it: its input recipe and its class names.
public struct LoadedModel {
    public let model: Model
    public let preprocessing: Preprocessing
    /// One name per class (or feature, for a backbone).
    public let labels: [String]

    /// The label of class `i`, e.g. "tabby cat".
    public func label(_ i: Int) -> String { i < labels.count ? labels[i] : "class \(i)" }
}

/// Finds, reads and checks weights, labels and preprocessing for a model name.
public enum ModelStore {
    /// The model used when none is named.
    public static let defaultModel = "squeezenet1_1"

    /// Where setup installs a model's weights, if it is one of the installed ones.
    public static func installedWeights(_ name: String) -> String? {
        let dir = Environment.weightsDirectory
        for file in ["\(name).safetensors", name == "mobilenet_v2" ? "mobilenet_v2_features.safetensors" : ""] where !file.isEmpty {
            let path = dir + "/" + file
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// Loads a model.
    /// - Parameters:
    ///   - name: a zoo name; default squeezenet1_1.
    ///   - weights: a weights file in any supported format; default the installed weights for `name`.
    ///   - labels: a class-name file, one per line; default Weights/imagenet_classes.txt for 1000 classes.
    public static func load(name: String? = nil, weights: String? = nil, labels: String? = nil) throws -> LoadedModel {
        let name = name ?? defaultModel
        _ = try usage { try Zoo.layouts(name) }
        guard let path = weights ?? installedWeights(name) else {
            throw FileError(path: name, message: "no weights for '\(name)' are installed; pass --weights FILE "
                + "(a torchvision .pth or a .safetensors file). HINT: run `bash Scripts/setup.sh` to install SqueezeNet and MobileNetV2")
        }
        let model = try Model.load(name, weights: try stateDict(path), source: path)
        return try wrap(model, labels: labels)
    }

    /// Puts a model together with its preprocessing and labels.
    public static func wrap(_ model: Model, labels: String? = nil) throws -> LoadedModel {
        let pre = try Preprocessing.named(model.architecture.preprocessing)
        return LoadedModel(model: model, preprocessing: pre, labels: try classNames(labels, count: model.classes))
    }

    /// Reads a weights file into Engine tensors.
    public static func stateDict(_ path: String) throws -> [String: Tensor] {
        let dict = try WeightFile.load(path)
        var out: [String: Tensor] = [:]
        for (k, t) in dict.tensors { out[k] = Tensor(shape: t.shape, data: t.values) }
        return out
    }

    /// Class names: the given file (which must have one line per class), or the ImageNet names for 1000 classes,
    /// or "class i".
    public static func classNames(_ path: String?, count: Int) throws -> [String] {
        let file = path ?? (count == 1000 ? Environment.weightsDirectory + "/imagenet_classes.txt" : nil)
        guard let file, FileManager.default.fileExists(atPath: file) || path != nil else {
            return (0 ..< count).map { "class \($0)" }
        }
        return try Labels.read(file, count: count)
    }
}

/// Runs `body`, turning an engine or zoo error (an unknown name) into a usage error.
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as EngineError { throw UsageError(e.message) } catch let e as ModelError { throw UsageError(e.message) }
}
