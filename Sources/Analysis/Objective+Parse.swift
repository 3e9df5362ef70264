import Engine
import Foundation

/// An objective as a user writes it (`--objective "fire8:12 + 0.5*fire8:40 - 1e-3*tv"`), read and checked for syntax
/// before any model is loaded; `resolve` then checks its layers and channels against a network and makes the
/// `Objective`. The grammar, which `help` prints:
///
///     objective = ["-"] term { ("+" | "-") term }
///     term      = [NUMBER ("*" | "·")] atom
///     atom      = LAYER ":" C                  the mean of channel C (lucent's channel)
///               | neuron(LAYER, C[, Y, X])     channel C at (Y, X) of the layer's map, the centre by default
///               | direction(LAYER, C=W, ...)   cosine with a direction, given as channel=weight pairs
///               | diversity(LAYER)             how different the batch's Gram matrices are (lucid's)
///               | l2(LAYER)                    the layer's mean squared activation (DeepDream)
///               | tv | l2                      total variation, squared distance from grey, of the image
///               | "(" objective ")"
///
/// LAYER is a layer's name (letters, digits, `_`, `.`, `/`; quote others, 'like-this'); with a default layer (the
/// command's `--layer`) it may be left out: `:12`, `neuron(12)`, `diversity`. The same objective in JSON is a list
/// of terms, `[{"type": "channel", "layer": "fire8", "channel": 12}, {"type": "tv", "weight": -0.001}]`.
public struct ObjectiveSpec: Equatable {
    /// One quantity; a nil layer stands for the default layer.
    public enum Atom: Equatable {
        case channel(layer: String?, channel: Int)
        case neuron(layer: String?, channel: Int, y: Int?, x: Int?)
        /// Sparse: channel → weight; the rest are 0.
        case direction(layer: String?, weights: [Int: Float])
        case diversity(layer: String?)
        case layerNorm(layer: String?)
        case totalVariation
        case l2
    }

    public var terms: [(weight: Float, atom: Atom)]

    public static func == (a: ObjectiveSpec, b: ObjectiveSpec) -> Bool {
        a.terms.count == b.terms.count && zip(a.terms, b.terms).allSatisfy { $0.weight == $1.weight && $0.atom == $1.atom }
    }

    /// Whether a term compares the items of a batch (diversity), so the batch needs two or more.
    public var comparesItems: Bool {
        terms.contains { if case .diversity = $0.atom { return true } else { return false } }
    }

    /// The grammar, for `--help`.
    public static let help = """
        An objective is a sum of weighted terms, e.g. "fire8:12 + 0.5*fire8:40 - 1e-3*tv":
          LAYER:C                    the mean of channel C of the layer
          neuron(LAYER, C[, Y, X])   channel C at (Y, X) of the layer's map (default: its centre)
          direction(LAYER, C=W, ...) the cosine between the activations and a direction (channel=weight pairs)
          diversity(LAYER)           how different the batch's Gram matrices are (use with --batch 2 or more)
          l2(LAYER)                  the layer's mean squared activation (DeepDream's loss)
          tv, l2                     the image's total variation, and its squared distance from grey
        Weights go in front with * ("0.5*fire8:40"); terms join with + and -; parentheses group. LAYER may be left
        out when --layer names one (":12", "diversity"); quote unusual names ('a-b':3). The same in JSON: a list of
        {"type": "channel"|"neuron"|"direction"|"diversity"|"l2"|"tv", "layer", "channel", "y", "x",
        "vector" (C numbers, or {"C": W}), "weight"}.
        """

    /// Reads an objective written in the grammar above, or in its JSON form (text starting with "[" or "{").
    /// - Throws: an `ObjectiveError` saying where the text stops making sense.
    public static func parse(_ text: String) throws -> ObjectiveSpec {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("[") || trimmed.hasPrefix("{") { return try parseJSON(text) }
        var p = ObjectiveParser(text)
        let spec = try p.objective()
        p.skipSpaces()
        guard p.atEnd else { throw p.error("expected + or - between terms") }
        return spec
    }

    /// Makes the objective, checking every layer, channel and position against the network.
    /// - Parameters:
    ///   - graph: the network.
    ///   - defaultLayer: the layer of terms written without one.
    ///   - input: the network's input shape (N, 3, H, W) while optimising, for the layers' shapes.
    ///   - linearThrough: the ReLUs to pass through for channel, neuron and direction terms at a layer (the clear
    ///     recipe's pre-activation objective).
    /// - Throws: for an unknown layer (with the closest names), a channel or position out of range, a layer
    ///   without channels.
    public func resolve(_ graph: Graph, defaultLayer: String?, input: [Int],
                        linearThrough: (String) throws -> Set<String> = { _ in [] }) throws -> Objective {
        var out: Objective?
        for (weight, atom) in terms {
            let o = try Self.resolve(atom, graph, defaultLayer: defaultLayer, input: input, linearThrough: linearThrough)
            let w = weight * o.terms[0].weight
            var t = o
            t.terms[0].weight = w
            out = out.map { $0 + t } ?? t
        }
        return out ?? Objective(terms: [])
    }

