/// The architectures ConvLens knows, by name.
public enum Zoo {
    /// Every architecture and layout.
    public static let architectures: [Architecture] =
        SqueezeNet.architectures + ResNet.architectures + VGG.architectures + MobileNetV2.architectures + AlexNet.architectures
        + EfficientNet.architectures + MobileNetV3.architectures

    /// The distinct model names, in listing order.
    public static var names: [String] {
        var seen = Set<String>()
        return architectures.map(\.name).filter { seen.insert($0).inserted }
    }

    /// The layouts of a model name, the default layout first.
    /// - Throws: for an unknown name, listing the known ones.
    public static func layouts(_ name: String) throws -> [Architecture] {
        let found = architectures.filter { $0.name == name.lowercased() }
        guard !found.isEmpty else {
            throw ModelError("unknown model '\(name)'; models are: \(names.joined(separator: ", "))")
        }
        return found
    }
}
