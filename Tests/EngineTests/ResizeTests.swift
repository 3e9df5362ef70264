import Testing
@testable import Engine

/// Resize: forward values worked out by hand from ONNX's coordinate formulas, which are torch's F.interpolate
/// definitions for the modes torch exports (the torch line that gives each expected value is in the comment);
/// backward against central finite differences.
@Suite struct ResizeTests {
    static let tolerance: Float = 2e-2

    func close(_ a: Tensor, _ b: [Float], _ what: String) {
        let diff = zip(a.data, b).map { abs($0 - $1) }.max() ?? 0
        #expect(a.count == b.count && diff < 1e-5, "\(what): got \(a.data), want \(b)")
    }

    /// torch: F.interpolate(x, scale_factor=2, mode='nearest') exports as scales [1, 1, 2, 2], asymmetric, floor.
    @Test func nearestUpsamplingByTwo() throws {
        let x = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        let r = Resize(scales: [1, 1, 2, 2], mode: .nearest, coordinateTransform: .asymmetric, nearestMode: .floor)
        #expect(try run(r, [x]).data == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        // torch: F.interpolate(arange(5.).view(1, 1, 5), size=3, mode='nearest') = x[floor(o·5/3)] = x[0, 1, 3]
        let d = try run(Resize(sizes: [3], coordinateTransform: .asymmetric, nearestMode: .floor), [iota([1, 1, 5])])
        #expect(d.data == [0, 1, 3])
    }

    /// half_pixel from 2 to 5: x_orig = (o + 0.5) / 2.5 − 0.5 = −0.3, 0.1, 0.5, 0.9, 1.3; each rounding, then clamped.
    @Test func nearestRoundingModes() throws {
        let x = Tensor(shape: [1, 2], data: [10, 20])
        for (mode, want) in [(Resize.NearestMode.roundPreferFloor, [Float](arrayLiteral: 10, 10, 10, 20, 20)),
                             (.roundPreferCeil, [10, 10, 20, 20, 20]), (.floor, [10, 10, 10, 10, 20]), (.ceil, [10, 20, 20, 20, 20])] {
            #expect(try run(Resize(sizes: [5], nearestMode: mode), [x]).data == want, "\(mode)")
        }
    }

    /// torch: F.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), scale_factor=2, mode='bilinear',
    /// align_corners=False): source rows and columns (o + 0.5) / 2 − 0.5 = −0.25 → 0, 0.25, 0.75, 1.25 → 1.
    @Test func bilinearHalfPixel() throws {
        let x = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        let want: [Float] = [1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0]
        for t in [Resize.CoordinateTransform.pytorchHalfPixel, .halfPixel] {
            close(try run(Resize(scales: [2, 2], mode: .linear, coordinateTransform: t), [x]), want, "\(t)")
            close(try run(Resize(sizes: [4, 4], mode: .linear, coordinateTransform: t), [x]), want, "\(t), sizes")
        }
    }

    /// torch: F.interpolate(x, size=(4, 5), mode='bilinear', align_corners=True) on x[r, c] = 1 + c + 2r (3×2):
    /// sources r·2/3 and c·1/4, and bilinear interpolation keeps an affine map, so y[i, j] = 1 + j/4 + 2·(2i/3).
    @Test func bilinearAlignCorners() throws {
        let x = Tensor(shape: [1, 1, 3, 2], data: [1, 2, 3, 4, 5, 6])
        let y = try run(Resize(sizes: [4, 5], mode: .linear, coordinateTransform: .alignCorners), [x])
        close(y, (0 ..< 20).map { f in 1 + Float(f % 5) / 4 + 2 * (2 * Float(f / 5) / 3) }, "align_corners")
    }

