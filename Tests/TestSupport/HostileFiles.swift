// Builders for hostile and broken files, written byte by byte because Python's pickle, zipfile and Pillow refuse to
// make most of them: pickles that call what they should not or nest absurdly, zips whose headers lie, PNGs with
// impossible sizes. Shared by the TensorIO, Imaging and CLI tests.
import CZlib
import Foundation

/// A pickle written opcode by opcode, protocol 2.
public struct PickleWriter {
    public private(set) var bytes: [UInt8] = [0x80, 0x02]
    public init() {}

    /// Raw opcodes and arguments.
    public mutating func op(_ b: UInt8...) { bytes += b }
    /// BINUNICODE: a str.
    public mutating func string(_ s: String) { bytes += [0x58] + le32(s.utf8.count) + Array(s.utf8) }
    /// BININT for a signed 32-bit int, LONG1 for a wider one.
    public mutating func int(_ n: Int) {
        if let small = Int32(exactly: n) { bytes += [0x4a] + le32(Int(small)) } else { bytes += [0x8a, 8] + le64(n) }
    }
    /// GLOBAL: module and name on two lines.
    public mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
    /// STACK_GLOBAL: module and name pushed as strings first.
    public mutating func stackGlobal(_ module: String, _ name: String) { string(module); string(name); op(0x93) }
    /// LONG_BINPUT: memoizes the top of the stack.
    public mutating func put(_ i: Int) { bytes += [0x72] + le32(i) }
    /// LONG_BINGET: pushes a memoized value.
    public mutating func get(_ i: Int) { bytes += [0x6a] + le32(i) }
    /// A tuple of ints: MARK, BININTs, TUPLE.
    public mutating func ints(_ xs: [Int]) { op(0x28); xs.forEach { int($0) }; op(0x74) }
    /// STOP.
    public mutating func stop() { op(0x2e) }

    /// `torch._utils._rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, size, stride, False,
    /// OrderedDict())`, as torch.save writes a float32 tensor.
    public mutating func torchTensor(storage key: String, numel: Int, offset: Int = 0, size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        op(0x28)  // MARK: the argument tuple
        op(0x28); string("storage"); global("torch", "FloatStorage"); string(key); string("cpu"); int(numel); op(0x74)
        op(0x51)  // BINPERSID
        int(offset); ints(size); ints(stride); op(0x89)  // NEWFALSE: requires_grad
        global("collections", "OrderedDict"); op(0x29, 0x52)  // OrderedDict(): backward hooks
        op(0x74, 0x52)  // TUPLE, REDUCE
    }

    /// `numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')` filled in by BUILD with a little-endian float32
    /// array of `shape`, as numpy pickles one.
    public mutating func numpyArray(shape: [Int], values: [Float]) {
        global("numpy.core.multiarray", "_reconstruct")
        global("numpy", "ndarray"); ints([0]); op(0x43, 1, 0x62); op(0x87, 0x52)  // (ndarray, (0,), b'b') REDUCE
        op(0x28)  // MARK: the state tuple (version, shape, dtype, fortran, data)
        int(1); ints(shape)
        global("numpy", "dtype"); op(0x28); string("f4"); int(0); int(1); op(0x74, 0x52)  // dtype('f4', 0, 1)
        op(0x28); int(3); string("<"); op(0x4e, 0x4e, 0x4e); int(-1); int(-1); int(0); op(0x74, 0x62)  // its BUILD
        op(0x89)  // not fortran order
        let raw = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        bytes += [0x42] + le32(raw.count) + raw  // BINBYTES
        op(0x74, 0x62)  // TUPLE, BUILD
    }
}

/// One file of a zip archive.
public struct ZipMember {
    public var name: String
    /// The bytes as the archive holds them (deflated when `deflate`).
    public var stored: [UInt8]
    public var deflate: Bool
    /// The CRC-32 and size of the contents, inflated.
    public var crc: Int, size: Int
    /// What the headers claim the inflated size is; nil tells the truth.
    public var claimedSize: Int?