    static func resolve(_ atom: Atom, _ graph: Graph, defaultLayer: String?, input: [Int],
                        linearThrough: (String) throws -> Set<String>) throws -> Objective {
        func layer(_ name: String?, _ what: String) throws -> (name: String, shape: [Int]) {
            guard let name = name ?? defaultLayer else {
                throw ObjectiveError("the \(what) term names no layer; write it with one (fire8:12) or give --layer")
            }
            let i = try graph.index(of: name)
            let shape = i == Graph.inputIndex ? input : try graph.shapes(input: input, through: i)[i]
            return (name, shape)
        }
        func maps(_ name: String?, _ what: String) throws -> (name: String, shape: [Int]) {
            let l = try layer(name, what)
            guard l.shape.count == 4 else {
                throw ObjectiveError("layer '\(l.name)' has output shape \(l.shape), not (N, C, H, W): a \(what) term needs channels")
            }
            return l
        }
        func check(_ c: Int, _ l: (name: String, shape: [Int])) throws {
            guard c >= 0 && c < l.shape[1] else {
                throw ObjectiveError("channel \(c) is out of range: '\(l.name)' has \(l.shape[1]) channels (0…\(l.shape[1] - 1))")
            }
        }
        switch atom {
        case let .channel(name, c):
            let l = try maps(name, "channel")
            try check(c, l)
            return .channel(l.name, c, linearThrough: try linearThrough(l.name))
        case let .neuron(name, c, y, x):
            let l = try maps(name, "neuron")
            try check(c, l)
            if let y, let x {
                guard y >= 0 && y < l.shape[2] && x >= 0 && x < l.shape[3] else {
                    throw ObjectiveError("neuron position (\(y), \(x)) is outside the \(l.shape[2])x\(l.shape[3]) map of '\(l.name)'")
                }
            }
            return .neuron(l.name, c, at: y.flatMap { y in x.map { (y, $0) } }, linearThrough: try linearThrough(l.name))
        case let .direction(name, weights):
            let l = try maps(name, "direction")
            for c in weights.keys.sorted() { try check(c, l) }
            guard weights.values.contains(where: { $0 != 0 }) else { throw ObjectiveError("the direction in '\(l.name)' is all zeros") }
            var v = [Float](repeating: 0, count: l.shape[1])
            for (c, w) in weights { v[c] = w }
            return .direction(l.name, v, linearThrough: try linearThrough(l.name))
        case let .diversity(name):
            return .diversity(try maps(name, "diversity").name)
        case let .layerNorm(name):
            return .layerNorm(try layer(name, "l2").name)
        case .totalVariation:
            return .totalVariation
        case .l2:
            return .l2()
        }
    }
}

/// A problem with an objective, in words a user can act on.
public struct ObjectiveError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A recursive-descent reader of the objective grammar (`ObjectiveSpec`).
struct ObjectiveParser {
    let text: String
    let chars: [Character]
    var i = 0

    init(_ text: String) {
        self.text = text
        chars = Array(text)
    }

    var atEnd: Bool { i >= chars.count }
    var peek: Character? { atEnd ? nil : chars[i] }

    mutating func skipSpaces() { while let c = peek, c.isWhitespace { i += 1 } }

    /// "at character 12 ('* 3')": where reading stopped, counted from 1.
    func error(_ what: String) -> ObjectiveError {
        let rest = String(chars[min(i, chars.count)...].prefix(12))
        let found = rest.isEmpty ? "the end" : "'\(rest)'"
        return ObjectiveError("cannot read the objective '\(text)': \(what) at character \(i + 1), found \(found)")
    }

    mutating func accept(_ c: Character...) -> Bool {
        skipSpaces()
        if let p = peek, c.contains(p) { i += 1; return true }
        return false
    }

    mutating func expect(_ c: Character, _ what: String) throws {
        guard accept(c) else { throw error("expected \(what)") }
    }

    mutating func objective() throws -> ObjectiveSpec {
        var terms: [(Float, ObjectiveSpec.Atom)] = []
        var sign: Float = accept("-", "−") ? -1 : (accept("+") ? 1 : 1)
        while true {
            terms += try term().map { ($0.0 * sign, $0.1) }
            if accept("+") { sign = 1 } else if accept("-", "−") { sign = -1 } else { break }
        }
        return ObjectiveSpec(terms: terms)
    }

