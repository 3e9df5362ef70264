import Engine
import TensorIO

extension Model {
    /// A model read from a Keras file: a Keras 3 `.keras` or a legacy `.h5` whole model, its layers lowered onto the
    /// engine's op set under their Keras names (see `KerasImport`).
    /// - Parameters:
    ///   - path: the `.keras` or `.h5` file.
    ///   - preprocessing: the ConvLens preset named in listings ("caffe", "torchvision", "tf", "raw"); nil takes the
    ///     one nearest to the `preprocess_input` mode of a keras.applications model recognised by its name
    ///     (`KerasImport.preset`), else "raw" (pixels / 255).
    ///   - options: the input size to use where the model leaves it open.
    /// - Returns: the model and the importer's notes for the user.
    public static func keras(_ path: String, preprocessing: String? = nil,
                             options: KerasImport.Options = KerasImport.Options()) throws -> (model: Model, notes: [String]) {
        let imported = try KerasImport.graph(try KerasFile.load(path), source: path, options: options)
        return wrap(imported, source: path, preprocessing: preprocessing)
    }

    /// A keras.applications model (`vgg16`, `vgg19`, `resnet50`, `mobilenet_v2`) built from its table, with the
    /// weights of a weights-only `.h5` as keras.applications ships them (with or without the top, found from the file).
    /// - Parameters:
    ///   - name: the application.
    ///   - weights: the `.h5` weights file.
    ///   - preprocessing: as for `keras(_:preprocessing:options:)`; nil takes the application's own mode.
    public static func kerasApplication(_ name: String, weights: String, preprocessing: String? = nil,
                                        options: KerasImport.Options = KerasImport.Options()) throws -> (model: Model, notes: [String]) {
        let file = try KerasFile.load(weights)
        let spec = try KerasApplications.spec(name, for: file, source: weights, options: options)
        let imported = try KerasImport.build(spec, weights: KerasWeights(file: file, source: weights), source: weights, options: options)
        return wrap(imported, source: weights, preprocessing: preprocessing)
    }

    /// The imported graph as a Model.
    static func wrap(_ imported: KerasImport.Imported, source: String, preprocessing: String?) -> (model: Model, notes: [String]) {
        let g = imported.graph, out = imported.outputShape
        let cam = imported.camLayer ?? g.nodes.last!.name
        var notes = imported.notes
        let mode = KerasImport.applicationPreprocessing(imported.name)
        if preprocessing == nil {
            notes.append(mode.map { "'\(imported.name)' is a keras.applications model; using its preprocess_input mode '\($0)'" }
                ?? "'\(imported.name)' is not a keras.applications model; its input is taken as pixels / 255 (give --preprocess to change it)")
        }
        let arch = Architecture(name: imported.name, layout: "keras", preprocessing: preprocessing ?? KerasImport.preset(mode ?? "raw"),
                                inputSize: imported.inputShape[2], camLayer: cam, embeddingLayer: cam,
                                classifierKey: out.count == 2 ? "output" : nil,
                                defaultClasses: out.count == 2 ? out[1] : out.dropFirst().reduce(1, *), build: Architecture.imported)
        let model = Model(architecture: arch, graph: g, classes: arch.defaultClasses, source: source, inputShape: imported.inputShape)
        return (model, notes)
    }
}
