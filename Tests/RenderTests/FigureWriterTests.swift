import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Imaging
import Support
import Testing
@testable import Render

@Suite struct FigureWriterTests {
    /// A small figure with a raster, text (Latin and Cyrillic) and lines: every kind of drawing the formats carry.
    static var sample: MatrixPlot {
        var p = MatrixPlot(values: [1, -0.5, -0.5, 1], rows: 2, columns: 2, rowLabels: ["кошка", "кофе"])
        p.title = "sample & <escaped> \"text\""
        p.dendrogram = [(0, 1, 1)]
        return p
    }

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "convlens-render-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func pngHasSignatureAndScale() throws {
        let fig = Self.sample
        let png = try FigureWriter.render(fig, format: .png, scale: 2)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let img = try CairoPNG.decode(png)
        #expect(img.width == Int((fig.size.width * 2).rounded(.up)))
        #expect(img.height == Int((fig.size.height * 2).rounded(.up)))
    }

    @Test func svgParsesAsXML() throws {
        let svg = try FigureWriter.render(Self.sample, format: .svg)
        let parser = XMLParser(data: Data(svg))
        let ok = parser.parse()
        #expect(ok, "SVG does not parse: \(String(describing: parser.parserError))")
        #expect(String(decoding: svg.prefix(200), as: UTF8.self).contains("<svg"))
    }

    /// SVG cannot ask viewers for square pixels, so small crisp tiles are embedded already enlarged.
    @Test func svgEmbedsSmallTilesEnlarged() throws {
        var g = TileGrid(values: Fixtures.sobel, count: 2, height: 3, width: 3, columns: 2)
        g.tileSize = 60
        let svg = String(decoding: try FigureWriter.render(g, format: .svg), as: UTF8.self)
        // Widths of the embedded images: the two tiles.
        let widths = svg.components(separatedBy: "<image ").dropFirst().compactMap { tag -> Int? in
            guard let r = tag.range(of: "width=\"") else { return nil }
            return Int(tag[r.upperBound...].prefix { $0.isNumber })
        }
        #expect(widths.filter { $0 >= 3 }.count == 2, "image widths \(widths)")
        #expect(widths.allSatisfy { $0 != 3 }, "3x3 tiles embedded at their native size: \(widths)")
        let pdf = String(decoding: try FigureWriter.render(g, format: .pdf), as: UTF8.self)
        #expect(pdf.contains("/Interpolate false"))
    }

    @Test func pdfIsCompleteAndRenders() throws {
        let pdf = try FigureWriter.render(Self.sample, format: .pdf)
        #expect(String(decoding: pdf.prefix(5), as: UTF8.self) == "%PDF-")
        let tail = String(decoding: pdf.suffix(16), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tail.hasSuffix("%%EOF"))

        let pdftoppm = ["/usr/bin/pdftoppm", "/usr/local/bin/pdftoppm"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let pdftoppm else {
            print("pdftoppm not installed: skipping the PDF rendering check")
            return
        }
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FigureWriter.write(Self.sample, to: "\(dir)/sample.pdf")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: pdftoppm)
        p.arguments = ["-r", "36", "-png", "-singlefile", "\(dir)/sample.pdf", "\(dir)/page"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let page = try CairoPNG.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/page.png"))))
        // Something was drawn: not every pixel is white.
        #expect(page.pixels.contains { $0 < 200 })
    }

    @Test func formatComesFromTheExtension() throws {
        #expect(try FigureWriter.Format(path: "a/b.PNG") == .png)
        #expect(try FigureWriter.Format(path: "x.svg") == .svg)
        #expect(try FigureWriter.Format(path: "x.pdf") == .pdf)
        #expect(try FigureWriter.Format(path: "x.jpg") == .jpeg)
        #expect(try FigureWriter.Format(path: "x.JPEG") == .jpeg)
        for bad in ["/tmp/figure.gif", "/tmp/figure", "/tmp/figure.png.bak"] {
            do {
                try FigureWriter.write(Self.sample, to: bad)
                Issue.record("\(bad) was accepted")
            } catch let error as UsageError {
                let m = "\(error)"
                #expect(m.contains(".png") && m.contains(".jpg") && m.contains(".svg") && m.contains(".pdf") && m.contains(bad), "\(m)")
            }
            #expect(!FileManager.default.fileExists(atPath: bad))
        }
    }

    /// JPEG output is the PNG rendering through libjpeg at quality 92: the same size, and close to it pixel by pixel
    /// (JPEG's error on text and flat colour at q92 is a few levels on average).
    @Test func jpegIsThePNGRenderingCompressed() throws {
        let png = try CairoPNG.decode(try FigureWriter.render(Self.sample, format: .png, scale: 2))
        let bytes = try FigureWriter.render(Self.sample, format: .jpeg, scale: 2)
        #expect(Array(bytes.prefix(3)) == [0xFF, 0xD8, 0xFF])
        let jpeg = try ImageIO.decode(bytes, name: "sample.jpg")
        #expect(jpeg.width == png.width && jpeg.height == png.height)
        let d = Golden.diff(jpeg, png)
        print("JPEG against PNG: \(d.summary)")
        #expect(d.meanAbs < 2, "\(d.summary)")
        #expect(d.fractionWithin > 0.97, "\(d.summary)")
    }

    /// Two SVGs on one HTML page must not share ids: every definition and every reference gets the prefix.
    @Test func inlineSVGPrefixesEveryIdAndReference() throws {
        let svg = try #require(try FigureWriter.inlineSVG(Self.sample, idPrefix: "fig7-").first)
        #expect(svg.hasPrefix("<svg"))
        let ids = svg.matches(of: #/ id="([^"]*)"/#).map { String($0.1) }
        let refs = svg.matches(of: #/(?:href="#|url\(#)([^")]*)/#).map { String($0.1) }
        #expect(!ids.isEmpty && !refs.isEmpty)
        #expect(ids.allSatisfy { $0.hasPrefix("fig7-1-") }, "\(ids.filter { !$0.hasPrefix("fig7-1-") })")
        #expect(Set(refs).isSubset(of: Set(ids)), "references to undefined ids: \(Set(refs).subtracting(ids).sorted())")
        #expect(Set(ids).count == ids.count)
    }

    @Test func writesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for ext in ["png", "svg", "pdf"] {
            try FigureWriter.write(Self.sample, to: "\(dir)/fig.\(ext)")
            try FigureWriter.write(Self.sample, to: "\(dir)/fig.\(ext)")  // replaces
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["fig.pdf", "fig.png", "fig.svg"])
    }

    @Test func missingDirectoryIsAOneLineErrorNamingIt() throws {
        let dir = "/tmp/convlens-no-such-dir-\(UInt32.random(in: 0 ... .max))"
        do {
            try FigureWriter.write(Self.sample, to: "\(dir)/fig.png")
            Issue.record("writing into a missing directory succeeded")
        } catch {
            let m = "\(error)"
            #expect(m.contains(dir) && !m.contains("\n"), "\(m)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    @Test func unwritableDirectoryIsAnError() throws {
        guard getuid() != 0 else {
            print("running as root, which may write anywhere: skipping the unwritable-directory check")
            return
        }
        let dir = try Self.tempDir()
        defer { chmod(dir, 0o755); try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o555)
        #expect(throws: FileError.self) { try FigureWriter.write(Self.sample, to: "\(dir)/fig.png") }
    }
}
