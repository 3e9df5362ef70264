import Foundation
import Imaging
import Testing

/// The fixtures made by Scripts/make_imaging_fixtures.py (Pillow 13.0.0, numpy 2.4.6), and Fixtures/manifest.json,
/// which lists each case with the Python expression that produced its expected values.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// "decode/x.png" lives under Fixtures/; "Samples/x.png" under the repository root.
    static func path(_ relative: String) -> String {
        (relative.hasPrefix("Samples/") ? repository : directory).appendingPathComponent(relative).path
    }

    static func bytes(_ relative: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(relative)) else {
            fatalError("fixture \(relative) is missing; run Scripts/make_imaging_fixtures.py")
        }
        return [UInt8](data)
    }

    static func image(_ relative: String) throws -> RGBImage { try ImageIO.read(path(relative)) }

    static let manifest: Manifest = {
        let data = FileManager.default.contents(atPath: path("manifest.json"))!
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()
}

struct Manifest: Decodable {
    /// A file and the (H, W, 3) bytes Pillow's convert("RGB") makes of it (or the documented deviation).
    struct Decode: Decodable, Sendable, CustomTestStringConvertible {
        let file, expected, madeBy, expectedFrom: String
        let width, height: Int
        var testDescription: String { file }
    }

    /// A file the decoder must refuse, and what Pillow does with it.
    struct Broken: Decodable, Sendable, CustomTestStringConvertible {
        let file, madeBy, kind, contains, pillow: String
        var testDescription: String { file }
    }

    /// A sample photo (decoded, resized or prepared) known by hashes of Pillow's result.
    struct Digest: Decodable, Sendable, CustomTestStringConvertible {
        let file, madeBy, fnv1a64: String
        let op, argument: String?
        let width, height: Int
        let rows: [String]  // (H) FNV-1a 32 of each row
        var testDescription: String { "\(file) \(op ?? "decode") \(argument ?? "\(width)x\(height)")" }
    }

    /// A source image, a target size and Pillow's (or torchvision's) output bytes.
    struct Sized: Decodable, Sendable, CustomTestStringConvertible {
        let source, expected, madeBy: String
        let width, height: Int
        var testDescription: String { "\(source) -> \(width)x\(height)" }
    }

    /// numpy's model input for a tiny image under one preset.
    struct Tensor: Decodable, Sendable, CustomTestStringConvertible {
        let preset, source, madeBy: String
        let height, width: Int
        let tolerance: Float
        let values: [Float]  // (3, H, W)
        var testDescription: String { preset }
    }

    let decode: [Decode]
    let broken: [Broken]
    let sampleDecode: [Digest]
    let resize: [Sized]
    let sampleResize: [Digest]
    let crop: [Sized]
    let tensor: [Tensor]
}

/// FNV-1a, the hashes the fixture script stores for images too big to commit.
func fnv1a64<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return String(format: "%016lx", h)
}

func fnv1a32<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var h: UInt32 = 0x811C_9DC5
    for b in bytes { h = (h ^ UInt32(b)) &* 0x0100_0193 }
    return String(format: "%08x", h)
}

/// Compares an image with expected (H, W, 3) bytes; prints "label: OK, maxdiff 0" and expects exact equality.
func expectPixels(_ image: RGBImage, _ expected: [UInt8], width: Int, height: Int, _ label: String,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(image.width == width && image.height == height,
            "\(label): size \(image.width)x\(image.height), expected \(width)x\(height)", sourceLocation: sourceLocation)
    guard image.pixels.count == expected.count else { return }
    var maxDiff = 0, differing = 0
    for (a, b) in zip(image.pixels, expected) where a != b {
        differing += 1
        maxDiff = max(maxDiff, abs(Int(a) - Int(b)))
    }
    #expect(differing == 0, "\(label): \(differing) of \(expected.count) samples differ, maxdiff \(maxDiff)",
            sourceLocation: sourceLocation)
    if differing == 0 { print("\(label): OK, maxdiff 0") }
}

/// Compares an image with a Pillow result known only by its hashes; names the rows that differ.
func expectDigest(_ image: RGBImage, _ digest: Manifest.Digest, _ label: String,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(image.width == digest.width && image.height == digest.height,
            "\(label): size \(image.width)x\(image.height), Pillow's is \(digest.width)x\(digest.height)",
            sourceLocation: sourceLocation)
    guard image.width == digest.width && image.height == digest.height else { return }
    let rowLength = image.width * 3
    let badRows = (0 ..< image.height).filter {
        fnv1a32(image.pixels[$0 * rowLength ..< ($0 + 1) * rowLength]) != digest.rows[$0]
    }
    #expect(badRows.isEmpty && fnv1a64(image.pixels) == digest.fnv1a64,
            "\(label): \(badRows.count) of \(image.height) rows differ from Pillow's, first \(badRows.prefix(5))",
            sourceLocation: sourceLocation)
    if badRows.isEmpty { print("\(label): OK, identical to Pillow (FNV-1a \(digest.fnv1a64))") }
}

/// A seeded generator, so random tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh empty directory under the system's temporary directory.
func temporaryDirectory() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}
