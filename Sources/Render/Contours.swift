/// Iso-lines of a scalar field by marching squares.
public enum Contours {
    /// Line segments where the field crosses `level`.
    /// - Parameters:
    ///   - values: (H, W) samples, taken at pixel centres.
    ///   - width: W.
    ///   - height: H.
    ///   - level: the iso-value.
    /// - Returns: segments (x0, y0, x1, y1) in pixel units, with pixel (x, y)'s centre at (x + 0.5, y + 0.5).
    public static func segments(_ values: [Float], width: Int, height: Int, level: Float) -> [(Double, Double, Double, Double)] {
        precondition(values.count == width * height, "Contours: \(values.count) values do not fill (H, W) = (\(height), \(width))")
        var out: [(Double, Double, Double, Double)] = []
        guard width > 1, height > 1 else { return out }
        for y in 0 ..< height - 1 {
            for x in 0 ..< width - 1 {
                // Corners in order: top-left, top-right, bottom-right, bottom-left.
                let v = [values[y * width + x], values[y * width + x + 1], values[(y + 1) * width + x + 1], values[(y + 1) * width + x]]
                let corner = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
                var code = 0
                for k in 0 ..< 4 where v[k] >= level { code |= 1 << k }
                guard code != 0 && code != 15 else { continue }
                // The crossing point on edge k (from corner k to corner k+1).
                func cross(_ k: Int) -> (Double, Double) {
                    let a = v[k], b = v[(k + 1) % 4]
                    let t = a == b ? 0.5 : Double((level - a) / (b - a))
                    let p = corner[k], q = corner[(k + 1) % 4]
                    return (Double(x) + 0.5 + p.0 + (q.0 - p.0) * t, Double(y) + 0.5 + p.1 + (q.1 - p.1) * t)
                }
                // Edges that the line crosses: those whose two corners are on different sides.
                var edges: [Int] = []
                for k in 0 ..< 4 where ((code >> k) & 1) != ((code >> ((k + 1) % 4)) & 1) { edges.append(k) }
                if edges.count == 2 {
                    let a = cross(edges[0]), b = cross(edges[1])
                    out.append((a.0, a.1, b.0, b.1))
                } else {
                    // Saddle (two opposite corners above): resolve with the centre value.
                    let centre = (v[0] + v[1] + v[2] + v[3]) / 4
                    let pairs = (centre >= level) == ((code & 1) != 0) ? [(0, 1), (2, 3)] : [(3, 0), (1, 2)]
                    for (e0, e1) in pairs {
                        let a = cross(e0), b = cross(e1)
                        out.append((a.0, a.1, b.0, b.1))
                    }
                }
            }
        }
        return out
    }
}
