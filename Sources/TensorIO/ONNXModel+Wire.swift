import Support
// Protobuf's wire format, read without trusting it: every length is checked against the bytes left in its enclosing
// message before it is used, and unknown fields are skipped by wire type, never by recursion.
//
// A message is a sequence of (tag, value) pairs; tag = field number << 3 | wire type. Wire types: 0 varint,
// 1 fixed 64 bits, 2 length-delimited (strings, bytes, messages, packed repeated scalars), 3 and 4 the start and end
// of a (deprecated) group, 5 fixed 32 bits.

/// A decoding failure: what went wrong, and where in the model it happened, outermost first.
struct ONNXDecodeError: Error, CustomStringConvertible {
    /// Where: e.g. ["graph 'main'", "node 3 'conv1'", "attribute 'pads'"].
    var path: [String]
    /// What, ending with what it means for the file when that helps.
    var message: String

    init(_ message: String) {
        path = []
        self.message = message
    }

    var description: String { path.isEmpty ? message : path.joined(separator: ", ") + ": " + message }
}

/// Runs `body`, adding `place` to the path of a decoding error it throws.
/// - Parameters:
///   - place: where the body decodes, built only when an error passes through.
///   - body: the decoding.
@inline(__always) func within<R>(_ place: @autoclosure () -> String, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch var e as ONNXDecodeError {
        e.path.insert(place(), at: 0)
        throw e
    }
}

/// A name or text quoted for a one-line message: control characters escaped, cut at 80 characters.
func quoted(_ s: String) -> String { Support.quoted(s) }

/// Protobuf wire types.
enum WireType: Int {
    case varint = 0, fixed64 = 1, bytes = 2, groupStart = 3, groupEnd = 4, fixed32 = 5

    var name: String {
        switch self {
        case .varint: return "varint"
        case .fixed64: return "fixed64"
        case .bytes: return "length-delimited"
        case .groupStart, .groupEnd: return "group"
        case .fixed32: return "fixed32"
        }
    }
}

/// A cursor over one message's bytes inside the file.
struct Wire {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    /// One past the message's last byte.
    let end: Int

    /// A cursor over a whole file.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        position = 0
        end = bytes.count
    }

    /// A cursor over a range the caller has checked, from `length()`.
    init(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) {
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
    }

    var atEnd: Bool { position >= end }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func next() throws -> (field: Int, wire: WireType)? {
        guard position < end else { return nil }
        let tag = try varint()
        let field = tag >> 3
        guard let wire = WireType(rawValue: Int(tag & 7)) else {
            throw ONNXDecodeError("invalid protobuf wire type \(tag & 7) at byte \(position); the file is corrupt or not ONNX")
        }
        guard field >= 1, field < 1 << 29 else {
            throw ONNXDecodeError("invalid protobuf field number \(field) at byte \(position); the file is corrupt or not ONNX")
        }
        return (Int(field), wire)
    }

    /// A base-128 varint of at most 10 bytes; bits past the 64th are dropped, as protobuf does.
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 70 {
            guard position < end else { throw truncated("a varint") }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        throw ONNXDecodeError("a varint longer than 10 bytes ends at byte \(position); the file is corrupt")
    }

    /// A varint read as a signed 64-bit integer (int64 and int32 fields: negative values take ten bytes).
    mutating func int() throws -> Int { Int(Int64(bitPattern: try varint())) }

    /// A fixed 32-bit little-endian value.
    mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4 else { throw truncated("a fixed32 value") }
        defer { position += 4 }
        return UInt32(truncatingIfNeeded: bytes.le(position, 4))
    }

    /// A fixed 64-bit little-endian value.
    mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8 else { throw truncated("a fixed64 value") }
        defer { position += 8 }
        return bytes.le(position, 8)
    }

    /// The range of a length-delimited value, checked to lie inside this message, and skips over it.
    mutating func length() throws -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - position) else {
            throw ONNXDecodeError("a length of \(n) bytes at byte \(position) runs past its message, which has "
                + "\(end - position) bytes left; the file is truncated or corrupt")
        }
        defer { position += Int(n) }
        return position ..< position + Int(n)
    }

    /// A UTF-8 string of at most `maxBytes` (invalid sequences become U+FFFD).
    /// - Parameters:
    ///   - maxBytes: the longest string accepted.
    ///   - what: what the string is, for the message when it is too long.
    mutating func string(maxBytes: Int, _ what: @autoclosure () -> String) throws -> String {
        let range = try length()
        guard range.count <= maxBytes else {
            throw ONNXDecodeError("\(what()) is \(range.count) bytes long, over the limit of \(maxBytes); the file is corrupt or hostile")
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Skips a field's value by its wire type. A group is skipped by counting its nested starts and ends, so no
    /// nesting depth in the file becomes recursion here.
    mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .bytes: _ = try length()
        case .groupEnd: throw ONNXDecodeError("a protobuf group ends at byte \(position) that never started; the file is corrupt")
        case .groupStart:
            var depth = 1
            while depth > 0 {
                guard let (_, inner) = try next() else { throw truncated("a protobuf group") }
                switch inner {
                case .groupStart: depth += 1
                case .groupEnd: depth -= 1
                default: try skip(inner)
                }
            }
        }
    }

    /// The error for a value that runs past the end of its message.
    func truncated(_ what: String) -> ONNXDecodeError {
        ONNXDecodeError("\(what) at byte \(position) runs past the end of its message; the file is truncated or corrupt")
    }

    /// Checks that a field of a known number has the wire type onnx.proto gives it.
    static func expect(_ wire: WireType, _ expected: WireType, field: Int) throws {
        guard wire == expected else {
            throw ONNXDecodeError("field \(field) is \(wire.name) where onnx.proto has \(expected.name); the file is corrupt or not ONNX")
        }
    }

    /// Steps over the next value of a repeated scalar field, packed (one length-delimited run) or not (one value per
    /// tag), returning its bytes and element count without decoding it: the count is known before anything is
    /// allocated, from the run's length for fixed-width values and from its final bytes (those under 0x80) for varints.
    /// - Parameters:
    ///   - wire: the wire type the field came with.
    ///   - element: the wire type of one element: varint, fixed32 or fixed64.
    ///   - field: the field number, for messages.
    mutating func scalars(_ wire: WireType, _ element: WireType, field: Int) throws -> (range: Range<Int>, count: Int) {
        if wire == element {
            let start = position
            try skip(wire)
            return (start ..< position, 1)
        }
        try Wire.expect(wire, .bytes, field: field)
        let range = try length()
        switch element {
        case .fixed32, .fixed64:
            let width = element == .fixed32 ? 4 : 8
            guard range.count % width == 0 else {
                throw ONNXDecodeError("a packed run of \(element.name) values is \(range.count) bytes, not a multiple of \(width); the file is corrupt")
            }
            return (range, range.count / width)
        default:
            guard range.isEmpty || bytes[range.upperBound - 1] < 0x80 else { throw truncated("a packed run of varints") }
            return (range, UnsafeRawBufferPointer(rebasing: bytes[range]).reduce(0) { $0 + ($1 < 0x80 ? 1 : 0) })
        }
    }

    /// Decodes every element of a run from `scalars`, appending to `out`.
    /// - Parameters:
    ///   - range: the run's bytes.
    ///   - out: where the elements go.
    ///   - one: reads one element.
    func decode<T>(_ range: Range<Int>, into out: inout [T], _ one: (inout Wire) throws -> T) throws {
        var run = Wire(bytes, range)
        while !run.atEnd { out.append(try one(&run)) }
    }
}
