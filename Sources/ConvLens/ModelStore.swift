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
    /// Why the model cannot classify (a features-only backbone, or a classifier that did not fit and was skipped);
    /// nil when it has a trained classifier.
    public let noClassifier: String?
    /// Keys of the weights file that were left out (a classifier that did not fit).
    public let skipped: [String]
    /// What did not fit, when keys were skipped: "wrong shapes: classifier.0.weight: file has …".
    public let skipNote: String?

    /// The label of class `i`, e.g. "tabby cat".
    public func label(_ i: Int) -> String { i < labels.count ? labels[i] : "class \(i)" }

    /// Whether the model's output is a trained classifier's logits.
    public var hasClassifier: Bool { noClassifier == nil }

    /// Refuses work that needs class scores on a model without a classifier.
    /// - Parameters:
    ///   - what: what needs it, e.g. "classify" or "gradcam --method gradcam".
    /// - Throws: a `UsageError` saying why there is no classifier and what works without one.
    public func requireClassifier(_ what: String) throws {
        guard let why = noClassifier else { return }
        throw UsageError("\(what) needs a classifier, but \(why); without one, activations, patterns, correlate "
            + "(pooled features) and gradcam --method eigencam work")
    }
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
        let (model, skipped, reason) = try Model.loadFeatures(name, weights: try stateDict(path), source: path)
        return try wrap(model, labels: labels, skipped: skipped, reason: reason)
    }

    /// Puts a model together with its preprocessing and labels.
    /// - Parameters:
    ///   - skipped: weight keys left out because the classifier did not fit (see `Model.loadFeatures`).
    ///   - reason: why they did not fit.
    public static func wrap(_ model: Model, labels: String? = nil, skipped: [String] = [], reason: String = "") throws -> LoadedModel {
        let pre = try Preprocessing.named(model.architecture.preprocessing)
        var why: String?
        if model.architecture.classifierKey == nil {
            why = "\(model.name) (\(model.architecture.layout) layout, \(model.source)) is features only: it has no classifier"
        } else if !skipped.isEmpty {
            why = "the classifier in \(model.source) does not fit \(model.name) and was not loaded"
        }
        return LoadedModel(model: model, preprocessing: pre, labels: try classNames(labels, count: model.classes),
                           noClassifier: why, skipped: skipped, skipNote: skipped.isEmpty ? nil : reason)
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
        // FileHandle, not FileManager.contents(atPath:), which leaks 4 KB on an empty file (swift-foundation 6.3).
        guard let handle = try? FileHandle(forReadingFrom: URL(fileURLWithPath: file)), let data = try? handle.readToEnd() ?? Data(),
              let text = String(data: data, encoding: .utf8) else {
            throw FileError(path: file, message: FileManager.default.fileExists(atPath: file) ? "labels file is not UTF-8 text" : "no such file")
        }
        var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        if lines.last == "" { lines.removeLast() }
        guard lines.count == count else {
            throw FileError(path: file, message: "labels file has \(lines.count) lines, but the model has \(count) classes; give one name per line")
        }
        return lines
    }
}

/// Runs a lookup by a name the user typed (a layer, method, colormap, model, format), turning its error into a usage
/// error (exit 2) whichever target threw it; a file's error stays one.
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as UsageError { throw e } catch let e as FileError { throw e } catch {
        throw UsageError("\(error)")
    }
}
