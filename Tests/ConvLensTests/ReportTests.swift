import Testing
import ConvLens
import Foundation
import TestSupport

/// The HTML report is one self-contained file whose figures all render in a real browser: headless Chromium
/// (Debian's `chromium`, installed by the setup) loads it from disk and the page's own check script counts the
/// images and SVGs that rendered.
@Suite(.serialized) struct ReportTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func report() throws -> String {
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: Fixture.installedSqueezeNet!)
        let images = try ImageBatch.prepare(["chelsea.png", "coffee.png"].map { Fixture.root + "/Samples/" + $0 }, lm.preprocessing).images
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-report-\(getpid())").path
        return try ReportJob.run(lm, images: images, dir: dir)
    }

    @Test(.enabled(if: Fixture.installedSqueezeNet != nil, "needs the installed SqueezeNet (run the setup)"))
    func reportIsSelfContained() throws {
        let path = try Self.report()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(html.components(separatedBy: "<img").count - 1 + html.components(separatedBy: "<svg").count - 1 >= 4)
        #expect(html.range(of: #"(src|href)=["']https?://"#, options: .regularExpression) == nil, "the report loads something from the network")
        #expect(html.contains("Egyptian Mau") && html.contains("espresso"))
    }

    @Test(.enabled(if: Fixture.installedSqueezeNet != nil && chromium != nil, "needs the installed SqueezeNet and chromium (run the setup)"))
    func everyFigureRendersInHeadlessChromium() throws {
        let path = try Self.report()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--dump-dom", "file://" + path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let dom = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let match = try #require(dom.firstMatch(of: #/rendered (\d+) of (\d+) figures/#), "the page's check did not run: \(dom.prefix(200))")
        let (ok, total) = (Int(match.1)!, Int(match.2)!)
        print("report in headless Chromium: rendered \(ok) of \(total) figures")
        #expect(total >= 4 && ok == total)
    }
}
