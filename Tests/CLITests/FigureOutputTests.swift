// Figures as a user asks for them: the formats, a page too tall for one file, and the report's output folder.
import Foundation
import Testing

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct FigureOutputTests {
    static let chelsea = CLI.path("Samples/chelsea.png")

    /// A PNG's height from its IHDR chunk (bytes 20 ..< 24, big-endian).
    static func pngHeight(_ path: String) -> Int {
        let b = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        return b.count >= 24 ? b[20 ..< 24].reduce(0) { $0 << 8 | Int($1) } : -1
    }

    /// `activations --all` with its defaults draws every layer of SqueezeNet on one page of about 24,000 points:
    /// 48,000 pixels at scale 2, past cairo's 32,767. It used to fail with "invalid value (typically too big) for
    /// the size of the input"; now the page is split between rows of tiles, with an index.
    @Test func activationsOfEveryLayerSplitIntoPages() throws {
        let s = try Scratch()
        let r = try convlens(["activations", "--model", "squeezenet1_1", Self.chelsea, "--all", "--out", s.out + "/all.png"], timeout: 300)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(s.outputs == ["all-1.png", "all-2.png", "all-index.html"], "\(s.outputs)")
        #expect(r.stdout == ["all-1.png", "all-2.png", "all-index.html"].map { "wrote \(s.out)/\($0)\n" }.joined())
        let heights = ["all-1.png", "all-2.png"].map { Self.pngHeight(s.out + "/" + $0) }
        print("activations --all: pages of \(heights) pixels")
        #expect(heights.allSatisfy { $0 > 0 && $0 <= 32767 } && heights.reduce(0, +) > 32767, "\(heights)")
        let index = readText(s.out + "/all-index.html")
        #expect(index.contains("src=\"all-1.png\"") && index.contains("src=\"all-2.png\""))
    }

    @Test func jpegIsAFigureFormat() throws {
        let s = try Scratch()
        let r = try convlens(["activations", "--model", "squeezenet1_1", Self.chelsea, "--layer", "fire2", "--out", s.out + "/fire2.jpg"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(s.outputs == ["fire2.jpg"])
        #expect(Array([UInt8](FileManager.default.contents(atPath: s.out + "/fire2.jpg") ?? Data()).prefix(3)) == [0xFF, 0xD8, 0xFF])
    }

    @Test(arguments: ["gif", "PNG.bak", "jpg2"])
    func anUnknownFigureExtensionIsBadUsage(_ ext: String) throws {
        let s = try Scratch()
        expectRefusal(try convlens(["activations", "--model", "squeezenet1_1", Self.chelsea, "--layer", "fire2", "--out", s.out + "/fire2.\(ext)"]), code: 2,
                      "error: cannot tell the figure format of '\(s.out)/fire2.\(ext)'; use a path ending in .png, .jpg, .svg or .pdf", scratch: s)
    }

    /// `report --out` names a folder; a regular file there is one line naming it (it used to be a raw NSError).
    @Test func reportIntoAFileIsOneLine() throws {
        let s = try Scratch()
        let file = s.write("notes.txt", Array("not a folder\n".utf8))
        expectRefusal(try convlens(["report", "--model", "squeezenet1_1", Self.chelsea, "--patterns", "none", "--out", file]), code: 1,
                      "error: \(file): is a file, not a folder; --out names the folder for index.html", scratch: s)
        expectRefusal(try convlens(["report", "--model", "squeezenet1_1", Self.chelsea, "--patterns", "none", "--out", file + "/report"]), code: 1,
                      "error: \(file)/report: cannot make the report folder: '\(file)' is a file", scratch: s)
        #expect(readText(file) == "not a folder\n")
    }
}
