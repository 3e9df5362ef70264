import Engine
import Imaging
import Render
import TensorIO

extension KernelDemo {
    /// The width the tiles of one row fill, in points.
    static let pageWidth = 1100.0
    /// The tallest page drawn, in points: a PNG at scale 2 stays inside cairo's 32767 pixels.
    static let pageHeight = 14000.0
    /// The widest one map is drawn, in points.
    static let mapWidth = 360.0

    /// The input and kernels on top, then one column per padding: the convolution, the ReLU and each pooling, one
    /// section each. Every map is drawn at one scale (points per pixel) across the page, so sizes compare: a VALID
    /// output is visibly smaller than a SAME one, a 2x2 pooling half as wide as its input.
    static func figure(_ spec: KernelFile, _ columns: [Column], input x: Tensor, title: String, perRow: Int?,
                       colormap: Colormap) -> Panels {
        let k = min(perRow ?? 8, spec.kernels.count)
        let widest = max(x.shape[3], columns.map { $0.conv.shape[3] }.max() ?? 1)
        let room = pageWidth / Double(columns.count) - 2 * Style.margin - Double(k - 1) * 6
        var scale = min(2, mapWidth / Double(widest), room / Double(k * widest))
        var page = layout(spec, columns, input: x, title: title, perRow: k, scale: scale, colormap: colormap)
        for _ in 0 ..< 3 where page.size.height > pageHeight {   // too tall: shrink the maps, the text keeps its size
            scale *= pageHeight / page.size.height * 0.95
            page = layout(spec, columns, input: x, title: title, perRow: k, scale: scale, colormap: colormap)
        }
        return page
    }

    /// The page with maps drawn at `scale` points per pixel.
    static func layout(_ spec: KernelFile, _ columns: [Column], input x: Tensor, title: String, perRow k: Int, scale: Double,
                       colormap: Colormap) -> Panels {
        let names = spec.kernels.map(\.name)
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])

        // The header's grids carry their own titles, which widen them to fit (a Panels title would be cut to the grid).
        var picture = ImageGrid(images: [picture(x)], columns: 1, title: "input · \(c == 3 ? "RGB" : "grey") \(w)×\(h)")
        picture.tileSize = Double(w) * scale
        let q = spec.kernelSize
        var kernels = TileGrid(values: spec.kernels.flatMap(\.weights), count: spec.kernels.count * c, height: q, width: q,
                               columns: c == 3 ? 3 : k)
        kernels.captions = .labels(c == 3 ? names.flatMap { n in ["R", "G", "B"].map { "\(n) \($0)" } } : names)
        kernels.colormap = .gray
        kernels.showValues = q <= 9
        kernels.tileSize = q <= 9 ? Double(max(48, 14 * q)) : Double(min(160, max(48, 4 * q)))
        kernels.title = "kernels · \(c == 3 ? "3×" : "")\(q)×\(q)"
        let header = Panels([picture, kernels], columns: 2)

        let sections = columns.map { col -> Panels in
            var grids: [TileGrid] = [], titles: [String] = []
            func add(_ t: Tensor, _ title: String, labels: [String], fixed: Double? = nil) {
                let (n, th, tw) = (t.shape[1], t.shape[2], t.shape[3])
                var g = TileGrid(values: t.data, count: n, height: th, width: tw, columns: min(k, n))
                g.captions = .labels(labels)
                g.colormap = colormap
                g.tileSize = fixed ?? Double(tw) * scale
                if fixed != nil { g.showValues = true; g.scaling = .shared }
                grids.append(g)
                titles.append("\(title) · \(t.shape.dropFirst().map(String.init).joined(separator: "×"))")
            }
            let kind = spec.transpose ? "transposed convolution" : "convolution"
            add(col.conv, "\(kind) · \(col.plan.padding), stride \(spec.stride)", labels: names)
            add(col.relu, "ReLU", labels: names)
            for (pooling, t) in col.pooled {
                switch pooling {
                case .max: add(t, "max pool \(spec.pool)×\(spec.pool)", labels: names)
                case .average: add(t, "average pool \(spec.pool)×\(spec.pool)", labels: names)
                case .depthMax:
                    let d = spec.depthPool
                    let groups = (0 ..< names.count / d).map { d == 1 ? names[$0] : "\(names[$0 * d]) … \(names[$0 * d + d - 1])" }
                    add(t, "depth-wise max over \(d) channel\(d == 1 ? "" : "s")", labels: groups)
                case .globalAverage: add(t, "global average", labels: names, fixed: 56)
                }
            }
            return Panels(grids, columns: 1, titles: titles)
        }
        let body = sections.count == 1
            ? sections[0] : Panels(sections, columns: sections.count, titles: columns.map { "\($0.plan.padding)" })
        return Panels([header, body], columns: 1, title: title)
    }

    /// The input as a picture: RGB, or grey in all three channels.
    /// - Parameters:
    ///   - x: (1, C, H, W) in [0, 1].
    static func picture(_ x: Tensor) -> RGBImage {
        let (c, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        var px = [UInt8](repeating: 0, count: 3 * plane)     // (H, W, 3)
        for p in 0 ..< plane {
            for ch in 0 ..< 3 { px[3 * p + ch] = UInt8((x.data[(c == 3 ? ch : 0) * plane + p] * 255).rounded()) }
        }
        return RGBImage(width: x.shape[3], height: x.shape[2], pixels: px)
    }
}
