// The input boundary and the readers behind it, end to end: what is not a regular file, what is too large for its
// kind, PNGs that make libpng allocate or inflate far more than they hold, JPEGs with large metadata, labels files
// with CR LF or control characters, and pickles that copy one memoised container over and over. Each case runs
// `convlens classify` (or `weights import`) and checks the exit code, the one line, and the peak memory; a case
// that hangs past its timeout fails too.
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct HostileInputTests {
    static let chelsea = CLI.path("Samples/chelsea.png")

    /// `convlens classify` with `file` in the given role: the image, `--weights` or `--labels`.
    static func classify(_ role: String, _ file: String, timeout: Double = 30) throws -> Outcome {
        switch role {
        case "image": return try convlens(["classify", "--model", "squeezenet1_1", file], timeout: timeout)
        case "weights": return try convlens(["classify", chelsea, "--model", "squeezenet1_1", "--weights", file], timeout: timeout)
        default: return try convlens(["classify", "--model", "squeezenet1_1", chelsea, "--labels", file], timeout: timeout)
        }
    }

    /// A FIFO nobody writes to (opening it to read would block forever) and a device that never ends, in each role;
    /// refused before anything is read, naming what the file is.
    @Test(arguments: ["image", "weights", "labels"])
    func fifoIsRefusedAtOnce(_ role: String) throws {
        let s = try Scratch()
        let fifo = s.dir + "/input.fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        let outcome = try Self.classify(role, fifo, timeout: 15)
        expectRefusal(outcome, code: 1, fifo + ": is a named pipe (FIFO), not a regular file", scratch: s)
    }

    @Test(arguments: ["image", "weights", "labels"])
    func devZeroIsRefusedAtOnce(_ role: String) throws {
        let outcome = try Self.classify(role, "/dev/zero", timeout: 15)
        expectRefusal(outcome, code: 1, "/dev/zero: is a character device, not a regular file")
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    /// A 100 GB sparse file that starts as a real PNG costs nothing to make; it is refused from its size.
    @Test func sparse100GBImage() throws {
        let s = try Scratch()
        let image = s.write("huge.png", CLI.bytes("Samples/chelsea.png"))
        #expect(truncate(image, 100_000_000_000) == 0)
        let outcome = try Self.classify("image", image, timeout: 15)
        expectRefusal(outcome, code: 1, image + ": is 100.0 GB, over the 867.1 MB limit for an image; pass --max-pixels",
                      scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    /// A labels file over its 4 MiB cap (a million names of five letters), refused before it is read.
    @Test func labelsFileOverItsCap() throws {
        let s = try Scratch()
        let labels = s.write("labels.txt", [UInt8](repeating: 0x61, count: 5 << 20))
        expectRefusal(try Self.classify("labels", labels), code: 1, labels + ": is 5.2 MB, over the 4.2 MB limit for a labels file",
                      scratch: s)
    }

    /// The acceptance script's case: 1000 names with Windows line ends, the last one ended too.
    @Test func crlfLabels() throws {
        let s = try Scratch()
        let labels = s.write("crlf.txt", Array((0 ..< 1000).map { "class \($0)\r\n" }.joined().utf8))
        let outcome = try Self.classify("labels", labels)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("class 285\n"), "\(outcome.stdout)")  // chelsea's top class, without its CR
        #expect(!outcome.stdout.contains("\r"))
    }

    /// A name carrying a terminal escape sequence and a bell is printed escaped, not obeyed.
    @Test func labelsWithControlCharactersArePrintedEscaped() throws {
        let s = try Scratch()
        var names = (0 ..< 1000).map { "class \($0)" }
        names[285] = "cat\u{1b}[2J\u{07}"
        let labels = s.write("labels.txt", Array(names.joined(separator: "\n").utf8))
        let outcome = try Self.classify("labels", labels)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("cat\\u{1B}[2J\\u{7}"), "\(outcome.stdout)")
        #expect(!outcome.stdout.contains("\u{1b}") && !outcome.stdout.contains("\u{07}"))
    }

    /// 44 bytes: IHDR of 100,000,000 x 1 16-bit RGBA (within the 100 MP limit) and the start of an IDAT. libpng
    /// allocated two rows of 800 MB each before finding the data missing; now the width is refused from the header.
    @Test(arguments: [false, true])
    func pngOneRowOf100MillionPixels(_ interlaced: Bool) throws {
        let s = try Scratch()
        let bytes = pngHeader(width: 100_000_000, height: 1, bitDepth: 16, colorType: 6, interlaced: interlaced)
            + be32(1000) + Array("IDAT".utf8) + [0x78, 0x9C, 0x00]
        #expect(bytes.count == 44)
        let image = s.write("row.png", bytes)
        let outcome = try Self.classify("image", image, timeout: 30)
        expectRefusal(outcome, code: 1, image + ": image is 100000000x1, wider than the 6250000 pixels allowed under a limit "
                      + "of 100 MP; pass --max-pixels", scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    /// An 8x8 image whose zlib stream goes on with 16 GB of zeros (16 MB of file). libpng inflated all of it before
    /// reaching IEND (about 2.5 minutes); now reading stops 64 KiB past what the last row can need.
    @Test func pngWithDataAfterTheLastRow() throws {
        let s = try Scratch()
        let rows = (0 ..< 8).map { _ in [UInt8(0)] + [UInt8](repeating: 0x80, count: 24) }
        let image = s.write("trailing.png", pngFile(width: 8, height: 8, rows: rows, trailingZeros: 16 << 30))
        let outcome = try Self.classify("image", image, timeout: 30)
        expectRefusal(outcome, code: 1, image + ": corrupt PNG (image data go on past the last row", scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    /// Metadata that would inflate to a gigabyte (zTXt, iTXt, iCCP), and a 20 MB private chunk: ancillary chunks
    /// change no pixel, so they are skipped (CRC checked) and the image decodes at the usual cost.
    @Test(arguments: ["zTXt", "iTXt", "iCCP", "prVt"])
    func pngWithAncillaryBombs(_ type: String) throws {
        let s = try Scratch()
        let bomb = deflateStream([], thenZeros: 1 << 30)
        let data: [UInt8]
        switch type {
        case "zTXt", "iCCP": data = Array("Comment".utf8) + [0, 0] + bomb  // keyword, NUL, method 0, compressed data
        case "iTXt": data = Array("Comment".utf8) + [0, 1, 0, 0, 0] + bomb  // keyword, NUL, compressed, method, "", ""
        default: data = [UInt8](repeating: 0x61, count: 20 << 20)
        }
        let rows = (0 ..< 8).map { _ in [UInt8(0)] + [UInt8](repeating: 0x80, count: 24) }
        let image = s.write("meta.png", pngFile(width: 8, height: 8, rows: rows, before: pngChunk(type, data)))
        let outcome = try Self.classify("image", image)
        #expect(outcome.code == 0, "\(type): \(outcome.stderr)")
        #expect(outcome.peakBytes < 400 << 20, "\(type): took \(outcome.peakBytes >> 20) MB")
        print("\(type): exit \(outcome.code), peak \(outcome.peakBytes >> 20) MB")
    }

    /// Samples/rocket.jpg with 256 KB of metadata before its frame header (an ICC profile in three APP2 segments and
    /// an APP1): valid, read by libjpeg and Pillow, and classified exactly as the plain file.
    @Test func jpegWithMoreThan64KBOfMetadata() throws {
        let s = try Scratch()
        let plain = CLI.bytes("Samples/rocket.jpg")
        let image = s.write("rocket_icc.jpg", jpegWithMetadata(plain))
        let outcome = try Self.classify("image", image)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        let reference = try Self.classify("image", CLI.path("Samples/rocket.jpg"))
        let results = { (o: Outcome) in o.stdout.split(separator: "\n").dropFirst() }  // the first line names the file
        #expect(results(outcome) == results(reference) && !results(reference).isEmpty, "\(outcome.stdout)")
    }

    /// OrderedDict called 3000 times on one memoised list of 5000 pairs: 87 KB of torch checkpoint that built 15
    /// million dict entries (1.5 GB). The unpickler's budget (64 MiB + 64 bytes per byte of the file) refuses it.
    @Test func pickleCallingOrderedDictOnAMemoisedListOverAndOver() throws {
        let s = try Scratch()
        let file = s.write("dicts.pth", torchZip(pickle: memoisedListCopies(pairs: 5000, calls: 3000), storages: []))
        let outcome = try HostileWeightsTests.importWeights(file, s)
        expectRefusal(outcome, code: 1, file + ": pickle needs more than", "of memory to unpickle", scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    /// `_rebuild_tensor_v2` called 3000 times with one memoised size tuple of 10,000 ints as size and stride: each
    /// call copied both (480 MB in all from 140 KB).
    @Test func pickleRebuildingTensorsFromAMemoisedShape() throws {
        let s = try Scratch()
        let file = s.write("shapes.pth", torchZip(pickle: memoisedShapeCopies(dims: 10_000, calls: 3000), storages: []))
        let outcome = try HostileWeightsTests.importWeights(file, s)
        expectRefusal(outcome, code: 1, file + ": pickle needs more than", scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }
}
