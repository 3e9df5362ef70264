import Engine
import Foundation
import Imaging

/// An input image, decoded, cropped and preprocessed for a model.
public struct PreparedImage {
    public let path: String
    /// The model's view of it: resized and centre-cropped, (S, S) RGB.
    public let crop: RGBImage
    /// The crop in the model's input space, (3, S, S).
    public let tensor: [Float]
}

/// Decodes and prepares a set of images before any work is done.
public enum ImageBatch {
    /// Reads every image; the first that fails stops everything, naming the file, unless `skipUnreadable` is set,
    /// in which case the failures are returned beside the images that worked.
    /// - Parameters:
    ///   - paths: image files (PNG or JPEG).
    ///   - preprocessing: the model's recipe.
    ///   - maxPixels: the largest image accepted (decompression-bomb guard).
    public static func prepare(_ paths: [String], _ preprocessing: Preprocessing, maxPixels: Int = ImageIO.defaultMaxPixels,
                               skipUnreadable: Bool = false) throws -> (images: [PreparedImage], skipped: [(String, Error)]) {
        var images: [PreparedImage] = [], skipped: [(String, Error)] = []
        for path in paths {
            do {
                let crop = preprocessing.prepare(try ImageIO.read(path, maxPixels: maxPixels))
                images.append(PreparedImage(path: path, crop: crop, tensor: preprocessing.tensor(crop)))
            } catch {
                if !skipUnreadable { throw error }
                skipped.append((path, error))
            }
        }
        return (images, skipped)
    }

    /// Stacks prepared images into one batch, (N, 3, S, S).
    public static func tensor(_ images: [PreparedImage]) -> Tensor {
        let s = images[0].crop.height, w = images[0].crop.width
        return Tensor(shape: [images.count, 3, s, w], data: images.flatMap(\.tensor))
    }
}
