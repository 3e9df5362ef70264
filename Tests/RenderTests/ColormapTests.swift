import Testing
@testable import Render

@Suite struct ColormapTests {
    static let probe: [UInt8] = [0, 32, 64, 96, 128, 160, 192, 224, 255]

    /// import cv2, numpy as np  (OpenCV 4.14.0 and 5.0.0 agree)
    /// j = cv2.applyColorMap(np.arange(256, dtype=np.uint8), cv2.COLORMAP_JET).reshape(256, 3)[:, ::-1]
    /// print([tuple(int(v) for v in j[i]) for i in list(range(0, 256, 32)) + [255]])
    @Test func jetMatchesOpenCV() throws {
        let expected: [(UInt8, UInt8, UInt8)] = [(0, 0, 128), (0, 0, 255), (0, 128, 255), (2, 255, 254), (130, 255, 126),
                                                  (255, 252, 0), (255, 124, 0), (252, 0, 0), (128, 0, 0)]
        try compare(Colormap.named("jet"), expected)
    }

    /// import matplotlib, numpy as np  (matplotlib 3.11.2)
    /// v = matplotlib.colormaps['viridis'](np.arange(256), bytes=True)[:, :3]
    /// print([tuple(int(x) for x in v[i]) for i in list(range(0, 256, 32)) + [255]])
    @Test func viridisMatchesMatplotlib() throws {
        let expected: [(UInt8, UInt8, UInt8)] = [(68, 1, 84), (71, 44, 123), (58, 82, 139), (44, 114, 142), (32, 144, 140),
                                                  (40, 174, 127), (94, 201, 97), (173, 220, 48), (253, 231, 36)]
        try compare(Colormap.named("viridis"), expected)
    }

    private func compare(_ cmap: Colormap, _ expected: [(UInt8, UInt8, UInt8)]) {
        var maxdiff = 0
        for (i, e) in zip(Self.probe, expected) {
            let got = cmap.rgb(index: i)
            maxdiff = max(maxdiff, abs(Int(got.0) - Int(e.0)), abs(Int(got.1) - Int(e.1)), abs(Int(got.2) - Int(e.2)))
            #expect(got == e, "\(cmap.name)[\(i)] = \(got), expected \(e)")
        }
        print("COLORMAP \(cmap.name) OK, maxdiff \(maxdiff)")
    }

    /// matplotlib.colormaps['RdBu_r'](np.arange(256), bytes=True)[[0, 127, 128, 255], :3]
    /// -> (5, 48, 97), (246, 246, 246), (247, 246, 246), (103, 0, 31): blue for negative, red for positive.
    @Test func rdbuIsBlueToRed() throws {
        let m = try Colormap.named("RdBu_r")
        #expect(m.name == "rdbu")
        #expect(m.rgb(index: 0) == (5, 48, 97))
        #expect(m.rgb(index: 127) == (246, 246, 246))
        #expect(m.rgb(index: 255) == (103, 0, 31))
    }

    @Test func everyBuiltInHas256Rows() throws {
        #expect(Colormap.names == ["viridis", "magma", "inferno", "plasma", "cividis", "jet", "turbo", "gray", "rdbu", "coolwarm"])
        for name in Colormap.names {
            let m = try Colormap.named(name)
            #expect(m.table.count == 768, "\(name)")
        }
        #expect(Colormap.gray.rgb(index: 77) == (77, 77, 77))
    }

    /// pytorch-grad-cam: heatmap = cv2.applyColorMap(np.uint8(255 * mask), colormap): truncation, not rounding.
    @Test func floatLookupTruncatesLikeNumpy() {
        #expect(Colormap.index(0.5) == 127)        // 127.5 -> 127
        #expect(Colormap.index(0.999) == 254)      // 254.745 -> 254
        #expect(Colormap.index(1) == 255)
        #expect(Colormap.index(7) == 255)
        #expect(Colormap.index(-0.2) == 0)
        #expect(Colormap.index(.nan) == 0)
        #expect(Colormap.jet.rgb(Float(1)) == Colormap.jet.rgb(index: 255))
    }

    @Test func unknownNameListsTheNames() {
        #expect(throws: RenderError.self) { try Colormap.named("hot") }
        do {
            _ = try Colormap.named("hot")
        } catch {
            let message = "\(error)"
            #expect(message.contains("unknown colormap 'hot'"))
            for name in Colormap.names { #expect(message.contains(name)) }
        }
    }
}
