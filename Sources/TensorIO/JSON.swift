// A small JSON reader and string writer for safetensors headers. Objects keep their key order, so tensor names
// come out in file order; nesting is bounded so a hostile header cannot overflow the stack.

/// A parsed JSON value.
indirect enum JSON {
    case object([(key: String, value: JSON)])
    case array([JSON])
    case string(String)
    /// A number: `int` is set when it is an integer that fits in Int.
    case number(Double, int: Int?)
    case bool(Bool)
    case null

    /// Parses one JSON value that fills the whole input (trailing spaces allowed, as safetensors pads with them).
    /// - Parameters:
    ///   - bytes: UTF-8 text.
    ///   - maxDepth: deepest nesting of arrays and objects accepted.
    /// - Returns: the value, or a message saying where the text stops being JSON.
    static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) -> Result<JSON, JSONError> {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        do {
            let v = try parser.value(depth: 0)
            parser.skipSpace()
            guard parser.pos == bytes.endIndex else { throw parser.fail("unexpected text after the JSON value") }
            return .success(v)
        } catch let e as JSONError {
            return .failure(e)
        } catch {
            return .failure(JSONError(message: "\(error)"))
        }
    }

    /// The value's members if it is an object.
    var members: [(key: String, value: JSON)]? { if case .object(let m) = self { return m }; return nil }
    /// The value's text if it is a string.
    var text: String? { if case .string(let s) = self { return s }; return nil }
    /// The value's integers if it is an array of integers.
    var ints: [Int]? {
        guard case .array(let items) = self else { return nil }
        var out: [Int] = []
        for item in items {
            guard case .number(_, let int?) = item else { return nil }
            out.append(int)
        }
        return out
    }

    /// A JSON string literal for `s`, quoted and escaped.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// Where and why a text is not JSON.
struct JSONError: Error {
    var message: String
}

private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var pos: Int

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        pos = bytes.startIndex
    }

    func fail(_ what: String) -> JSONError { JSONError(message: "\(what) at byte \(pos - bytes.startIndex)") }

    mutating func skipSpace() {
        while pos < bytes.endIndex, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[pos]) { pos += 1 }
    }

    mutating func expect(_ literal: String) throws {
        for b in literal.utf8 {
            guard pos < bytes.endIndex, bytes[pos] == b else { throw fail("expected '\(literal)'") }
            pos += 1
        }
    }

    mutating func value(depth: Int) throws -> JSON {
        guard depth <= maxDepth else { throw fail("nested more than \(maxDepth) deep") }
        skipSpace()
        guard pos < bytes.endIndex else { throw fail("unexpected end") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var members: [(key: String, value: JSON)] = []
            skipSpace()
            if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            while true {
                skipSpace()
                guard pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                skipSpace()
                try expect(":")
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard pos < bytes.endIndex else { throw fail("unexpected end") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                try expect("}")
                return .object(members)
            }
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSON] = []
            skipSpace()
            if pos < bytes.endIndex, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard pos < bytes.endIndex else { throw fail("unexpected end") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                try expect("]")
                return .array(items)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return try number()
        }
    }

    mutating func number() throws -> JSON {
        let start = pos
        while pos < bytes.endIndex, "+-0123456789.eE".utf8.contains(bytes[pos]) { pos += 1 }
        let text = String(decoding: bytes[start ..< pos], as: UTF8.self)
        guard let d = Double(text) else { throw fail("expected a value") }
        return .number(d, int: Int(text))
    }

    mutating func string() throws -> String {
        pos += 1  // opening quote
        var out = [UInt8]()
        while true {
            guard pos < bytes.endIndex else { throw fail("unterminated string") }
            let b = bytes[pos]
            pos += 1
            if b == UInt8(ascii: "\"") { break }
            guard b >= 0x20 else { throw fail("control character in a string") }
            guard b == UInt8(ascii: "\\") else { out.append(b); continue }
            guard pos < bytes.endIndex else { throw fail("unterminated escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xd800 ..< 0xdc00).contains(code), pos + 1 < bytes.endIndex, bytes[pos] == UInt8(ascii: "\\"),
                   bytes[pos + 1] == UInt8(ascii: "u") {
                    pos += 2
                    let low = try hex4()
                    code = 0x10000 + ((code - 0xd800) << 10) + (low &- 0xdc00 & 0x3ff)
                }
                out.append(contentsOf: String(Unicode.Scalar(code) ?? "\u{fffd}").utf8)
            default: out.append(e)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func hex4() throws -> UInt32 {
        guard bytes.endIndex - pos >= 4, let v = UInt32(String(decoding: bytes[pos ..< pos + 4], as: UTF8.self), radix: 16) else {
            throw fail("bad \\u escape")
        }
        pos += 4
        return v
    }
}
