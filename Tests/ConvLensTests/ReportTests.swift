import Testing
import ConvLens
import Foundation
import Imaging
import Render
import TestSupport

/// The HTML report is one self-contained file whose figures all render in a real browser (headless Chromium), each
/// exactly as it does alone, with every file name shown as text and never as markup.
@Suite(.serialized) struct ReportTests {
    static let ready = Fixture.installedSqueezeNet != nil
    static let browser = ready && Chromium.path != nil

    static func tempDir(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("convlens-\(name)-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
    }

    static func report(_ paths: [String] = ["chelsea.png", "coffee.png"].map { Fixture.root + "/Samples/" + $0 },
                       options: ReportJob.Options = ReportJob.Options()) throws -> String {
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: Fixture.installedSqueezeNet!)
        let images = try ImageBatch.prepare(paths, lm.preprocessing).images
        return try ReportJob.run(lm, images: images, dir: tempDir("report"), options: options)
    }

    @Test(.enabled(if: ready, "needs the installed SqueezeNet (run the setup)"))
    func reportIsSelfContained() throws {
        let path = try Self.report()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        try Self.checkSelfContained(try String(contentsOfFile: path, encoding: .utf8))
    }

    static func checkSelfContained(_ html: String) throws {
        #expect(html.components(separatedBy: "<img").count - 1 + html.components(separatedBy: "<svg").count - 1 >= 4)
        #expect(html.range(of: #"(src|href)=["']https?://"#, options: .regularExpression) == nil, "the report loads something from the network")
        #expect(html.contains("Egyptian Mau") && html.contains("espresso"))
    }

    /// Every figure renders in headless Chromium (the page's own check counts them), and each inline SVG figure,
    /// screenshotted in the report, has the pixels of the same SVG screenshotted alone on a page at the same place.
    /// Cairo gives the glyphs, clip paths and images of every SVG the same ids, so without unique ids the second
    /// correlation matrix was drawn with the first one's glyphs ("lopits") and colours.
    @Test(.enabled(if: browser, "needs the installed SqueezeNet and chromium (run the setup)"))
    func everyFigureRendersInChromiumAsItDoesAlone() throws {
        let clock = Date()
        let path = try Self.report()
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let html = try String(contentsOfFile: path, encoding: .utf8)
        let svgs = html.matches(of: #/<svg[\s\S]*?</svg>/#).map { String($0.0) }
        #expect(svgs.count == 2, "expected the two correlation matrices, found \(svgs.count) SVGs")

        // The report's own check and where the browser puts each SVG (page coordinates in CSS pixels), while the
        // report is screenshotted, tall enough for a report of two images.
        try Chromium.probe(html, script: """
            const r = [...document.querySelectorAll("figure > svg")].map(s => { const b = s.getBoundingClientRect();
              return [b.left + scrollX, b.top + scrollY, b.width, b.height]; });
            const p = document.createElement("pre"); p.id = "probe"; p.textContent = JSON.stringify(r); document.body.appendChild(p);
            """, as: dir + "/probe.html")
        let (width, height) = (1300, 2600)
        let shot = try Chromium.screenshot(path, to: dir + "/report.png", width: width, height: height)
        let dom = try Chromium.dom(dir + "/probe.html", width: width, height: height)
        let check = try #require(dom.firstMatch(of: #/rendered (\d+) of (\d+) figures/#), "the page's check did not run: \(dom.prefix(200))")
        let (ok, total) = (Int(check.1)!, Int(check.2)!)
        print("report in headless Chromium: rendered \(ok) of \(total) figures")
        #expect(total >= 4 && ok == total)
        let json = try #require(dom.firstMatch(of: #/<pre id="probe">(.*?)</pre>/#)?.1, "the probe did not run")
        let rects = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[Double]])
        #expect(rects.count == svgs.count && rects.allSatisfy { $0[1] + $0[3] < Double(height) }, "\(rects)")

