import Foundation
import Imaging
import Testing
@testable import Render

/// Golden-image comparison: render a figure to PNG and compare it with `Golden/<name>.png`.
///
/// Text antialiasing differs a little between FreeType builds, so the comparison allows small differences:
/// at least 99.5% of pixels within 8 levels in every channel, and a mean absolute difference of at most 1.
/// A failure writes `Golden/<name>.actual.png` and an amplified `Golden/<name>.diff.png` (both gitignored).
/// `CONVLENS_UPDATE_GOLDEN=1 swift test --filter RenderTests` rewrites the references.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path
    static let pixelTolerance = 8
    static let minFractionWithin = 0.995
    static let maxMeanAbs = 1.0

    static var updating: Bool { ProcessInfo.processInfo.environment["CONVLENS_UPDATE_GOLDEN"] == "1" }

    /// Difference statistics between two images of the same size.
    struct Diff {
        var maxAbs: Int
        var fractionWithin: Double
        var meanAbs: Double
        var image: RGBImage

        var passes: Bool { fractionWithin >= Golden.minFractionWithin && meanAbs <= Golden.maxMeanAbs }
        var summary: String { String(format: "maxdiff %d, %.3f%% of pixels within %d, mean abs %.3f", maxAbs, fractionWithin * 100, Golden.pixelTolerance, meanAbs) }
    }

    static func diff(_ a: RGBImage, _ b: RGBImage) -> Diff {
        precondition(a.width == b.width && a.height == b.height)
        var maxAbs = 0, within = 0, sum = 0
        var out = [UInt8](repeating: 0, count: a.pixels.count)  // (H, W, 3)
        for p in 0 ..< a.width * a.height {
            var d = 0
            for ch in 0 ..< 3 {
                let e = abs(Int(a.pixels[3 * p + ch]) - Int(b.pixels[3 * p + ch]))
                d = max(d, e)
                sum += e
            }
            maxAbs = max(maxAbs, d)
            if d <= pixelTolerance { within += 1 }
            // Reference faded to light grey; differing pixels in red, brighter for bigger differences.
            let grey = UInt8(191 + Int(b.pixels[3 * p]) / 4)
            if d == 0 {
                out[3 * p] = grey; out[3 * p + 1] = grey; out[3 * p + 2] = grey
            } else {
                out[3 * p] = 255; out[3 * p + 1] = UInt8(max(0, 200 - 8 * d)); out[3 * p + 2] = UInt8(max(0, 200 - 8 * d))
            }
        }
        let n = Double(a.width * a.height)
        return Diff(maxAbs: maxAbs, fractionWithin: Double(within) / n, meanAbs: Double(sum) / (3 * n),
                    image: RGBImage(width: a.width, height: a.height, pixels: out))
    }

    /// Renders `figure` at `scale` and checks it against the reference, or rewrites the reference when updating.
    static func check(_ name: String, _ figure: any Figure, scale: Double = 1) throws {
        let path = "\(directory)/\(name).png"
        let png = try FigureWriter.render(figure, format: .png, scale: scale)
        if updating || !FileManager.default.fileExists(atPath: path) {
            try Data(png).write(to: URL(fileURLWithPath: path))
            if !updating { Issue.record("no reference for '\(name)'; wrote \(path): look at it, then commit it") }
            return
        }
        let actual = try CairoPNG.decode(png)
        let expected = try CairoPNG.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        guard actual.width == expected.width, actual.height == expected.height else {
            try Data(png).write(to: URL(fileURLWithPath: "\(directory)/\(name).actual.png"))
            Issue.record("\(name): size \(actual.width)x\(actual.height) differs from the reference \(expected.width)x\(expected.height); wrote \(name).actual.png")
            return
        }
        let d = diff(actual, expected)
        print("GOLDEN \(name): \(d.summary)")
        if !d.passes {
            try Data(png).write(to: URL(fileURLWithPath: "\(directory)/\(name).actual.png"))
            try Data(try CairoPNG.encode(d.image)).write(to: URL(fileURLWithPath: "\(directory)/\(name).diff.png"))
            Issue.record("\(name): \(d.summary); see \(directory)/\(name).diff.png")
        }
    }
}