    /// On the ramp 0..<5 linear interpolation returns the clamped source coordinate itself.
    /// torch: F.interpolate(arange(5.).view(1, 1, 5), scale_factor=1.5, mode='linear', align_corners=False)
    ///   = (o + 0.5) / 1.5 − 0.5 (the given scale, not 7/5) = [0, 0.5, 7/6, 11/6, 2.5, 19/6, 23/6];
    /// with size=7 instead: (o + 0.5) · 5/7 − 0.5 = [0, 4/7, 9/7, 2, 19/7, 24/7, 4].
    @Test func theGivenScaleDrivesTheCoordinates() throws {
        let ramp = iota([1, 1, 5])
        let byScale: [Float] = [0, 0.5, 7.0 / 6, 11.0 / 6, 2.5, 19.0 / 6, 23.0 / 6]
        close(try run(Resize(scales: [1.5], mode: .linear, coordinateTransform: .pytorchHalfPixel), [ramp]), byScale, "scale 1.5")
        close(try run(Resize(sizes: [7], scales: [1.5], mode: .linear, coordinateTransform: .halfPixel), [ramp]), byScale, "sizes and scale")
        close(try run(Resize(sizes: [7], mode: .linear, coordinateTransform: .halfPixel), [ramp]), [0, 4.0 / 7, 9.0 / 7, 2, 19.0 / 7, 24.0 / 7, 4], "size 7")
        // asymmetric: o / 1.5
        close(try run(Resize(scales: [1.5], mode: .linear, coordinateTransform: .asymmetric), [ramp]), (0 ..< 7).map { Float($0) / 1.5 }, "asymmetric")
        // floor(5 · 0.5) = 2 outputs at (o + 0.5) / 0.5 − 0.5 = 0.5, 2.5 (torch: scale_factor=0.5, mode='linear')
        close(try run(Resize(scales: [0.5], mode: .linear, coordinateTransform: .pytorchHalfPixel), [ramp]), [0.5, 2.5], "scale 0.5")
        // One output: half_pixel reads (0.5 / 0.2 − 0.5) = 2, pytorch_half_pixel and align_corners read 0.
        close(try run(Resize(sizes: [1], mode: .linear, coordinateTransform: .halfPixel), [ramp]), [2], "half_pixel to 1")
        close(try run(Resize(sizes: [1], mode: .linear, coordinateTransform: .pytorchHalfPixel), [ramp]), [0], "pytorch_half_pixel to 1")
        close(try run(Resize(sizes: [1], mode: .linear, coordinateTransform: .alignCorners), [ramp]), [0], "align_corners to 1")
    }

    @Test func refusals() {
        #expect(throws: EngineError.self) { try Resize().outputShape([[1, 1, 4, 4]]) }
        #expect(throws: EngineError.self) { try Resize(sizes: [2, 2, 2]).outputShape([[4, 4]]) }
        #expect(throws: EngineError.self) { try Resize(sizes: [2, 2], scales: [2]).outputShape([[4, 4]]) }
        #expect(throws: EngineError.self) { try Resize(sizes: [0, 2]).outputShape([[4, 4]]) }
        #expect(throws: EngineError.self) { try Resize(scales: [0.1, 2]).outputShape([[4, 4]]) }          // floor(0.4) = 0
        #expect(throws: EngineError.self) { try Resize(scales: [1e30, 2]).outputShape([[4, 4]]) }
        #expect(throws: EngineError.self) { try Resize(scales: [-2, 2]).outputShape([[4, 4]]) }
    }

    @Test func gradients() {
        var rng = SeededRandom(8)
        let cases: [([Int], Resize)] = [
            ([2, 3, 5], Resize(scales: [1.5], mode: .linear, coordinateTransform: .pytorchHalfPixel)),
            ([1, 2, 3, 4], Resize(scales: [2, 2], mode: .nearest, coordinateTransform: .asymmetric, nearestMode: .floor)),
            ([2, 2, 7, 6], Resize(sizes: [3, 4], mode: .nearest, nearestMode: .roundPreferCeil)),
            ([1, 2, 3, 4], Resize(sizes: [5, 7], mode: .linear, coordinateTransform: .alignCorners)),
            ([2, 1, 6, 5], Resize(sizes: [1, 1, 4, 3], scales: [1, 1, 0.7, 0.6], mode: .linear, coordinateTransform: .halfPixel)),
            ([1, 2, 2, 3, 4], Resize(scales: [2, 1.5, 0.5], mode: .linear, coordinateTransform: .halfPixel)),
            ([3, 4], Resize(sizes: [5, 4], mode: .linear, coordinateTransform: .asymmetric)),
        ]
        for (shape, resize) in cases {
            #expect(gradientCheck("Resize \(resize.summary)", resize, [randomTensor(shape, &rng)]).relative < Self.tolerance)
        }
    }
}