    public init(_ name: String, _ data: [UInt8], deflate: Bool = false, claimedSize: Int? = nil) {
        self.name = name
        self.stored = deflate ? rawDeflate(data) : data
        self.deflate = deflate
        self.crc = data.withUnsafeBufferPointer { Int(crc32_z(0, $0.baseAddress, $0.count)) }
        self.size = data.count
        self.claimedSize = claimedSize
    }

    /// A deflated entry of `count` zero bytes (a gigabyte of zeros deflates to 1 MB).
    public static func deflatedZeros(_ name: String, count: Int) -> ZipMember {
        var m = ZipMember(name, [], deflate: true)
        m.stored = deflateStream([], thenZeros: count, raw: true)
        m.crc = Int(checksumOfZeros(count, crc32_z, crc32_combine))
        m.size = count
        return m
    }
}

/// `data` and then `zeros` zero bytes as one deflate stream, made without deflating the zeros one by one: 8 MiB of
/// zeros are deflated once, ending at a byte boundary (a sync flush), and repeated, which is valid because their
/// first byte is a literal and their matches look back one byte. Gigabytes of zeros cost milliseconds.
/// - Parameters:
///   - data: the bytes that come first.
///   - zeros: how many zero bytes follow.
///   - raw: raw deflate, as zip entries hold it, instead of a zlib stream (header and Adler-32), as PNG's IDAT does.
public func deflateStream(_ data: [UInt8], thenZeros zeros: Int, raw: Bool = false) -> [UInt8] {
    let blockSize = 8 << 20
    var out: [UInt8] = raw ? [] : [0x78, 0xDA]
    out += syncFlushed(data)
    let block = syncFlushed([UInt8](repeating: 0, count: blockSize))
    for _ in 0 ..< zeros / blockSize { out += block }
    out += syncFlushed([UInt8](repeating: 0, count: zeros % blockSize))
    out += [0x03, 0x00]  // a final, empty block of fixed codes
    if raw { return out }
    let head = data.withUnsafeBufferPointer { adler32_z(1, $0.baseAddress, $0.count) }
    return out + be32(Int(adler32_combine(head, checksumOfZeros(zeros, adler32_z, adler32_combine), off_t(zeros))))
}

/// Raw deflate of `data` ending with a sync flush (an empty stored block), so that more blocks may follow.
private func syncFlushed(_ data: [UInt8]) -> [UInt8] {
    data.isEmpty ? [] : deflate(data, windowBits: -MAX_WBITS, flush: Z_SYNC_FLUSH)
}

/// The CRC-32 or Adler-32 of `count` zero bytes, from a megabyte's checksum combined with itself.
private func checksumOfZeros(_ count: Int, _ sum: (uLong, UnsafePointer<UInt8>?, Int) -> uLong,
                             _ combine: (uLong, uLong, off_t) -> uLong) -> uLong {
    let megabyte = 1 << 20
    let zeros = [UInt8](repeating: 0, count: megabyte)
    let initial = sum(0, nil, 0)
    let perMegabyte = zeros.withUnsafeBufferPointer { sum(initial, $0.baseAddress, megabyte) }
    var total = initial
    for _ in 0 ..< count / megabyte { total = combine(total, perMegabyte, off_t(megabyte)) }
    let rest = zeros.withUnsafeBufferPointer { sum(initial, $0.baseAddress, count % megabyte) }
    return combine(total, rest, off_t(count % megabyte))
}

/// A zip archive (no zip64) as torch.save lays it out: local headers and data, central directory, end record.
public func zipArchive(_ members: [ZipMember]) -> [UInt8] {
    var out: [UInt8] = [], central: [UInt8] = []
    for m in members {
        let (stored, crc) = (m.stored, m.crc)
        let method = m.deflate ? 8 : 0, size = m.claimedSize ?? m.size, name = Array(m.name.utf8)
        let offset = out.count
        out += le32(0x0403_4b50) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0) + le32(crc)
            + le32(stored.count) + le32(size) + le16(name.count) + le16(0) + name + stored
        central += le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0) + le32(crc)
            + le32(stored.count) + le32(size) + le16(name.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            + le32(offset) + name
    }
    let directoryOffset = out.count
    out += central
    out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(members.count) + le16(members.count) + le32(central.count)
        + le32(directoryOffset) + le16(0)
    return out
}

