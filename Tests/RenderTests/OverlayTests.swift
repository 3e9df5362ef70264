import Imaging
import Testing
@testable import Render

@Suite struct OverlayTests {
    /// import numpy as np, cv2
    /// jet = cv2.applyColorMap(np.arange(256, dtype=np.uint8), cv2.COLORMAP_JET).reshape(256, 3)[:, ::-1]
    /// img = np.array([[[100, 50, 200], [10, 20, 30], [255, 255, 255]]], dtype=np.uint8)
    /// heat = np.array([[0.0, 1.0, 0.5]], dtype=np.float32)
    /// np.round(0.6 * img + 0.4 * jet[np.uint8(255 * heat)]).astype(np.uint8).reshape(-1).tolist()
    @Test func blendIsExact() {
        let image = RGBImage(width: 3, height: 1, pixels: [100, 50, 200, 10, 20, 30, 255, 255, 255])
        let out = Overlay.blend(image: image, heat: [0, 1, 0.5])
        #expect(out.pixels == [60, 30, 171, 57, 12, 18, 203, 255, 205])
        #expect(Overlay.blend(image: image, heat: [0, 1, 0.5], alpha: 0) == image)
    }

    /// cv2.resize(np.array([[0, 1], [2, 4]], np.float32), (4, 4), interpolation=cv2.INTER_LINEAR)
    /// cv2.resize(np.arange(6, dtype=np.float32).reshape(2, 3), (5, 3), interpolation=cv2.INTER_LINEAR)
    @Test func resizeMatchesOpenCVBilinear() {
        let a = Heatmap(width: 2, height: 2, values: [0, 1, 2, 4]).resized(width: 4, height: 4)
        let ea: [Float] = [0.0, 0.25, 0.75, 1.0, 0.5, 0.8125, 1.4375, 1.75, 1.5, 1.9375, 2.8125, 3.25, 2.0, 2.5, 3.5, 4.0]
        let b = Heatmap(width: 3, height: 2, values: [0, 1, 2, 3, 4, 5]).resized(width: 5, height: 3)
        let eb: [Float] = [0.0, 0.4, 1.0, 1.6, 2.0, 1.5, 1.9, 2.5, 3.1, 3.5, 3.0, 3.4, 4.0, 4.6, 5.0]
        let maxdiff = max(zip(a.values, ea).map { abs($0 - $1) }.max()!, zip(b.values, eb).map { abs($0 - $1) }.max()!)
        print("RESIZE OK, maxdiff \(maxdiff)")
        #expect(maxdiff < 1e-5)
    }

    /// A single peak at the centre of a 3x3 field: the 0.5 iso-line is a diamond through the edge midpoints.
    @Test func contourAroundAPeak() {
        let segs = Contours.segments([0, 0, 0, 0, 1, 0, 0, 0, 0], width: 3, height: 3, level: 0.5)
        #expect(segs.count == 4)
        for s in segs {
            for (x, y) in [(s.0, s.1), (s.2, s.3)] {
                // Pixel centres are at +0.5; the peak's centre is (1.5, 1.5); crossings are half a pixel away.
                #expect(abs(abs(x - 1.5) + abs(y - 1.5) - 0.5) < 1e-9)
            }
        }
        #expect(Contours.segments([Float](repeating: 1, count: 9), width: 3, height: 3, level: 0.5).isEmpty)
    }

    @Test func goldenOverlay() throws {
        var o = Overlay(image: Fixtures.photo(), heat: Heatmap(width: 8, height: 6, values: Fixtures.heat(width: 8, height: 6)))
        o.caption = "tabby cat (281)  p = 0.83  ·  Grad-CAM @ fire9"
        o.contourLevels = [0.5]
        o.displayWidth = 128
        try Golden.check("overlay", o)
    }

    @Test func goldenOverlayPanel() throws {
        var o = Overlay(image: Fixtures.photo(), heat: Heatmap(width: 8, height: 6, values: Fixtures.heat(width: 8, height: 6)))
        o.caption = "кошка (281)  p = 0.83  ·  Grad-CAM @ fire9"
        o.panel = true
        o.displayWidth = 128
        try Golden.check("overlay_panel", o)
    }
}
