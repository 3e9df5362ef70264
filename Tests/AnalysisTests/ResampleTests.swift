import Testing
import Engine
import Resampling
import TestSupport

/// Bilinear resizing against OpenCV and PyTorch. Fixtures from Scripts/make_fixtures.py, group "resize":
///     m = rng.random((5, 7), dtype=np.float32)
///     cv2.resize(m, (23, 17)); cv2.resize(m, (4, 3))
///     torch.nn.UpsamplingBilinear2d(size=(17, 23))(torch.from_numpy(m)[None, None])
@Suite struct ResampleTests {
    @Test func matchesOpenCVAndTorch() throws {
        let src = try Fixture.load("resize_source")
        let up = Resample.bilinear(src.data, h: 5, w: 7, outH: 17, outW: 23)
        #expect(compare("cv2 resize 5x7 -> 17x23", Tensor(shape: [17, 23], data: up), try Fixture.load("resize_cv2_17x23"), tolerance: 1e-5))
        let down = Resample.bilinear(src.data, h: 5, w: 7, outH: 3, outW: 4)
        #expect(compare("cv2 resize 5x7 -> 3x4", Tensor(shape: [3, 4], data: down), try Fixture.load("resize_cv2_3x4"), tolerance: 1e-5))
        let aligned = Resample.bilinear(src.data, h: 5, w: 7, outH: 17, outW: 23, alignCorners: true)
        #expect(compare("torch UpsamplingBilinear2d", Tensor(shape: [17, 23], data: aligned),
                        try Fixture.load("resize_torch_aligned_17x23"), tolerance: 1e-5))
    }
}