        // Each SVG alone at the same place on an empty page.
        let alone = try zip(svgs, rects).enumerated().map { i, sr in
            let (svg, r) = sr
            try """
                <!DOCTYPE html><html><head><meta charset="utf-8"><style>body { margin: 0; }
                svg { position: absolute; left: \(r[0])px; top: \(r[1])px; width: \(r[2])px; height: \(r[3])px; }</style></head>
                <body>\(svg)</body></html>
                """.write(toFile: dir + "/alone\(i).html", atomically: true, encoding: .utf8)
            return try Chromium.screenshot(dir + "/alone\(i).html", to: dir + "/alone\(i).png", width: width, height: height)
        }
        (alone + [shot]).forEach { _ = $0.finish() }
        let page = try ImageIO.read(dir + "/report.png")
        for (i, r) in rects.enumerated() {
            let (x0, y0) = (Int(r[0].rounded(.down)), Int(r[1].rounded(.down)))
            let (x1, y1) = (Int((r[0] + r[2]).rounded(.up)), Int((r[1] + r[3]).rounded(.up)))
            let inPage = Chromium.crop(page, x0: x0, y0: y0, x1: x1, y1: y1)
            let single = Chromium.crop(try ImageIO.read(dir + "/alone\(i).png"), x0: x0, y0: y0, x1: x1, y1: y1)
            var differing = 0, sum = 0
            for (a, b) in zip(inPage.pixels, single.pixels) {
                let d = abs(Int(a) - Int(b))
                sum += d
                if d > 32 { differing += 1 }
            }
            let mean = Double(sum) / Double(max(inPage.pixels.count, 1))
            print(String(format: "figure %d (%dx%d px): %d samples differ by more than 32 levels, mean difference %.3f",
                         i + 1, inPage.width, inPage.height, differing, mean))
            #expect(inPage.width == single.width && inPage.height == single.height && inPage.pixels.contains { $0 < 128 })
            #expect(differing == 0 && mean < 0.5, "figure \(i + 1) is drawn differently in the report than alone")
        }
        print(String(format: "report and Chromium check took %.1f s", Date().timeIntervalSince(clock)))
    }

    /// The report runs the network once per image, counted by the graph's own pass counters (a fused graph counts
    /// into its model's): that forward pass serves the classification, the Grad-CAM (one backward pass), the
    /// activation tiles and the correlations. Before, three images cost 6 forward passes: one to classify them, one
    /// per Grad-CAM, one for the tiles and one for the correlations. The patterns are left out: they rerun the
    /// network by definition. The table and the Grad-CAM panels are what `classify` and `gradcam --view input
    /// --panel` give on their own (their own passes, counted before the report's).
    @Test(.enabled(if: ready, "needs the installed SqueezeNet (run the setup)"))
    func oneForwardPassPerImageServesEverySection() throws {
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: Fixture.installedSqueezeNet!)
        let names = ["chelsea.png", "coffee.png", "astronaut.png"]
        let images = try ImageBatch.prepare(names.map { Fixture.root + "/Samples/" + $0 }, lm.preprocessing).images
        let alone = try ConvLens.Classify.run(lm, images: images, top: 5)
        var co = GradCAMOptions()
        (co.view, co.panel, co.metrics) = (.input, true, false)
        let panels = try images.map { try FigureWriter.renderPages(GradCAMJob.compute(lm, images: [$0], options: co).figure, format: .png, scale: 1.5) }
        var o = ReportJob.Options()
        o.tileLayers = ["fire2", "fire9"]
        let dir = Self.tempDir("report-passes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let counts = lm.model.graph.passes
        let (f0, b0) = (counts.forward, counts.backward)
        let html = try String(contentsOfFile: try ReportJob.run(lm, images: images, dir: dir, options: o), encoding: .utf8)
        let (forward, backward) = (counts.forward - f0, counts.backward - b0)
        print("report of \(images.count) images: \(forward) forward and \(backward) backward passes")
        #expect(forward == images.count && backward == images.count,
                "the report of \(images.count) images ran \(forward) forward and \(backward) backward passes")
        for r in alone {
            let row = r.top.map { "<td>\(HTML.escape($0.label)) <span class=dim>(\($0.index))</span><br>\(String(format: "%.1f%%", $0.probability * 100))</td>" }
            #expect(html.contains(row.joined()), "the report's classification of \(r.image) differs from classify's")
        }
        for (name, pages) in zip(names, panels) {
            #expect(html.contains(Data(pages[0]).base64EncodedString()), "the report's Grad-CAM panel of \(name) differs from gradcam's")
        }
        #expect(html.contains("alt=\"fire2\"") && html.contains("alt=\"fire9\"") && html.contains("<figcaption>logits</figcaption>"))
    }

    /// The report touches the disk once, at the end: the patterns are drawn in memory (they used to go through a
    /// `.patterns-PID.png` beside the report, left behind by Ctrl-C), the folder is created last, and progress
    /// runs from 0 to the total without going back.
    @Test(.enabled(if: ready, "needs the installed SqueezeNet (run the setup)"))
    func reportWritesOnlyIndexAtTheEndAndShowsProgress() throws {
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: Fixture.installedSqueezeNet!)
        let images = try ImageBatch.prepare(["chelsea.png", "coffee.png"].map { Fixture.root + "/Samples/" + $0 }, lm.preprocessing).images
        let dir = Self.tempDir("report-progress") + "/new/folder"
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: dir).deletingLastPathComponent().deletingLastPathComponent().path) }
        var o = ReportJob.Options()
        o.patternLayer = "fire2"
        o.patternCount = 2
        var seen: [ReportJob.Progress] = [], existed = false
        let path = try ReportJob.run(lm, images: images, dir: dir, options: o) { p in
            seen.append(p)
            existed = existed || FileManager.default.fileExists(atPath: URL(fileURLWithPath: dir).deletingLastPathComponent().path)
        }
        #expect(!existed, "the report's folder was made before the work was done")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["index.html"])
        #expect(path == dir + "/index.html")
        let stages = seen.map(\.stage)
        print("report progress: \(seen.count) updates, stages \(stages.enumerated().filter { $0.offset == 0 || stages[$0.offset - 1] != $0.element }.map(\.element))")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.done <= $1.done && $0.total == $1.total })
        #expect(seen.last.map { $0.done == $0.total } == true)
        #expect(stages.contains("classification") && stages.contains { $0.hasPrefix("filter patterns") } && stages.contains("correlations"))
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("Filter patterns of fire2"))
    }

    /// File names with quotes, markup, entities and control characters reach the page as text: no element gains
    /// an attribute, no script runs, and the caption reads as the name with its control characters made visible.
    @Test(.enabled(if: browser, "needs the installed SqueezeNet and chromium (run the setup)"))
    func hostileFileNamesStayText() throws {
        let inputs = Self.tempDir("hostile")
        try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: inputs) }
        let names = [#"cat" onload="document.title='pwned'" x=".png"#, "<img src=x onerror=alert(1)>.png",
                     "a&amp;b 'q' \u{1}\u{1B}[31m\u{202E}gnp.png", "new\nline.png"]
        let photo = try Data(contentsOf: URL(fileURLWithPath: Fixture.root + "/Samples/chelsea.png"))
        for n in names { try photo.write(to: URL(fileURLWithPath: inputs + "/" + n)) }
        let path = try Self.report(names.map { inputs + "/" + $0 })
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let html = try String(contentsOfFile: path, encoding: .utf8)
        for raw in ["onload=\"", "<img src=x", "\u{1}", "\u{1B}", "\u{202E}", "'q'"] {
            #expect(!html.contains(raw), "the page contains \(raw.debugDescription) unescaped")
        }
        try Chromium.probe(html, script: """
            const on = [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on")));
            const p = document.createElement("pre"); p.id = "probe";
            p.textContent = JSON.stringify({ on: on.length, scripts: document.scripts.length, title: document.title,
              captions: [...document.querySelectorAll("figcaption")].map(f => f.textContent),
              cells: [...document.querySelectorAll("td:first-child")].map(c => c.textContent) });
            document.body.appendChild(p);
            """, as: dir + "/probe.html")
        let dom = try Chromium.dom(dir + "/probe.html")
        let json = try #require(dom.firstMatch(of: #/<pre id="probe">(.*?)</pre>/#)?.1, "the probe did not run")
        let found = try #require(try JSONSerialization.jsonObject(with: Data(json.replacingOccurrences(of: "&amp;", with: "&")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").utf8)) as? [String: Any])
        print("hostile names in Chromium: \(found["on"] ?? "?") on* attributes, \(found["scripts"] ?? "?") scripts, title \(found["title"] ?? "?")")
        #expect(found["on"] as? Int == 0)
        #expect(found["scripts"] as? Int == 2, "the report's own check and the probe, nothing else")
        #expect(found["title"] as? String == "ConvLens report · squeezenet1_1")
        let shown = #"a&amp;b 'q' \u{1}\u{1B}[31m\u{202E}gnp.png"#
        #expect((found["cells"] as? [String])?.contains(shown) == true, "\(found["cells"] ?? "")")
        #expect((found["captions"] as? [String])?.contains(#"new\nline.png"#) == true, "\(found["captions"] ?? "")")
    }
}
