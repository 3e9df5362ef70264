import Foundation
import Imaging
import Support
import Testing
@testable import Render

/// Figures taller than a page: cut between rows, never over cairo's 32,767-pixel surfaces, written all together.
@Suite struct PagingTests {
    /// One column of 400 tiles: about 26,000 points, 52,000 pixels at scale 2, so two PNG pages.
    static var tall: TileGrid {
        var g = TileGrid(values: Fixtures.blobs(count: 400, height: 8, width: 8), count: 400, height: 8, width: 8, columns: 1)
        g.tileSize = 48                // 6 points per activation pixel, as TileGrid snaps them
        g.captions = .index
        g.title = "400 tiles"
        return g
    }

    @Test func cutsAtTheLastBreakThatFits() {
        #expect(FigureWriter.cut(total: 100, breaks: [30, 60, 90], limit: 50) == [0 ..< 30, 30 ..< 60, 60 ..< 100])
        #expect(FigureWriter.cut(total: 100, breaks: [], limit: 40) == [0 ..< 40, 40 ..< 80, 80 ..< 100])
        #expect(FigureWriter.cut(total: 100, breaks: [5, 95], limit: 50) == [0 ..< 5, 5 ..< 55, 55 ..< 100])
        #expect(FigureWriter.cut(total: 100, breaks: [50], limit: 100) == [0 ..< 100])
    }

    /// Pages cut from a figure and stacked again are the figure: the same pixels as one render of the whole.
    @Test func pagesStackIntoTheWholeFigure() throws {
        var g = Self.tall
        g.count = 24
        g.values = Array(g.values[..<(24 * 64)])
        g.columns = 3
        let whole = try CairoPNG.decode(try FigureWriter.render(g, format: .png, scale: 2))
        let breaks = g.pageBreaks.map { Int(($0 * 2).rounded(.down)) }
        let ranges = FigureWriter.cut(total: whole.height, breaks: breaks, limit: 300)
        #expect(ranges.count > 2 && ranges.dropLast().allSatisfy { breaks.contains($0.upperBound) }, "\(ranges) not at \(breaks)")
        var stacked: [UInt8] = []
        for r in ranges {
            let page = FigureWriter.Page(top: Double(r.lowerBound), height: Double(r.count))
            let img = try CairoPNG.decode(try FigureWriter.renderPage(g, format: .png, scale: 2, page: page))
            #expect(img.width == whole.width && img.height == r.count)
            stacked += img.pixels
        }
        let d = Golden.diff(RGBImage(width: whole.width, height: whole.height, pixels: stacked), whole)
        #expect(d.maxAbs == 0, "\(d.summary)")
    }

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "convlens-paging-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Before pages existed this threw "cairo: creating a ...: invalid value (typically too big) for the size of the
    /// input (surface, pattern, etc.)".
    @Test(arguments: ["png", "jpg", "svg"])
    func aTallFigureBecomesNumberedPagesAndAnIndex(_ ext: String) throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let g = Self.tall
        let written = try FigureWriter.write(g, to: "\(dir)/tiles.\(ext)", scale: 2)
        #expect(written == ["\(dir)/tiles-1.\(ext)", "\(dir)/tiles-2.\(ext)", "\(dir)/tiles-index.html"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["tiles-1.\(ext)", "tiles-2.\(ext)", "tiles-index.html"])
        let html = try String(contentsOfFile: "\(dir)/tiles-index.html", encoding: .utf8)
        #expect(html.contains("src=\"tiles-1.\(ext)\"") && html.contains("src=\"tiles-2.\(ext)\""))
        guard ext != "svg" else {
            let heights = try written.dropLast().map { try String(contentsOfFile: $0, encoding: .utf8) }
                .map { Double($0.firstMatch(of: #/height="([0-9.]+)pt"/#)!.1)! }
            #expect(heights.allSatisfy { $0 <= Double(FigureWriter.maxVectorPageHeight) } && abs(heights.reduce(0, +) - g.size.height) <= 1, "\(heights)")
            return
        }
        let pages = try written.dropLast().map { try ImageIO.read($0, maxPixels: 1 << 30) }
        #expect(pages.allSatisfy { $0.height <= FigureWriter.maxPixelSide && $0.width == Int(g.size.width * 2) })
        #expect(pages.map(\.height).reduce(0, +) == Int(g.size.height * 2), "\(pages.map(\.height)) for \(g.size)")
    }

    @Test func aTallPDFHasSeveralPages() throws {
        let pdf = String(decoding: try FigureWriter.render(Self.tall, format: .pdf), as: UTF8.self)
        let pages = pdf.matches(of: #/\/Type\s*\/Page\b/#).count
        #expect(pages == 2, "\(pages) pages for a \(Self.tall.size.height) pt figure")
        #expect(pdf.hasSuffix("%%EOF\n"))
    }

    /// One page that cannot be written (a directory is in the way) leaves no other page, no index, no temporary.
    @Test func pagesAreWrittenAllOrNothing() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/tiles-2.png", withIntermediateDirectories: false)
        #expect(throws: FileError.self) { try FigureWriter.write(Self.tall, to: "\(dir)/tiles.png", scale: 2) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["tiles-2.png"])
    }

    @Test func aFigureTooWideForAnImageIsAClearError() throws {
        var g = TileGrid(values: [Float](repeating: 1, count: 4000 * 4), count: 4000, height: 2, width: 2, columns: 4000)
        g.tileSize = 8
        do {
            _ = try FigureWriter.renderPages(g, format: .png, scale: 2)
            Issue.record("a \(g.size.width) pt wide figure rendered at scale 2")
        } catch let error as RenderError {
            #expect("\(error)".contains("lower the scale"), "\(error)")
        }
        #expect(try FigureWriter.renderPages(g, format: .svg).count == 1)
    }
}
