import Engine

/// A target as the user writes it (`--target`): a `CAMTarget`, or a class over a mask in an image file, which the
/// jobs read (Analysis reads no files).
/// Text forms: `class:281` (a logit), `prob:281`, `classes:1,2` (logits summed), `sigmoid:3`, `output:3` (a raw
/// output element) and `mask:15@mask.png` (class 15's scores summed where the mask's pixels are not black).
public enum CAMTargetSpec: Equatable, Sendable {
    case value(CAMTarget)
    case mask(class: Int, file: String)

    /// Parses the text form.
    /// - Throws: an error naming the text and the forms that exist.
    public init(parsing text: String) throws {
        let forms = "class:C, prob:C, classes:C1,C2, sigmoid:I, output:I or mask:C@FILE"
        guard let colon = text.firstIndex(of: ":") else { throw EngineError("target '\(text)' has no kind; give \(forms)") }
        let kind = String(text[..<colon]), rest = String(text[text.index(after: colon)...])
        func index(_ s: Substring) throws -> Int {
            guard let i = Int(s), i >= 0 else { throw EngineError("target '\(text)': '\(s)' is not an index (0, 1, 2, ...)") }
            return i
        }
        switch kind {
        case "class": self = .value(.logit(try index(rest[...])))
        case "prob": self = .value(.probability(try index(rest[...])))
        case "classes":
            let parts = rest.split(separator: ",", omittingEmptySubsequences: false)
            self = .value(.logits(try parts.map(index)))
        case "sigmoid": self = .value(.sigmoid(try index(rest[...])))
        case "output": self = .value(.output(try index(rest[...])))
        case "mask":
            guard let at = rest.firstIndex(of: "@"), rest.index(after: at) < rest.endIndex else {
                throw EngineError("target '\(text)' needs a mask file: mask:C@FILE, e.g. mask:15@mask.png")
            }
            self = .mask(class: try index(rest[..<at]), file: String(rest[rest.index(after: at)...]))
        default:
            throw EngineError(unknownNameMessage("target kind", kind, known: ["class", "prob", "classes", "sigmoid", "output", "mask"],
                                                plural: "kinds") + "; give \(forms)")
        }
    }
}

/// A grid of H×W, written "HxW": how a token layout (N, T, C) is read as maps (`--reshape`).
public struct CAMGrid: Equatable, Sendable {
    public let height: Int, width: Int
    public init(height: Int, width: Int) { self.height = height; self.width = width }

    /// Parses "14x14".
    /// - Throws: an error for anything but two positive sizes up to 4096.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), (1 ... 4096).contains(h), (1 ... 4096).contains(w) else {
            throw EngineError("grid '\(text)' is not HxW with sizes 1...4096, e.g. 14x14")
        }
        self.init(height: h, width: w)
    }
}