/// A torch.save zip checkpoint: `archive/data.pkl` holding `pickle`, and one stored or deflated entry per storage.
public func torchZip(pickle: [UInt8], storages: [ZipMember]) -> [UInt8] {
    zipArchive([ZipMember("archive/data.pkl", pickle), ZipMember("archive/byteorder", Array("little".utf8))]
        + storages.map { var s = $0; s.name = "archive/data/" + s.name; return s })
}

/// A torch zip checkpoint of float32 tensors, each with its own storage, named as given.
public func torchZip(tensors: [(name: String, shape: [Int], values: [Float])]) -> [UInt8] {
    var p = PickleWriter()
    p.global("collections", "OrderedDict"); p.op(0x29, 0x52)  // OrderedDict()
    p.op(0x28)  // MARK for SETITEMS
    for (i, t) in tensors.enumerated() {
        p.string(t.name)
        var stride: [Int] = [], step = 1
        for n in t.shape.reversed() { stride.insert(step, at: 0); step *= n }
        p.torchTensor(storage: String(i), numel: t.values.count, size: t.shape, stride: stride)
    }
    p.op(0x75); p.stop()  // SETITEMS
    return torchZip(pickle: p.bytes, storages: tensors.enumerated().map { i, t in ZipMember(String(i), floatBytes(t.values)) })
}

/// A safetensors file: the 8-byte header length, the header text, then the data.
public func safetensorsFile(header: String, data: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    return le64(h.count) + h + data
}

/// A PNG with the given IHDR fields and rows (each starting with its filter byte), valid CRCs unless told otherwise.
/// - Parameters:
///   - width, height: what IHDR declares, whatever the rows hold.
///   - bitDepth, colorType: IHDR's fields (8 and 2 for RGB).
///   - rows: the filtered scanlines, deflated into one IDAT.
///   - palette: a PLTE chunk's RGB triples, for colour type 3.
///   - badCRC: break the IDAT's CRC.
///   - before: chunks (made by `pngChunk`) to put between IHDR and IDAT.
///   - trailingZeros: zero bytes to add to the compressed stream after the rows, as data the image does not hold.
public func pngFile(width: Int, height: Int, bitDepth: UInt8 = 8, colorType: UInt8 = 2, rows: [[UInt8]],
                    palette: [UInt8]? = nil, badCRC: Bool = false, before: [UInt8] = [], trailingZeros: Int = 0) -> [UInt8] {
    var out = pngHeader(width: width, height: height, bitDepth: bitDepth, colorType: colorType)
    if let palette { out += pngChunk("PLTE", palette) }
    let data = trailingZeros > 0 ? deflateStream(rows.flatMap { $0 }, thenZeros: trailingZeros)
                                 : zlibCompress(rows.flatMap { $0 })
    return out + before + pngChunk("IDAT", data, badCRC: badCRC) + pngChunk("IEND", [])
}

/// A PNG's signature and IHDR chunk.
/// - Parameters:
///   - width, height, bitDepth, colorType: IHDR's fields.
///   - interlaced: Adam7 interlacing.
public func pngHeader(width: Int, height: Int, bitDepth: UInt8 = 8, colorType: UInt8 = 2, interlaced: Bool = false) -> [UInt8] {
    [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        + pngChunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, interlaced ? 1 : 0])
}

/// One PNG chunk: length, type, data, CRC.
/// - Parameters:
///   - type: four letters, e.g. "zTXt".
///   - data: the chunk's data.
///   - badCRC: flip a bit of the CRC.
public func pngChunk(_ type: String, _ data: [UInt8], badCRC: Bool = false) -> [UInt8] {
    let body = Array(type.utf8) + data
    let crc = body.withUnsafeBufferPointer { Int(crc32_z(0, $0.baseAddress, $0.count)) }
    return be32(data.count) + body + be32(badCRC ? crc ^ 1 : crc)
}

/// Float32 values as little-endian bytes.
public func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// Raw deflate (no zlib header), as zip entries hold it.
public func rawDeflate(_ data: [UInt8]) -> [UInt8] { deflate(data, windowBits: -MAX_WBITS) }

/// A zlib stream, as PNG's IDAT holds it.
public func zlibCompress(_ data: [UInt8]) -> [UInt8] { deflate(data, windowBits: MAX_WBITS) }

