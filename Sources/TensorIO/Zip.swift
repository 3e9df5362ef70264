// A zip reader for torch checkpoints: end-of-central-directory (and zip64), the central directory, local headers;
// STORED entries are slices of the file, DEFLATE entries are inflated by zlib with their declared size as a hard
// bound. Every offset and size is checked against the file before use.
import CZlib
import Support

/// One file in a zip archive, as the central directory describes it.
struct ZipEntry {
    var name: String
    var method: UInt16
    var flags: UInt16
    var crc: UInt32
    var compressedSize: Int
    var size: Int
    var headerOffset: Int
    /// Where the entry's data starts, after its local header.
    var dataOffset = 0
}

/// An entry's contents: a view into the archive's buffer (stored) or inflated bytes (deflate).
enum ZipData {
    case view(UnsafeRawBufferPointer)
    case owned([UInt8])

    /// Runs `body` on the bytes.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .view(let raw): return try body(raw)
        case .owned(let array): return try array.withUnsafeBytes(body)
        }
    }
}

/// A zip archive held in memory. It borrows its buffer: use it only while the buffer lives.
struct ZipArchive {
    let bytes: UnsafeRawBufferPointer
    let file: String
    let limits: Limits
    /// The entries in central-directory order.
    private(set) var entries: [ZipEntry] = []
    private var byName: [String: Int] = [:]

