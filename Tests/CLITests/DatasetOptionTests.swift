// Dataset mode's options on the command line: a bad value exits 2 with one line naming the option, before anything
// is written; a manifest's bad target fails its item alone (exit 1 at the end, the rest done).
import Foundation
import Testing

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct DatasetOptionTests {
    /// A folder of two Samples, as a manifest.
    static func data(_ s: Scratch) throws -> String {
        let data = s.dir + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for name in ["chelsea.png", "coffee.png"] { try FileManager.default.copyItem(atPath: CLI.path("Samples/" + name), toPath: data + "/" + name) }
        return data
    }

    @Test(arguments: [
        (["--top", "0"], "--top must be in [1, 1000], got 0"),
        (["--top", "1001"], "--top must be in [1, 1000], got 1001"),
        (["--top", "2", "--faithfulness"], "--faithfulness measures one map per image; drop --top or --faithfulness"),
        (["--top", "2", "--class", "3"], "give one of --class, --target and --top"),
    ])
    func badTopInDatasetModeIsRefusedWithOneLine(_ extra: [String], _ message: String) throws {
        let s = try Scratch()
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", try Self.data(s), "--out", s.out] + extra), code: 2,
                      "error: ", message, scratch: s)
    }

    @Test func topWithAManifestThatGivesTargetsIsRefusedNamingTheLine() throws {
        let s = try Scratch()
        _ = try Self.data(s)
        let m = s.write("m.jsonl", Array("{\"path\": \"data/chelsea.png\"}\n{\"path\": \"data/coffee.png\", \"target\": \"prob:3\"}\n".utf8))
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", m, "--out", s.out, "--top", "2"]), code: 2,
                      "error: \(m): line 2 gives a target, but --top 2 explains each image's 2 best classes", scratch: s)
    }

    @Test func aManifestsBadTargetFailsItsItemAloneAndTheRunGoesOn() throws {
        let s = try Scratch()
        _ = try Self.data(s)
        let m = s.write("m.jsonl", Array(("{\"path\": \"data/chelsea.png\", \"target\": \"prob:281\"}\n"
            + "{\"path\": \"data/coffee.png\", \"target\": \"prob:1000\"}\n").utf8))
        let r = try convlens(["gradcam", "--model", "squeezenet1_1", m, "--jsonl"])
        #expect(r.code == 1, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].contains("\"given_target\":\"prob:281\"") && lines[0].contains("\"target\":281"), "\(lines)")
        #expect(lines.count == 2 && lines[1].contains("\(m): line 2: target 'prob:1000': class index 1000 is out of range"), "\(lines)")
    }
}

/// `activations --full-maps`: refused outside dataset mode, and when one batch of maps would pass the memory budget.
@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct DatasetFullMapsOptionTests {
    @Test func fullMapsOfOneImageIsRefused() throws {
        let s = try Scratch()
        expectRefusal(try convlens(["activations", "--model", "squeezenet1_1", CLI.path("Samples/chelsea.png"), "--layer", "fire2",
                                    "--full-maps", "--out", s.out + "/a.png"]), code: 2,
                      "error: --full-maps is for dataset mode", scratch: s)
    }

    @Test func fullMapsPastTheMemoryBudgetIsRefusedBeforeAnythingIsWritten() throws {
        let s = try Scratch()
        let data = try DatasetOptionTests.data(s)
        expectRefusal(try convlens(["activations", "--model", "squeezenet1_1", data, "--layer", "fire2", "--full-maps", "--out", s.out],
                                   through: ["/usr/bin/env", "CONVLENS_MEMORY_LIMIT=5M"]), code: 2,
                      "error: activations --full-maps at 'fire2' (2 MB an image) with --batch-size 8 would need ~",
                      "past the limit of 5 MB (set by CONVLENS_MEMORY_LIMIT); try a smaller --batch-size", scratch: s)
    }
}