    /// A weighted atom; a parenthesised objective gives its terms, each weighted.
    mutating func term() throws -> [(Float, ObjectiveSpec.Atom)] {
        skipSpaces()
        var weight: Float = 1
        let start = i
        if let w = number(), accept("*", "·") { weight = w } else { i = start }
        if accept("(") {
            let inner = try objective()
            try expect(")", "')' to close the '('")
            return inner.terms.map { ($0.weight * weight, $0.atom) }
        }
        return [(weight, try atom())]
    }

    mutating func atom() throws -> ObjectiveSpec.Atom {
        skipSpaces()
        let start = i
        if accept(":") { return .channel(layer: nil, channel: try integer("a channel number after ':'")) }
        guard let word = try name() else {
            throw error("expected a term (LAYER:C, neuron(...), direction(...), diversity(...), l2(...), tv or l2)")
        }
        if accept(":") { return .channel(layer: word, channel: try integer("a channel number after '\(word):'")) }
        let call = accept("(")
        switch word.lowercased() {
        case "tv" where !call: return .totalVariation
        case "l2" where !call: return .l2
        case "diversity" where !call: return .diversity(layer: nil)
        case "neuron" where call:
            let (layer, c) = try layerAndChannel()
            var y: Int?, x: Int?
            if accept(",") { y = try integer("a row Y"); try expect(",", "',' and a column X"); x = try integer("a column X") }
            try expect(")", "')' to close neuron(")
            return .neuron(layer: layer, channel: c, y: y, x: x)
        case "direction" where call:
            var layer: String?
            let mark = i
            if let n = try name(), accept(",") { layer = n } else { i = mark }
            var weights: [Int: Float] = [:]
            repeat {
                let c = try integer("a channel number")
                try expect("=", "'=' and the channel's weight (direction(LAYER, 12=1, 40=-0.5))")
                skipSpaces()
                let negative = accept("-", "−")
                guard let w = number() else { throw error("expected a weight") }
                weights[c] = negative ? -w : w
            } while accept(",")
            try expect(")", "')' to close direction(")
            return .direction(layer: layer, weights: weights)
        case "diversity" where call, "l2" where call:
            let layer = accept(")") ? nil : try name()
            if layer != nil { try expect(")", "')' to close \(word)(") }
            return word.lowercased() == "l2" ? .layerNorm(layer: layer) : .diversity(layer: layer)
        default:
            i = start
            throw error(call ? "expected neuron(, direction(, diversity( or l2(" : "expected ':' and a channel after the layer name")
        }
    }

    /// "fire8, 12" or "12" inside neuron(...).
    mutating func layerAndChannel() throws -> (String?, Int) {
        skipSpaces()
        if let p = peek, p.isNumber { return (nil, try integer("a channel number")) }
        guard let layer = try name() else { throw error("expected a layer name or a channel number") }
        try expect(",", "',' and a channel number")
        return (layer, try integer("a channel number"))
    }

    /// A layer name: a run of letters, digits, _ . / (not starting with a digit), or any text in quotes.
    mutating func name() throws -> String? {
        skipSpaces()
        guard let c = peek else { return nil }
        if c == "'" || c == "\"" {
            let open = i
            i += 1
            guard let close = chars[i...].firstIndex(of: c) else { i = open; throw error("expected a closing \(c)") }
            defer { i = close + 1 }
            return String(chars[i ..< close])
        }
        guard c.isLetter || c == "_" || c == "/" || c == "." else { return nil }
        let start = i
        while let c = peek, c.isLetter || c.isNumber || "_./".contains(c) { i += 1 }
        return String(chars[start ..< i])
    }

    mutating func integer(_ what: String) throws -> Int {
        skipSpaces()
        let start = i
        while let c = peek, c.isASCII, c.isNumber { i += 1 }
        guard i > start, let v = Int(String(chars[start ..< i])), v <= 1 << 24 else { i = start; throw error("expected \(what)") }
        return v
    }

    /// An unsigned decimal number such as 0.5, 1e-3 or 12; nil (without moving) when there is none.
    mutating func number() -> Float? {
        skipSpaces()
        let start = i
        while let c = peek, c.isASCII, c.isNumber || c == "." { i += 1 }
        if i > start, let e = peek, e == "e" || e == "E" {
            let mark = i
            i += 1
            if let s = peek, s == "-" || s == "+" { i += 1 }
            let digits = i
            while let c = peek, c.isASCII, c.isNumber { i += 1 }
            if i == digits { i = mark }
        }
        guard i > start, let v = Float(String(chars[start ..< i])), v.isFinite else { i = start; return nil }
        return v
    }
}
