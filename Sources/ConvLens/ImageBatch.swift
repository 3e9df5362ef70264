import Engine
import Foundation
import Imaging

/// An input image, decoded, fitted to the model's input and preprocessed.
public struct PreparedImage {
    public let path: String
    /// The model's view of it: (S, S) RGB, centre-cropped or squashed.
    public let crop: RGBImage
    /// The crop in the model's input space, (3, S, S).
    public let tensor: [Float]
    /// The decoded photo at its own size, when asked for (figures over the whole photo).
    public let photo: RGBImage?
    /// The photo's size in pixels.
    public let photoSize: (width: Int, height: Int)
    /// Where `crop` lies in the photo, in the photo's pixels.
    public let region: InputRegion
}

/// Decodes and prepares a set of images before any work is done.
public enum ImageBatch {
    /// Reads every image; the first that fails stops everything, naming the file, unless `skipUnreadable` is set,
    /// in which case the failures are returned beside the images that worked.
    /// - Parameters:
    ///   - paths: image files (PNG or JPEG).
    ///   - preprocessing: the model's recipe.
    ///   - fit: crop or squash; the preprocessing's default when nil.
    ///   - keepPhotos: keep each decoded photo beside its crop (it costs W x H x 3 bytes per image).
    ///   - maxPixels: the largest image accepted (decompression-bomb guard).
    public static func prepare(_ paths: [String], _ preprocessing: Preprocessing, fit: Fit? = nil, keepPhotos: Bool = false,
                               maxPixels: Int = ImageIO.defaultMaxPixels,
                               skipUnreadable: Bool = false) throws -> (images: [PreparedImage], skipped: [(String, Error)]) {
        var images: [PreparedImage] = [], skipped: [(String, Error)] = []
        for path in paths {
            do {
                images.append(prepare(try ImageIO.read(path, maxPixels: maxPixels), path: path, preprocessing, fit: fit, keepPhotos: keepPhotos))
            } catch {
                if !skipUnreadable { throw error }
                skipped.append((path, error))
            }
        }
        return (images, skipped)
    }

    /// Fits a decoded photo to the model's input and preprocesses it.
    public static func prepare(_ photo: RGBImage, path: String, _ preprocessing: Preprocessing, fit: Fit?, keepPhotos: Bool) -> PreparedImage {
        let (crop, region) = preprocessing.prepare(photo, fit: fit ?? preprocessing.defaultFit)
        return PreparedImage(path: path, crop: crop, tensor: preprocessing.tensor(crop), photo: keepPhotos ? photo : nil,
                             photoSize: (photo.width, photo.height), region: region)
    }

    /// Stacks prepared images into one batch, (N, 3, S, S).
    public static func tensor(_ images: [PreparedImage]) -> Tensor {
        let s = images[0].crop.height, w = images[0].crop.width
        return Tensor(shape: [images.count, 3, s, w], data: images.flatMap(\.tensor))
    }
}
