import Foundation
import Imaging
import Testing
import TestSupport

/// What ImageIO.read refuses before decoding (what is not a regular file, a file larger than any image within the
/// pixel limit, a width whose libpng rows would dwarf the image), what libpng no longer does (inflate data after the
/// last row, decompress metadata), and a valid JPEG whose metadata passes the 64 KiB head.
@Suite struct InputBoundaryTests {
    /// 8x8 RGB rows, each with its filter byte.
    static let rows = (0 ..< 8).map { y in [UInt8(0)] + (0 ..< 24).map { UInt8(truncatingIfNeeded: $0 * 10 + y) } }

    @Test func fifoAndDeviceAreRefusedBeforeOpeningBlocks() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/x.png"
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(throws: ImageError(fifo, .unreadable, "is a named pipe (FIFO), not a regular file; give an image as a regular file")) {
            try ImageIO.read(fifo)
        }
        #expect(throws: ImageError("/dev/zero", .unreadable, "is a character device, not a regular file; give an image as a regular file")) {
            try ImageIO.read("/dev/zero")
        }
    }

    /// A PNG padded to 1 GB with a hole: over the cap at the default limit, through it (and on to the decoder) with a
    /// limit 4 times higher. The message escapes the control character in the name.
    @Test func sparseFileIsRefusedFromItsSize() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big\nfile.png"
        try Data(TestSupport.pngFile(width: 8, height: 8, rows: Self.rows)).write(to: URL(fileURLWithPath: path))
        #expect(truncate(path, 1_000_000_000) == 0)
        do {
            _ = try ImageIO.read(path)
            Issue.record("a 1 GB file was read")
        } catch let error as ImageError {
            #expect(error.kind == .tooLarge)
            #expect(error.description == dir + "/big\\nfile.png: is 1.0 GB, over the 867.1 MB limit for an image; "
                + "pass --max-pixels to allow larger images")
        }
    }

    /// 100,000,000 x 1 is within 100 MP, but libpng's two rows of a 16-bit RGBA image that wide take 1.6 GB.
    @Test func widthIsLimitedWithThePixelLimit() throws {
        let bytes = pngHeader(width: 100_000_000, height: 1, bitDepth: 16, colorType: 6) + be32(1000) + Array("IDAT".utf8)
        #expect(throws: ImageError("row.png", .tooLarge, "image is 100000000x1, wider than the 6250000 pixels allowed under a "
                                   + "limit of 100 MP; pass --max-pixels to allow it")) {
            try ImageIO.decode(bytes, name: "row.png")
        }
    }

    /// A gigabyte of zeros after the rows in the same zlib stream (1 MB of file): refused before libpng inflates them.
    @Test func dataAfterTheLastRowIsNotInflated() throws {
        let plain = TestSupport.pngFile(width: 8, height: 8, rows: Self.rows)
        let padded = TestSupport.pngFile(width: 8, height: 8, rows: Self.rows, trailingZeros: 1 << 30)
        #expect(try ImageIO.decode(plain, name: "plain.png").width == 8)
        do {
            _ = try ImageIO.decode(padded, name: "padded.png")
            Issue.record("decoded an image followed by a gigabyte of compressed zeros")
        } catch let error as ImageError {
            #expect(error.kind == .corrupt && error.problem.hasPrefix("corrupt PNG (image data go on past the last row"), "\(error)")
        }
        // A few bytes after the rows are still read through to IEND: cut the file there and it is refused.
        let small = TestSupport.pngFile(width: 8, height: 8, rows: Self.rows, trailingZeros: 100)
        #expect(try ImageIO.decode(small, name: "small.png") == (try ImageIO.decode(plain, name: "plain.png")))
        #expect(throws: ImageError.self) { try ImageIO.decode(Array(small.dropLast(12)), name: "small.png") }
    }

    /// Ancillary chunks are skipped: a gigabyte-inflating zTXt changes nothing, not even the time; a bad CRC in one
    /// is still refused (as Pillow refuses it).
    @Test func ancillaryChunksAreSkippedButChecked() throws {
        let plain = try ImageIO.decode(TestSupport.pngFile(width: 8, height: 8, rows: Self.rows), name: "plain.png")
        let bomb = Array("Comment".utf8) + [0, 0] + deflateStream([], thenZeros: 1 << 30)
        let withBomb = TestSupport.pngFile(width: 8, height: 8, rows: Self.rows, before: pngChunk("zTXt", bomb))
        #expect(try ImageIO.decode(withBomb, name: "bomb.png") == plain)
        let badCRC = TestSupport.pngFile(width: 8, height: 8, rows: Self.rows, before: pngChunk("zTXt", bomb, badCRC: true))
        #expect(throws: ImageError("bad.png", .corrupt, "corrupt PNG (libpng: zTXt: CRC error)")) {
            try ImageIO.decode(badCRC, name: "bad.png")
        }
    }

    /// rocket.jpg with 256 KB of APP1/APP2 metadata decodes to the plain file's pixels (libjpeg skips APPn segments;
    /// Pillow reads the file too), through `read`, whose 64 KiB head ends inside the metadata. Cut inside the
    /// metadata or inside the scan, it is refused as truncated.
    @Test func jpegWithMoreThan64KBOfMetadata() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plainBytes = Fixtures.bytes("Samples/rocket.jpg")
        let bytes = jpegWithMetadata(plainBytes)
        let path = dir + "/rocket_icc.jpg"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let plain = try Fixtures.image("Samples/rocket.jpg")
        expectPixels(try ImageIO.read(path), plain.pixels, width: plain.width, height: plain.height, "rocket.jpg + 256 KB metadata")
        #expect(try ImageIO.probe(bytes, name: "r.jpg") == ImageHeader(format: .jpeg, width: plain.width, height: plain.height))
        #expect(throws: ImageError("r.jpg", .truncated, "truncated JPEG (no frame header)")) {
            try ImageIO.decode(Array(bytes[..<100_000]), name: "r.jpg")
        }
        #expect(throws: ImageError("r.jpg", .truncated, "truncated JPEG (libjpeg: Premature end of JPEG file)")) {
            try ImageIO.decode(Array(bytes.dropLast(plainBytes.count / 2)), name: "r.jpg")
        }
    }
}
