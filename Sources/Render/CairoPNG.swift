import CCairo
import Imaging

/// PNG decoding and encoding through cairo, for golden-image tests and raster figures; the Imaging target owns
/// the general-purpose codecs.
enum CairoPNG {
    /// Decodes a PNG (any colour type cairo reads) into RGB, compositing alpha over white.
    static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        let source = Source(bytes)
        let surface = withExtendedLifetime(source) {
            cairo_image_surface_create_from_png_stream(readPNG, Unmanaged.passUnretained(source).toOpaque())!
        }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw RenderError.cairo("PNG decode failed: \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
        // Flatten onto white in ARGB32 so any source format reads the same way.
        let w = cairo_image_surface_get_width(surface), h = cairo_image_surface_get_height(surface)
        let flat = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h)!
        defer { cairo_surface_destroy(flat) }
        let cr = cairo_create(flat)!
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_set_source_surface(cr, surface, 0, 0)
        cairo_paint(cr)
        cairo_destroy(cr)
        cairo_surface_flush(flat)
        return rgb(of: flat)
    }

    /// Encodes an RGB image as PNG.
    static func encode(_ image: RGBImage) throws -> [UInt8] {
        try FigureWriter.render(RasterFigure(image: image), format: .png, scale: 1)
    }

    /// The pixels of an RGB24 or ARGB32 image surface, ignoring alpha.
    static func rgb(of surface: OpaquePointer) -> RGBImage {
        let w = Int(cairo_image_surface_get_width(surface)), h = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var px = [UInt8](repeating: 0, count: w * h * 3)  // (H, W, 3)
        for y in 0 ..< h {
            let row = UnsafeRawPointer(data + y * stride).bindMemory(to: UInt32.self, capacity: w)
            for x in 0 ..< w {
                let v = row[x], i = 3 * (y * w + x)
                px[i] = UInt8(truncatingIfNeeded: v >> 16); px[i + 1] = UInt8(truncatingIfNeeded: v >> 8); px[i + 2] = UInt8(truncatingIfNeeded: v)
            }
        }
        return RGBImage(width: w, height: h, pixels: px)
    }

    private final class Source {
        let bytes: [UInt8]
        var offset = 0
        init(_ b: [UInt8]) { bytes = b }
    }

    private static let readPNG: cairo_read_func_t = { closure, data, length in
        let src = Unmanaged<Source>.fromOpaque(closure!).takeUnretainedValue()
        let n = Int(length)
        guard src.offset + n <= src.bytes.count, let data else { return CAIRO_STATUS_READ_ERROR }
        src.bytes.withUnsafeBufferPointer { b in data.update(from: b.baseAddress! + src.offset, count: n) }
        src.offset += n
        return CAIRO_STATUS_SUCCESS
    }
}

/// An image drawn at one point per pixel, no margin: the page is the image.
struct RasterFigure: Figure {
    var image: RGBImage
    var size: Size { Size(width: Double(image.width), height: Double(image.height)) }
    func draw(_ c: Canvas) { c.image(image, in: Rect(x: 0, y: 0, width: size.width, height: size.height), smooth: false) }
}