    /// Reads the central directory and checks every entry's local header and data range.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the file's name for messages.
    ///   - limits: `maxBytes` and `maxInflateRatio` bound inflating.
    init(_ bytes: UnsafeRawBufferPointer, file: String, limits: Limits) throws {
        self.bytes = bytes
        self.file = file
        self.limits = limits
        func fail(_ message: String, hint: String? = nil) -> TensorFileError {
            TensorFileError(file: file, message, hint: hint)
        }
        let n = bytes.count
        // The end-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes at the very end.
        var eocd = -1
        var p = n - 22
        while p >= max(0, n - 22 - 65535) {
            if bytes.le(p, 4) == 0x0605_4b50 && p + 22 + Int(bytes.le(p + 20, 2)) == n { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else {
            throw fail("is not a complete zip archive (no end-of-central-directory record); the file is truncated",
                       hint: "download or copy the checkpoint again")
        }
        var count = Int(bytes.le(eocd + 10, 2))
        var directorySize = Int(bytes.le(eocd + 12, 4))
        var directoryOffset = Int(bytes.le(eocd + 16, 4))
        var directoryEnd = eocd
        // zip64: a locator 20 bytes before the record points at the zip64 end-of-central-directory record.
        if eocd >= 20 + 56 && bytes.le(eocd - 20, 4) == 0x0706_4b50 {
            let z = bytes.le(eocd - 20 + 8, 8)
            guard z <= UInt64(eocd - 20 - 56), bytes.le(Int(z), 4) == 0x0606_4b50 else {
                throw fail("has a broken zip64 end-of-central-directory record; the file is corrupt")
            }
            let record = Int(z)
            let (c, s, o) = (bytes.le(record + 32, 8), bytes.le(record + 40, 8), bytes.le(record + 48, 8))
            guard c <= UInt64(n), s <= UInt64(n), o <= UInt64(n) else { throw fail("has an impossible zip64 directory; the file is corrupt") }
            (count, directorySize, directoryOffset, directoryEnd) = (Int(c), Int(s), Int(o), record)
        }
        guard directoryOffset + directorySize <= directoryEnd, count <= directorySize / 46 + 1 else {
            throw fail("has a central directory outside the file (\(count) entries at offset \(directoryOffset)); the file is truncated or corrupt")
        }
        p = directoryOffset
        for _ in 0 ..< count {
            guard p + 46 <= directoryOffset + directorySize, bytes.le(p, 4) == 0x0201_4b50 else {
                throw fail("has a damaged central directory at offset \(p); the file is corrupt")
            }
            let nameLength = Int(bytes.le(p + 28, 2)), extraLength = Int(bytes.le(p + 30, 2))
            let commentLength = Int(bytes.le(p + 32, 2))
            let next = p + 46 + nameLength + extraLength + commentLength
            guard next <= directoryOffset + directorySize else { throw fail("has a central directory entry past its end; the file is corrupt") }
            var entry = ZipEntry(
                name: String(decoding: bytes[p + 46 ..< p + 46 + nameLength], as: UTF8.self),
                method: UInt16(bytes.le(p + 10, 2)), flags: UInt16(bytes.le(p + 8, 2)), crc: UInt32(bytes.le(p + 16, 4)),
                compressedSize: Int(bytes.le(p + 20, 4)), size: Int(bytes.le(p + 24, 4)),
                headerOffset: Int(bytes.le(p + 42, 4)))
            // zip64 extra field (id 1): 64-bit values for those 32-bit fields that are all ones, in this order.
            var e = p + 46 + nameLength
            while e + 4 <= p + 46 + nameLength + extraLength {
                let id = bytes.le(e, 2), length = Int(bytes.le(e + 2, 2))
                guard e + 4 + length <= p + 46 + nameLength + extraLength else { break }
                if id == 1 {
                    var f = e + 4
                    func wide(_ v: inout Int) {
                        guard v == 0xFFFF_FFFF, f + 8 <= e + 4 + length else { return }
                        v = Int(clamping: bytes.le(f, 8))
                        f += 8
                    }
                    wide(&entry.size)
                    wide(&entry.compressedSize)
                    wide(&entry.headerOffset)
                }
                e += 4 + length
            }
            try check(&entry, dataEnd: directoryOffset, fail)
            guard byName[entry.name] == nil else { throw fail("has two entries named '\(entry.name)'; the file is corrupt or hostile") }
            byName[entry.name] = entries.count
            entries.append(entry)
            p = next
        }
        // No two entries may share bytes: overlapping entries are how some zip bombs multiply their output.
        let sorted = entries.sorted { $0.headerOffset < $1.headerOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.dataOffset + a.compressedSize > b.headerOffset {
            throw fail("has entries '\(a.name)' and '\(b.name)' that overlap; the file is corrupt or hostile")
        }
    }

    /// Checks an entry's local header and that its data lies inside the file, and finds where the data starts.
    private func check(_ entry: inout ZipEntry, dataEnd: Int, _ fail: (String, String?) -> TensorFileError) throws {
        let h = entry.headerOffset
        guard entry.flags & 1 == 0 else { throw fail("entry '\(entry.name)' is encrypted", nil) }
        guard h >= 0, h <= dataEnd - 30, bytes.le(h, 4) == 0x0403_4b50 else {
            throw fail("entry '\(entry.name)' points at offset \(h), where there is no local header; the file is corrupt", nil)
        }
        entry.dataOffset = h + 30 + Int(bytes.le(h + 26, 2)) + Int(bytes.le(h + 28, 2))
        guard entry.compressedSize >= 0, entry.size >= 0, entry.dataOffset <= dataEnd,
              entry.compressedSize <= dataEnd - entry.dataOffset else {
            throw fail("entry '\(entry.name)' claims \(byteCount(entry.compressedSize)) at offset \(entry.dataOffset), "
                + "past the end of the file's data (\(byteCount(dataEnd))); the file is truncated or its header lies", nil)
        }
        switch entry.method {
        case 0:
            guard entry.size == entry.compressedSize else {
                throw fail("stored entry '\(entry.name)' claims \(entry.size) bytes but holds \(entry.compressedSize); its header lies", nil)
            }
        case 8: break
        default:
            throw fail("entry '\(entry.name)' uses zip compression method \(entry.method); only stored and deflate are supported",
                       "re-save the checkpoint with torch.save, which stores entries uncompressed")
        }
    }

    /// The entry with this exact name.
    func entry(_ name: String) -> ZipEntry? { byName[name].map { entries[$0] } }

    /// An entry's contents: a view of the file for a stored entry (no copy), inflated bytes for a deflated one.
    /// - Parameters:
    ///   - entry: an entry of this archive.
    ///   - limit: the most bytes a deflated entry may declare; a larger one is refused before anything is allocated.
    ///   - why: why that is the limit, for the message ("but its tensors use 24 bytes").
    func contents(_ entry: ZipEntry, upTo limit: Int = .max, why: String = "") throws -> ZipData {
        if entry.method == 0 { return .view(UnsafeRawBufferPointer(rebasing: bytes[entry.dataOffset ..< entry.dataOffset + entry.size])) }
        guard entry.size <= limit else {
            throw TensorFileError(file: file, "entry '\(entry.name)' would inflate to \(byteCount(entry.size)), "
                + "\(why.isEmpty ? "over the \(byteCount(limit)) limit" : why); a zip bomb or a lying header")
        }
        return .owned(try inflate(entry))
    }

    /// Inflates a deflated entry into exactly its declared size, refusing to go past it.
    private func inflate(_ entry: ZipEntry) throws -> [UInt8] {
        func fail(_ message: String) -> TensorFileError { TensorFileError(file: file, "entry '\(entry.name)' \(message)") }
        guard entry.size <= limits.maxBytes else {
            throw fail("would inflate to \(byteCount(entry.size)), over the \(byteCount(limits.maxBytes)) limit; a zip bomb?")
        }
        guard entry.size / max(entry.compressedSize, 1) <= limits.maxInflateRatio else {
            throw fail("claims to inflate \(byteCount(entry.compressedSize)) to \(byteCount(entry.size)), more than "
                + "deflate can (about 1032:1); a zip bomb?")
        }
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("cannot be inflated: zlib failed to start")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: entry.size + 1)  // one spare byte catches output past the declared size
        var status = Z_OK
        do {
            out.withUnsafeMutableBytes { output in
                let source = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
                let target = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
                var consumed = 0, produced = 0
                while status == Z_OK {  // zlib counts in UInt32, so feed at most 1 GiB at a time
                    let inChunk = min(entry.compressedSize - consumed, 1 << 30), outChunk = min(output.count - produced, 1 << 30)
                    stream.next_in = source + entry.dataOffset + consumed
                    stream.avail_in = uInt(inChunk)
                    stream.next_out = target + produced
                    stream.avail_out = uInt(outChunk)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    consumed += inChunk - Int(stream.avail_in)
                    produced += outChunk - Int(stream.avail_out)
                    if produced > entry.size { status = Z_MEM_ERROR; break }
                    if status == Z_OK && inChunk - Int(stream.avail_in) == 0 && outChunk - Int(stream.avail_out) == 0 {
                        status = Z_BUF_ERROR
                    }
                }
            }
        }
        let produced = Int(stream.total_out)
        if produced > entry.size || status == Z_MEM_ERROR {
            throw fail("inflates past its declared \(byteCount(entry.size)); a zip bomb or a lying header")
        }
        guard status == Z_STREAM_END else { throw fail("is not valid deflate data (zlib status \(status)); the file is corrupt") }
        guard produced == entry.size else {
            throw fail("inflates to \(produced) bytes but declares \(entry.size); the file is corrupt")
        }
        out.removeLast()
        let crc = out.withUnsafeBufferPointer { UInt32(crc32_z(0, $0.baseAddress, $0.count)) }
        guard crc == entry.crc else { throw fail("fails its CRC check; the file is corrupt") }
        return out
    }
}
