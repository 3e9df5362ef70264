import Foundation
import Imaging
@testable import Render

/// Small deterministic inputs for the golden images; no randomness beyond a fixed linear congruential stream.
enum Fixtures {
    /// A reproducible stream of floats in [0, 1).
    struct LCG {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
    }

    /// (N, H, W) smooth blobs, one per tile, with tile 3 constant (a dead channel).
    static func blobs(count: Int, height: Int, width: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count * height * width)  // (N, H, W)
        for i in 0 ..< count where i != 3 {
            let cx = Float((i * 5) % width), cy = Float((i * 3) % height), s = Float(1 + i % 4)
            for y in 0 ..< height {
                for x in 0 ..< width {
                    let dx = Float(x) - cx, dy = Float(y) - cy
                    out[(i * height + y) * width + x] = exp(-(dx * dx + dy * dy) / (2 * s * s)) * Float(i + 1) - 0.1 * Float(x)
                }
            }
        }
        return out
    }

    /// A 32x24 RGB image: a sky gradient with a dark square, so overlays have something to sit on.
    static func photo(width: Int = 32, height: Int = 24) -> RGBImage {
        var px = [UInt8](repeating: 0, count: width * height * 3)  // (H, W, 3)
        for y in 0 ..< height {
            for x in 0 ..< width {
                let i = 3 * (y * width + x)
                let inSquare = x >= width / 3 && x < 2 * width / 3 && y >= height / 3 && y < 5 * height / 6
                px[i] = inSquare ? 60 : UInt8(120 + 96 * y / height)
                px[i + 1] = inSquare ? 40 : UInt8(160 + 72 * y / height)
                px[i + 2] = inSquare ? 30 : UInt8(230 - 32 * x / width)
            }
        }
        return RGBImage(width: width, height: height, pixels: px)
    }

    /// (H, W) heat in [0, 1]: a bump centred on the dark square.
    static func heat(width: Int = 32, height: Int = 24) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        for y in 0 ..< height {
            for x in 0 ..< width {
                let dx = (Float(x) - Float(width) / 2) / Float(width) * 4, dy = (Float(y) - Float(height) * 0.6) / Float(height) * 4
                out[y * width + x] = exp(-(dx * dx + dy * dy))
            }
        }
        return out
    }

    /// The 3x3 Sobel kernels, x then y: (2, 3, 3).
    static let sobel: [Float] = [-1, 0, 1, -2, 0, 2, -1, 0, 1,
                                 -1, -2, -1, 0, 0, 0, 1, 2, 1]
}
