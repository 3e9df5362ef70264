import Engine
import TensorIO

extension Model {
    /// A model read from an ONNX file: its graph imported onto the engine's op set (see `ONNXImport`).
    /// - Parameters:
    ///   - path: the .onnx file (external data files next to it).
    ///   - preprocessing: the preset named in listings ("torchvision" unless the user says otherwise).
    ///   - options: the input size to use where the graph leaves it dynamic.
    /// - Returns: the model and the importer's notes for the user.
    public static func onnx(_ path: String, preprocessing: String = "torchvision",
                            options: ONNXImport.Options = ONNXImport.Options()) throws -> (model: Model, notes: [String]) {
        let imported = try ONNXImport.graph(try ONNXModel.load(path), source: path, options: options)
        let g = imported.graph
        let out = imported.outputShape
        let cam = imported.camLayer ?? g.nodes.last!.name
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let name = file.hasSuffix(".onnx") ? String(file.dropLast(5)) : file
        let arch = Architecture(name: name, layout: "onnx", preprocessing: preprocessing, inputSize: imported.inputShape[2],
                                camLayer: cam, embeddingLayer: cam, classifierKey: out.count == 2 ? "output" : nil,
                                defaultClasses: out.count == 2 ? out[1] : out.dropFirst().reduce(1, *), build: Architecture.imported)
        let model = Model(architecture: arch, graph: g, classes: arch.defaultClasses, source: path, inputShape: imported.inputShape)
        return (model, imported.notes)
    }
}
