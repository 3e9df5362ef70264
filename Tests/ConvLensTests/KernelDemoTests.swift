// The kernel demo's stages against references written from the definitions with numpy (and checked against
// torch.nn.functional where torch has the operation) by Scripts/make_kernel_fixtures.py:
//   conv2d: windows of the zero-padded image, SAME padded as TensorFlow documents it (pad_total split, the extra
//   row/column at the bottom/right); conv_transpose2d: the adjoint of that convolution (TensorFlow's conv2d_transpose,
//   PyTorch's ConvTranspose2d); max/average pooling over pool x pool windows; depth-wise max over groups of
//   depth_pool channels; global average; grey by Pillow's convert("L").
import Engine
import Foundation
import Imaging
import Render
import TensorIO
import TestSupport
import Testing
@testable import ConvLens

private let fixtures = Fixture.root + "/Tests/Fixtures/kernels"

/// Every case the script writes: a kernel file and a folder of expected stages.
private let cases = ["pytorch_valid", "tf_same_valid_stride2", "colour_pad2_stride3", "geron_lines_same", "transpose_stride2",
                     "transpose_colour_k2_stride3", "transpose_even_same"]

@Test(arguments: cases)
func kernelStagesMatchNumpy(_ name: String) throws {
    let spec = try KernelFile.read(fixtures + "/\(name).json")
    let image = try ImageIO.read(fixtures + "/input.png")
    let (w, h) = spec.resizedSize(width: image.width, height: image.height)
    #expect(w == 17 && h == 13, "the fixture's size is its shorter side: no resizing")
    let x = KernelDemo.input(image, channels: spec.channels)                  // (1, C, 13, 17)
    let fields = KernelDemo.record(spec, input: x, KernelDemo.compute(spec, try spec.plan(width: w, height: h, file: name), x))
    let expected = try FileManager.default.contentsOfDirectory(atPath: fixtures + "/" + name).map { String($0.dropLast(4)) }
    #expect(Set(fields.map(\.name)) == Set(expected), "stages \(fields.map(\.name)) vs the fixture's \(expected.sorted())")
    for (field, got) in fields {
        let ref = try NPY.read(fixtures + "/\(name)/\(field).npy")
        #expect(got.shape == ref.shape, "\(name) \(field): \(got.shape) vs \(ref.shape)")
        guard got.shape == ref.shape else { continue }
        // Float32 sums of up to 3·7² products of values up to 1: a few ulps of 20.
        #expect(compare("\(name) \(field)", Tensor(shape: got.shape, data: got.values), Tensor(shape: ref.shape, data: ref.values),
                        tolerance: field == "input" ? 0 : 2e-5))
    }
}

/// A 100000x1 strip once became a 16000000x160 image (7.7 GB); now it is 640x1 and a SAME convolution with a
/// global average runs and draws.
@Test func stripRunsAtItsCappedSize() throws {
    var pixels = [UInt8](repeating: 0, count: 3 * 100_000)                     // (1, 100000, 3)
    for i in 0 ..< pixels.count { pixels[i] = UInt8(i * 7 % 251) }
    let strip = RGBImage(width: 100_000, height: 1, pixels: pixels)
    let spec = try Array(#"{"padding": "same", "pooling": ["global_average", "depth_max"], "kernels": [{"weights": [[1, 0, -1], [2, 0, -2], [1, 0, -1]]}]}"#.utf8)
        .withUnsafeBytes { try KernelFile.parse($0, name: "strip.json") }
    let (w, h) = spec.resizedSize(width: strip.width, height: strip.height)
    #expect(w == 640 && h == 1)
    let x = KernelDemo.input(strip.resized(width: w, height: h), channels: 1)  // (1, 1, 1, 640)
    let columns = KernelDemo.compute(spec, try spec.plan(width: w, height: h, file: "strip.json"), x)
    #expect(columns[0].conv.shape == [1, 1, 1, 640])
    let page = KernelDemo.figure(spec, columns, input: x, title: "strip", perRow: nil, colormap: .viridis)
    print("strip page: \(page.size.width) x \(page.size.height) pt")
    #expect(page.size.width <= 1200 && page.size.height <= KernelDemo.pageHeight)
    #expect(try FigureWriter.render(page, format: .png, scale: 1).count > 1000)
}

/// Every map is drawn at one scale, so a VALID output is narrower than a SAME one and a pooled map half as wide.
@Test func figureDrawsMapsToOneScale() throws {
    let spec = try KernelFile.read(fixtures + "/tf_same_valid_stride2.json")
    let image = try ImageIO.read(fixtures + "/input.png")
    let x = KernelDemo.input(image, channels: 1)
    let columns = KernelDemo.compute(spec, try spec.plan(width: 17, height: 13, file: "f"), x)
    let page = KernelDemo.figure(spec, columns, input: x, title: "t", perRow: nil, colormap: .viridis)
    let body = try #require(page.figures[1] as? Panels)
    let (same, valid) = (try #require(body.figures[0] as? Panels), try #require(body.figures[1] as? Panels))
    let (sameConv, validConv, sameMax) = (try #require(same.figures[0] as? TileGrid), try #require(valid.figures[0] as? TileGrid),
                                          try #require(same.figures[2] as? TileGrid))
    // SAME 9 wide, VALID 7, max pool 4: widths in the same ratio.
    #expect(sameConv.tileWidth == 9 && validConv.tileWidth == 7 && sameMax.tileWidth == 4)
    #expect(abs(sameConv.tileSize! / 9 - validConv.tileSize! / 7) < 1e-9 && abs(sameConv.tileSize! / 9 - sameMax.tileSize! / 4) < 1e-9)
    #expect(body.titles == ["SAME", "VALID"])
    #expect(try FigureWriter.render(page, format: .svg).count > 1000)
}