/// `data` deflated in one call, finished (a complete stream) or sync-flushed (blocks that more may follow).
private func deflate(_ data: [UInt8], windowBits: Int32, flush: Int32 = Z_FINISH) -> [UInt8] {
    var stream = z_stream()
    precondition(deflateInit2_(&stream, 9, Z_DEFLATED, windowBits, 9, Z_DEFAULT_STRATEGY, zlibVersion(),
                               Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    defer { deflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 64)
    var input = data
    let produced = input.withUnsafeMutableBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = uInt(dst.count)
            precondition(CZlib.deflate(&stream, flush) == (flush == Z_FINISH ? Z_STREAM_END : Z_OK) && stream.avail_in == 0)
            return dst.count - Int(stream.avail_out)
        }
    }
    return Array(out[..<produced])
}

public func le16(_ v: Int) -> [UInt8] { [UInt8(v & 255), UInt8(v >> 8 & 255)] }
public func le32(_ v: Int) -> [UInt8] { (0 ..< 4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
public func le64(_ v: Int) -> [UInt8] { (0 ..< 8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
public func be32(_ v: Int) -> [UInt8] { (0 ..< 4).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

/// A JPEG with 256 KB of metadata put before its frame header: an ICC profile split over three APP2 segments, as
/// ICC.1 prescribes for profiles over 64 KB, and an EXIF APP1, each segment of the largest size a marker allows.
/// - Parameters:
///   - plain: a JPEG file, starting with SOI.
public func jpegWithMetadata(_ plain: [UInt8]) -> [UInt8] {
    func segment(_ marker: UInt8, _ header: [UInt8]) -> [UInt8] {
        let payload = header + (0 ..< 65533 - header.count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        return [0xFF, marker] + [0xFF, 0xFF] + payload  // length 65535 counts itself
    }
    let icc = (1 ... 3).map { segment(0xE2, Array("ICC_PROFILE".utf8) + [0, UInt8($0), 3]) }.joined()
    return Array(plain[..<2]) + icc + segment(0xE1, Array("Exif".utf8) + [0, 0]) + Array(plain[2...])
}

/// A pickle that calls `OrderedDict` `calls` times on one memoised list of `pairs` (int, None) pairs, dropping each
/// result: a few bytes per call, a copy of the whole list each time. Its value is an empty dict.
public func memoisedListCopies(pairs: Int, calls: Int) -> [UInt8] {
    var p = PickleWriter()
    p.global("collections", "OrderedDict"); p.put(0); p.op(0x30)  // memo 0: the callable
    p.op(0x5d, 0x28)  // EMPTY_LIST, MARK
    for i in 0 ..< pairs { p.int(i); p.op(0x4e, 0x86) }  // (i, None)
    p.op(0x65); p.put(1); p.op(0x30)  // APPENDS; memo 1: the list
    for _ in 0 ..< calls { p.get(0); p.get(1); p.op(0x85, 0x52, 0x30) }  // OrderedDict((list,)), POP
    p.op(0x7d); p.stop()
    return p.bytes
}

/// A pickle that rebuilds a tensor `calls` times from one memoised tuple of `dims` ints as both size and stride, a
/// few bytes per call, a copy of both each time. Its value is an empty dict.
public func memoisedShapeCopies(dims: Int, calls: Int) -> [UInt8] {
    var p = PickleWriter()
    p.ints([Int](repeating: 1, count: dims)); p.put(0); p.op(0x30)  // memo 0: the shape
    p.op(0x28); p.string("storage"); p.global("torch", "FloatStorage"); p.string("0"); p.string("cpu"); p.int(1); p.op(0x74)
    p.op(0x51); p.put(1); p.op(0x30)  // BINPERSID; memo 1: the storage
    p.global("torch._utils", "_rebuild_tensor_v2"); p.put(2); p.op(0x30)
    for _ in 0 ..< calls {
        p.get(2); p.op(0x28); p.get(1); p.int(0); p.get(0); p.get(0); p.op(0x89, 0x74, 0x52, 0x30)  // REDUCE, POP
    }
    p.op(0x7d); p.stop()
    return p.bytes
}
