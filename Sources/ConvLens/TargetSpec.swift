import Analysis
import Engine
import Imaging
import Support

/// A `--target` as the user writes it: a `CAMTarget`, or a class over a mask in a PNG file, read when the job runs.
/// Text forms: `class:281` (a logit), `prob:281`, `classes:1,2` (logits summed), `sigmoid:3`, `output:3` (a raw
/// output element) and `mask:15@mask.png` (class 15's scores summed where the mask's pixels are not black).
public enum TargetSpec: Equatable, Sendable {
    case value(CAMTarget)
    case mask(class: Int, file: String)

    /// Parses the text form.
    /// - Throws: a `UsageError` naming the text and the forms that exist.
    public init(parsing text: String) throws {
        let forms = "class:C, prob:C, classes:C1,C2, sigmoid:I, output:I or mask:C@FILE"
        guard let colon = text.firstIndex(of: ":") else { throw UsageError("target '\(text)' has no kind; give \(forms)") }
        let kind = String(text[..<colon]), rest = String(text[text.index(after: colon)...])
        func index(_ s: Substring) throws -> Int {
            guard let i = Int(s), i >= 0 else { throw UsageError("target '\(text)': '\(s)' is not an index (0, 1, 2, ...)") }
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
                throw UsageError("target '\(text)' needs a mask file: mask:C@FILE, e.g. mask:15@mask.png")
            }
            self = .mask(class: try index(rest[..<at]), file: String(rest[rest.index(after: at)...]))
        default:
            throw UsageError(unknownNameMessage("target kind", kind, known: ["class", "prob", "classes", "sigmoid", "output", "mask"],
                                                plural: "kinds") + "; give \(forms)")
        }
    }

    /// The target, with a mask file read: 1 where a pixel is not black, 0 elsewhere.
    /// - Throws: a `FileError` for a mask that cannot be read.
    public func resolve() throws -> CAMTarget {
        switch self {
        case let .value(t): return t
        case let .mask(c, file):
            let image = try ImageIO.read(file)
            let values = (0 ..< image.width * image.height).map { p -> Float in       // (H, W)
                image.pixels[3 * p] != 0 || image.pixels[3 * p + 1] != 0 || image.pixels[3 * p + 2] != 0 ? 1 : 0
            }
            return .mask(class: c, CAMTarget.Mask(height: image.height, width: image.width, values: values))
        }
    }
}

/// A grid of H×W, written "HxW": the `--reshape` of token layouts.
public struct Grid: Equatable, Sendable {
    public let height: Int, width: Int
    public init(height: Int, width: Int) { self.height = height; self.width = width }

    /// Parses "14x14".
    /// - Throws: a `UsageError` for anything but two positive sizes up to 4096.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), (1 ... 4096).contains(h), (1 ... 4096).contains(w) else {
            throw UsageError("grid '\(text)' is not HxW with sizes 1...4096, e.g. 14x14")
        }
        self.init(height: h, width: w)
    }
}
