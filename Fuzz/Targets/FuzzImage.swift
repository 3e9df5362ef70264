// Fuzz target: the image-decoder wrappers. Arbitrary bytes go through format sniffing, the header probe, the pixel
// limit, libpng/libjpeg behind the C shims, and (when they decode) the model's resize and centre crop.
#if !FUZZING
import Imaging
#endif

/// The pixel limit while fuzzing: small enough that a hostile header costs little per run, large enough for every
/// seed. The limit itself is tested in ImagingTests and in the CLI catalogue.
let fuzzMaxPixels = 1 << 22

/// Decodes `data` as an image file and prepares it for SqueezeNet; either step may refuse, none may trap.
/// - Parameters:
///   - data: the bytes of a would-be PNG or JPEG file.
func fuzzImage(_ data: UnsafeRawBufferPointer) {
    let bytes = Array(data)
    _ = try? ImageIO.probe(bytes, name: "fuzz")
    guard let image = try? ImageIO.decode(bytes, name: "fuzz", maxPixels: fuzzMaxPixels) else { return }
    let crop = Preprocessing.caffe.prepare(image)
    precondition(crop.width == 227 && crop.height == 227, "prepare gave \(crop.width)x\(crop.height)")
}
