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
    /// What an importer wants the user to know (a dynamic input size fixed, an output left out).
    public var notes: [String] = []

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

/// What the user asked of the input recipe: a preset, and mean and std overrides in pixel-scaled units (after the
/// preset's scale, in RGB order), as `--preprocess`, `--mean` and `--std` give them.
public struct PreprocessChoice: Sendable {
    public var preset: String?
    public var mean: [Float]?
    public var std: [Float]?
    public init(preset: String? = nil, mean: [Float]? = nil, std: [Float]? = nil) {
        self.preset = preset
        self.mean = mean
        self.std = std
    }
}

/// Finds, reads and checks weights, labels and preprocessing for a model name.
public enum ModelStore {
    /// The model used when none is named: EfficientNet-Lite0 (75% top-1 on ImageNet, where SqueezeNet 1.1, the
    /// default before it, has 58%).
    public static let defaultModel = "efficientnet_lite0"

    /// Where setup installs a model's weights, if it is one of the installed ones.
    public static func installedWeights(_ name: String) -> String? {
        let dir = Environment.weightsDirectory
        for file in ["\(name).safetensors", name == "mobilenet_v2" ? "mobilenet_v2_features.safetensors" : ""] where !file.isEmpty {
            let path = dir + "/" + file
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// Whether a `--model` value names a model file (an ONNX export, a Keras model) rather than an architecture of
    /// the zoo.
    public static func isModelFile(_ name: String) -> Bool {
        name.lowercased().hasSuffix(".onnx") || isKerasFile(name)
    }

    /// Whether a file is a Keras model or weights file (`.keras`, `.h5`, `.hdf5`), by its extension.
    public static func isKerasFile(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.hasSuffix(".keras") || n.hasSuffix(".h5") || n.hasSuffix(".hdf5")
    }

    /// Loads a model.
    /// - Parameters:
    ///   - name: a zoo name (default efficientnet_lite0), or a model file (`isModelFile`).
    ///   - weights: a weights file in any supported format; default the installed weights for `name`.
    ///   - labels: a class-name file, one per line; default Weights/imagenet_classes.txt for 1000 classes.
    ///   - preprocess: the input recipe asked for, if not the model's own.
    public static func load(name: String? = nil, weights: String? = nil, labels: String? = nil,
                            preprocess: PreprocessChoice = PreprocessChoice()) throws -> LoadedModel {
        let name = name ?? defaultModel
        if isKerasFile(name) || (weights.map(isKerasFile) ?? false) && KerasImport.applications.contains(name.lowercased()) {
            return try loadKeras(name: name, weights: weights, labels: labels, preprocess: preprocess)
        }
        if isModelFile(name) {
            guard weights == nil else { throw UsageError("--weights: \(name) holds its own weights; give only --model") }
            let preset = try usage { try Preprocessing.named(preprocess.preset ?? "torchvision") }
            var options = ONNXImport.Options()
            options.defaultInputSize = (preset.cropSize, preset.cropWidth)
            let (model, notes) = try Model.onnx(name, preprocessing: preset.name, options: options)
            var lm = try wrap(model, labels: labels, preprocess: preprocess)
            lm.notes = notes
            return lm
        }
        _ = try usage { try Zoo.layouts(name) }
        guard let path = weights ?? installedWeights(name) else {
            throw FileError(path: name, message: "no weights for '\(name)' are installed; pass --weights FILE "
                + "(a torchvision .pth or a .safetensors file). HINT: run `bash Scripts/setup.sh` to install EfficientNet-Lite0, SqueezeNet and MobileNetV2")
        }
        let (model, skipped, reason) = try Model.loadFeatures(name, weights: try stateDict(path), source: path)
        return try wrap(model, labels: labels, skipped: skipped, reason: reason, preprocess: preprocess)
    }

    /// A Keras model file, or a keras.applications table with a weights-only `.h5`. Without `--preprocess`, a
    /// keras.applications model gets its own `preprocess_input` numbers (Keras's caffe mean pixel; EfficientNet's
    /// 0-255 input), any other Keras model pixels / 255; Keras's recipes squash the image (`load_img`) by default.
    static func loadKeras(name: String, weights: String?, labels: String?, preprocess: PreprocessChoice) throws -> LoadedModel {
        let preset = try usage { try Preprocessing.named(preprocess.preset ?? "raw") }
        var options = KerasImport.Options()
        options.defaultInputSize = (preset.cropSize, preset.cropWidth)
        let (model, notes): (Model, [String])
        if isKerasFile(name) {
            guard weights == nil else { throw UsageError("--weights: \(name) holds its own weights; give only --model") }
            (model, notes) = try Model.keras(name, preprocessing: preprocess.preset, options: options)
        } else {
            (model, notes) = try Model.kerasApplication(name, weights: weights!, preprocessing: preprocess.preset, options: options)
        }
        var choice = preprocess
        if choice.preset == nil, let mode = KerasImport.applicationPreprocessing(model.name), let m = KerasImport.preprocessModes[mode] {
            if mode == "caffe" || mode == "pixels" {
                choice.mean = choice.mean ?? (m.bgr ? m.mean.reversed() : m.mean)          // RGB, in the preset's units
                choice.std = choice.std ?? m.std.map { $0 * (mode == "pixels" ? 1 / 255 : 1) }
            }
        }
        var lm = try wrap(model, labels: labels, preprocess: choice)
        lm.notes = notes
        return lm
    }

    /// Puts a model together with its preprocessing and labels.
    /// - Parameters:
    ///   - skipped: weight keys left out because the classifier did not fit (see `Model.loadFeatures`).
    ///   - reason: why they did not fit.
    ///   - preprocess: a preset and overrides replacing the architecture's recipe; the crop is the model's input size.
    public static func wrap(_ model: Model, labels: String? = nil, skipped: [String] = [], reason: String = "",
                            preprocess: PreprocessChoice = PreprocessChoice()) throws -> LoadedModel {
        let pre = try recipe(model, preprocess)
        var why: String?
        if model.architecture.classifierKey == nil {
            why = "\(model.name) (\(model.architecture.layout) layout, \(model.source)) is features only: it has no classifier"
        } else if !skipped.isEmpty {
            why = "the classifier in \(model.source) does not fit \(model.name) and was not loaded"
        }
        return LoadedModel(model: model, preprocessing: pre, labels: try classNames(labels, count: model.classes),
                           noClassifier: why, skipped: skipped, skipNote: skipped.isEmpty ? nil : reason)
    }

    /// The input recipe of a model: its architecture's preset or the one asked for, with mean and std overrides,
    /// cropped to the model's input size.
    static func recipe(_ model: Model, _ choice: PreprocessChoice) throws -> Preprocessing {
        var p = try usage { try Preprocessing.named(choice.preset ?? model.architecture.preprocessing) }
        // Overrides are RGB, like the presets' documentation; the tensor holds them in its own channel order.
        if let m = choice.mean { p.mean = p.bgr ? m.reversed() : m }
        if let s = choice.std { p.std = p.bgr ? s.reversed() : s }
        if model.architecture.layout == "keras" { p.name = "keras-" + p.name }   // Keras's recipes squash (Preprocessing.defaultFit)
        let (h, w) = (model.inputShape[2], model.inputShape[3])
        return h == p.cropSize && w == p.cropWidth ? p : p.sized(height: h, width: w)
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

/// Runs a lookup by a name the user typed (a layer, method, colormap, model, format), turning its error into a usage
/// error (exit 2) whichever target threw it; a file's error stays one.
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as UsageError { throw e } catch let e as FileError { throw e } catch {
        throw UsageError("\(error)")
    }
}
