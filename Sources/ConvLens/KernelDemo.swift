import Engine
import Foundation
import Imaging
import Render
import Support

/// `convlens activations --kernel FILE.json`: the textbook demonstration of what a convolution does. User-given
/// kernels run on a grey (2-D kernels) or colour (3 x k x k kernels) image; the figure shows, for each kernel, the
/// kernel with its numbers, the convolution's output, the ReLU's output and the max-pooled output.
///
/// The file: {"title": "...", "size": 160, "stride": 1, "padding": 0, "pool": 2,
///            "kernels": [{"name": "vertical edge", "weights": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], "bias": 0}, ...]}
/// `size` is the image's shorter side after resizing (Pillow bilinear); pixels are scaled to [0, 1]; grey is
/// Pillow's "L" conversion (0.299 R + 0.587 G + 0.114 B).
public enum KernelDemo {
    struct Spec: Decodable {
        struct Kernel: Decodable {
            let name: String?
            let weights: Weights
            let bias: Float?
        }
        /// Either k x k (grey) or 3 x k x k (colour).
        enum Weights: Decodable {
            case grey([[Float]]), colour([[[Float]]])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let g = try? c.decode([[Float]].self) { self = .grey(g) } else { self = .colour(try c.decode([[[Float]]].self)) }
            }
        }
        let title: String?
        let size: Int?
        let stride: Int?
        let padding: Int?
        let pool: Int?
        let kernels: [Kernel]
    }

    /// Reads the kernels, runs them and writes the figure.
    /// - Returns: the path written.
    public static func run(image path: String, kernelFile: String, out: String?, perRow: Int?, colormap: String,
                           scale: Double, maxPixels: Int) throws -> String {
        guard let data = FileManager.default.contents(atPath: kernelFile) else { throw FileError(path: kernelFile, message: "no such file") }
        let spec: Spec
        do { spec = try JSONDecoder().decode(Spec.self, from: data) } catch {
            throw FileError(path: kernelFile, message: "not a kernel file: expected {\"kernels\": [{\"name\": ..., \"weights\": [[...]]}, ...]}")
        }
        guard !spec.kernels.isEmpty else { throw FileError(path: kernelFile, message: "has no kernels") }
        // Every kernel must have the same kind and a square k x k shape.
        let colour: Bool, k: Int
        switch spec.kernels[0].weights {
        case let .grey(g): colour = false; k = g.count
        case let .colour(c): colour = true; k = c.first?.count ?? 0
        }
        var flat: [Float] = []                                                     // (K, C, k, k)
        for (i, kern) in spec.kernels.enumerated() {
            let planes: [[[Float]]]
            switch kern.weights {
            case let .grey(g) where !colour: planes = [g]
            case let .colour(c) where colour && c.count == 3: planes = c
            default: throw FileError(path: kernelFile, message: "kernel \(i) mixes grey (k x k) and colour (3 x k x k) weights")
            }
            for p in planes {
                guard p.count == k, p.allSatisfy({ $0.count == k }), k > 0 else {
                    throw FileError(path: kernelFile, message: "kernel \(i) is not \(k)x\(k) like the first one")
                }
                flat += p.flatMap { $0 }
            }
        }
        let channels = colour ? 3 : 1, n = spec.kernels.count
        let conv = Conv2d(channels, n, kernel: k, stride: spec.stride ?? 1, padding: spec.padding ?? 0)
        conv.weight = Tensor(shape: [n, channels, k, k], data: flat)
        conv.bias = Tensor(shape: [n], data: spec.kernels.map { $0.bias ?? 0 })

        let img = try ImageIO.read(path, maxPixels: maxPixels).resizedShorterSide(to: spec.size ?? 160)
        let (h, w) = (img.height, img.width)
        var x = Tensor(zeros: [1, channels, h, w])
        for p in 0 ..< h * w {
            let (r, g, b) = (Float(img.pixels[3 * p]), Float(img.pixels[3 * p + 1]), Float(img.pixels[3 * p + 2]))
            if colour {
                x.data[p] = r / 255; x.data[h * w + p] = g / 255; x.data[2 * h * w + p] = b / 255
            } else {
                x.data[p] = ((r * 299 + g * 587 + b * 114) / 1000).rounded() / 255
            }
        }
        var y = Tensor(zeros: [0]), r = Tensor(zeros: [0]), pooled = Tensor(zeros: [0])
        do { _ = try conv.outputShape([x.shape]) } catch { throw FileError(path: kernelFile, message: "kernels do not fit the image: \(error)") }
        conv.forward([x], &y)
        ActivationLayer(.relu).forward([y], &r)
        let pool = MaxPool2d(kernel: spec.pool ?? 2)
        pool.forward([r], &pooled)

        let names = spec.kernels.enumerated().map { $0.element.name ?? "kernel \($0.offset)" }
        let cm = try usage { try Colormap.named(colormap) }
        func grid(_ t: Tensor, labels: [String]) -> TileGrid {
            var g = TileGrid(values: t.data, count: t.count / (t.shape[2] * t.shape[3]), height: t.shape[2], width: t.shape[3],
                             columns: perRow ?? min(t.count / (t.shape[2] * t.shape[3]), 8))
            g.captions = .labels(labels)
            g.colormap = cm
            return g
        }
        var filters = grid(conv.weight.reshaped([n * channels, 1, k, k]),
                           labels: colour ? names.flatMap { name in ["R", "G", "B"].map { "\(name) \($0)" } } : names)
        filters.showValues = true
        filters.colormap = .gray
        filters.tileSize = Double(max(48, 14 * k))
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let target = try out ?? Environment.defaultOutput(for: path, suffix: "kernels")
        let figure = Panels([filters, grid(y, labels: names), grid(r, labels: names), grid(pooled, labels: names)], columns: 1,
                            titles: ["kernels", "convolution (\(y.shape[2])×\(y.shape[3]))", "ReLU",
                                     "max pool \(pool.kernel)×\(pool.kernel) (\(pooled.shape[2])×\(pooled.shape[3]))"],
                            title: spec.title ?? "\(stem): hand-made kernels")
        try FigureWriter.write(figure, to: target, scale: scale)
        return target
    }
}
