/// How a block of values becomes colours.
public enum Scaling: Sendable, Equatable {
    /// Each map's own minimum to maximum spans the colormap.
    case minmax
    /// Keras ("Deep Learning with Python") style: x -= mean; x /= (std + 1e-5); x *= 64; x += 128; clip to
    /// [0, 255]; the result is the colormap index.
    case standardize
    /// One minimum to maximum over all the maps, so they can be compared.
    case shared
    /// A fixed data range: `lo` maps to index 0, `hi` to index 255.
    case range(Float, Float)
}

/// Whether the maps of a grid are coloured each on its own scale or all on one.
public enum TileScale: String, Sendable, CaseIterable {
    /// Each tile's own range (minmax) or moments (standardize): every channel shows its own pattern.
    case each
    /// One range or one mean and deviation over all the tiles: channels compare by strength (a dead channel is
    /// dark, not blank).
    case shared
}

/// Colouring of value blocks; shared by the tile grid, heatmap, strip plot and matrix.
enum Colorize {
    /// Minimum and maximum of the finite values (0, 0 if there are none).
    static func extent(_ v: ArraySlice<Float>) -> (Float, Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for x in v where x.isFinite { lo = min(lo, x); hi = max(hi, x) }
        return lo <= hi ? (lo, hi) : (0, 0)
    }

    /// True when every finite value is equal (a dead channel): drawn as a blank tile.
    static func isConstant(_ v: ArraySlice<Float>) -> Bool {
        let (lo, hi) = extent(v)
        return lo == hi
    }

    /// Colormap indices for `v` mapped linearly from [lo, hi] to [0, 1], quantised like pytorch-grad-cam.
    static func indices(_ v: ArraySlice<Float>, lo: Float, hi: Float) -> [UInt8] {
        let span = hi - lo
        guard span > 0 else { return [UInt8](repeating: 0, count: v.count) }
        return v.map { Colormap.index(($0 - lo) / span) }
    }

    /// Keras-book standardisation, as indices: ((x - mean) / (std + 1e-5)) * 64 + 128, clipped to [0, 255],
    /// truncated like numpy's `astype('uint8')`.
    static func standardized(_ v: ArraySlice<Float>) -> [UInt8] {
        guard !v.isEmpty else { return [] }
        let (mean, std) = moments(v)
        return standardized(v, mean: mean, std: std)
    }

    /// Mean and (population) standard deviation.
    static func moments(_ v: ArraySlice<Float>) -> (mean: Float, std: Float) {
        let n = Float(max(v.count, 1))
        var mean: Float = 0
        for x in v { mean += x }
        mean /= n
        var variance: Float = 0
        for x in v { variance += (x - mean) * (x - mean) }
        return (mean, (variance / n).squareRoot())
    }

    /// Keras-book standardisation with a given mean and standard deviation (e.g. those of a whole tile grid).
    static func standardized(_ v: ArraySlice<Float>, mean: Float, std: Float) -> [UInt8] {
        v.map { x in
            let y = (x - mean) / (std + 1e-5) * 64 + 128
            return y.isNaN ? 0 : UInt8(min(max(y, 0), 255))
        }
    }

    /// Indices under a scaling; `shared` needs the global extent passed in.
    static func indices(_ v: ArraySlice<Float>, scaling: Scaling, shared: (Float, Float)) -> [UInt8] {
        switch scaling {
        case .minmax:
            let (lo, hi) = extent(v)
            return indices(v, lo: lo, hi: hi)
        case .standardize:
            return standardized(v)
        case .shared:
            return indices(v, lo: shared.0, hi: shared.1)
        case let .range(lo, hi):
            return indices(v, lo: lo, hi: hi)
        }
    }

    /// (N, 3) RGB8 rows for the indices.
    static func rgb(_ idx: [UInt8], _ cmap: Colormap) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: idx.count * 3)
        cmap.table.withUnsafeBufferPointer { t in
            for (i, k) in idx.enumerated() {
                let j = Int(k) * 3
                out[3 * i] = t[j]; out[3 * i + 1] = t[j + 1]; out[3 * i + 2] = t[j + 2]
            }
        }
        return out
    }

    /// A display size for an image `native` pixels across, near `target` points: a whole multiple of the
    /// native size when enlarging (every source pixel the same number of points), `target` itself when shrinking.
    static func snap(native: Int, target: Double) -> Double {
        let n = Double(native)
        guard n > 0 else { return target }
        return target >= n ? (target / n).rounded(.down) * n : target.rounded(.down)
    }
}
