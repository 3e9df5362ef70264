import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// `convlens activations --kernel FILE.json`: the textbook demonstration of what a convolution does, as the PyTorch
/// (Udacity's conv_visualization) and TensorFlow (Géron, chapter 14) tutorials show it. User-given kernels run on a
/// grey (k x k kernels) or colour (3 x k x k) image; the figure shows the input, the kernels with their numbers,
/// the convolution's output (plain or transposed, with a padding and a stride), the ReLU's, and each pooling kind's.
/// `KernelFile.documentation` describes the file; `KernelFile` validates it and plans every shape and the memory
/// before anything is computed.
public enum KernelDemo {
    /// The kernel file's format and the raw file's layout, for `--help`.
    public static let help = KernelFile.documentation + """


        With --raw F.npy, F holds every stage as one numpy record: r = np.load(F);
        r["input"] (C, H, W), r["kernels"] (N, C, k, k), r["conv"] and r["relu"]
        (N, Ho, Wo), and one field per pooling kind ("max", "average", "depth_max",
        "global_average"); with several paddings, fields are prefixed "same.",
        "valid." or "pad<p>." (r["same.conv"]).
        """

    /// What one padding's run produced.
    public struct Column {
        public var plan: KernelFile.Column
        public var conv: Tensor                              // (1, N, Ho, Wo)
        public var relu: Tensor                              // (1, N, Ho, Wo)
        public var pooled: [(kind: KernelFile.Pooling, output: Tensor)]
    }

    /// Reads the kernels and the image, runs the pipeline, and writes the figure (and the raw stages).
    /// - Parameters:
    ///   - image: a PNG or JPEG.
    ///   - kernelFile: the JSON kernel file.
    ///   - out: the figure's path (Reports/<image>_kernels.png by default).
    ///   - raw: where to save every stage as one .npy record, or nil.
    ///   - perRow: tiles per row (default: the number of kernels, at most 8).
    /// - Returns: the paths written.
    public static func run(image path: String, kernelFile: String, out: String?, raw: String?, perRow: Int?, colormap: Colormap,
                           scale: Double, maxPixels: Int) throws -> [String] {
        let target = try Outputs.figurePath(out, or: Environment.defaultOutput(for: path, suffix: "kernels"), with: [("--raw", raw)])
        let format = try Outputs.figureFormat(target)

        let spec = try KernelFile.read(kernelFile)
        let original = try ImageIO.read(path, maxPixels: maxPixels)
        let (w, h) = spec.resizedSize(width: original.width, height: original.height)
        let plan = try spec.plan(width: w, height: h, file: kernelFile)
        let img = (w, h) == (original.width, original.height) ? original : original.resized(width: w, height: h)
        let x = input(img, channels: spec.channels)          // (1, C, H, W)
        let columns = compute(spec, plan, x)

        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let fig = figure(spec, columns, input: x, title: spec.title ?? "\(stem): hand-made kernels", perRow: perRow, colormap: colormap)
        let figureBytes = try FigureWriter.render(fig, format: format, scale: scale)
        let rawBytes = raw.map { _ in NPY.encodeRecord(record(spec, input: x, columns)) }
        if let raw, let rawBytes { try AtomicFile.write(rawBytes, to: raw) }
        do {
            try AtomicFile.write(figureBytes, to: target)
        } catch {
            if let raw { unlink(raw) }                       // both files or neither
            throw error
        }
        return [target] + (raw.map { [$0] } ?? [])
    }

    /// The image as the kernels see it: RGB (C = 3) or Pillow's "L" grey (C = 1), scaled to [0, 1].
    /// - Returns: (1, C, H, W).
    public static func input(_ img: RGBImage, channels: Int) -> Tensor {
        let (h, w) = (img.height, img.width)
        var x = Tensor(zeros: [1, channels, h, w])           // (1, C, H, W)
        for p in 0 ..< h * w {
            let (r, g, b) = (Int(img.pixels[3 * p]), Int(img.pixels[3 * p + 1]), Int(img.pixels[3 * p + 2]))
            if channels == 3 {
                x.data[p] = Float(r) / 255; x.data[h * w + p] = Float(g) / 255; x.data[2 * h * w + p] = Float(b) / 255
            } else {
                // Pillow's ImagingConvert RGB to L: (R·19595 + G·38470 + B·7471 + 0x8000) >> 16.
                x.data[p] = Float((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255
            }
        }
        return x
    }

    /// Every stage as the raw file holds them: "input" (C, H, W), "kernels" (N, C, k, k), then per padding
    /// "conv", "relu" and one field per pooling kind, named as in the file ("max", "depth_max", ...), each
    /// prefixed "same.", "valid." or "pad<p>." when the file lists several paddings.
    static func record(_ spec: KernelFile, input x: Tensor, _ columns: [Column]) -> [(name: String, tensor: TensorData)] {
        let (c, k) = (spec.channels, spec.kernelSize)
        var fields: [(name: String, tensor: TensorData)] = [
            ("input", TensorData(shape: Array(x.shape.dropFirst()), values: x.data)),
            ("kernels", TensorData(shape: [spec.kernels.count, c, k, k], values: spec.kernels.flatMap(\.weights))),
        ]
        for col in columns {
            let prefix: String
            switch col.plan.padding {
            case _ where columns.count == 1: prefix = ""
            case .same: prefix = "same."
            case .valid: prefix = "valid."
            case let .zeros(p): prefix = "pad\(p)."
            }
            func field(_ name: String, _ t: Tensor) { fields.append((prefix + name, TensorData(shape: Array(t.shape.dropFirst()), values: t.data))) }
            field("conv", col.conv)
            field("relu", col.relu)
            for (kind, t) in col.pooled { field(kind.rawValue, t) }
        }
        return fields
    }
}
