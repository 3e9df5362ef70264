// `gradcam --target` and `--reshape`: every bad value exits 2 with one line naming the option and what would do
// (a mask file that cannot be read exits 1, naming it), nothing is written; a good target is explained and named.
import Foundation
import Testing

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct TargetOptionTests {
    static let chelsea = CLI.path("Samples/chelsea.png")

    static func gradcam(_ s: Scratch, _ extra: [String]) throws -> Outcome {
        try convlens(["gradcam", "--model", "squeezenet1_1", chelsea, "--no-metrics", "--out", s.out + "/map.png"] + extra)
    }

    @Test(arguments: [
        (["--target", "bogus:1"], "'bogus:1' is invalid for '--target <kind:value>': unknown target kind 'bogus'; kinds are: class, prob"),
        (["--target", "class:x"], "target 'class:x': 'x' is not an index"),
        (["--target", "281"], "target '281' has no kind; give class:C, prob:C"),
        (["--target", "classes:1,"], "target 'classes:1,': '' is not an index"),
        (["--target", "mask:1"], "target 'mask:1' needs a mask file: mask:C@FILE"),
        (["--target", "prob:1000"], "class index 1000 is out of range: the model has 1000 classes (0…999)"),
        (["--target", "output:1000"], "output index 1000 is out of range: the model has 1000 outputs (0…999)"),
        (["--target", "mask:1@" + chelsea], "needs a segmentation output (K, H, W); this model's output is 1000"),
        (["--target", "class:1", "--top", "2"], "give one of --class, --target and --top"),
        (["--target", "class:1", "--target", "class:2"], "2 targets given for 1 image; give one target, or one per image"),
        (["--reshape", "0x3"], "'0x3' is invalid for '--reshape <HxW>': grid '0x3' is not HxW"),
        (["--reshape", "4x4"], "--reshape 4x4 reads (tokens, channels) with at least 16 tokens; layer 'fire9' has shape 512x14x14"),
    ])
    func badTargetsAreRefusedWithOneLine(_ extra: [String], _ message: String) throws {
        let s = try Scratch()
        expectRefusal(try Self.gradcam(s, extra), code: 2, "error: ", message, scratch: s)
    }

    @Test func aMaskFileThatCannotBeReadNamesIt() throws {
        let s = try Scratch()
        let bad = s.write("mask.png", Array("not a png".utf8))
        expectRefusal(try Self.gradcam(s, ["--target", "mask:1@" + bad]), code: 1, "error: " + bad, scratch: s)
    }

    @Test func aProbabilityTargetIsExplainedAndNamed() throws {
        let s = try Scratch()
        let r = try Self.gradcam(s, ["--target", "prob:285", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"target\" : \"p(285)\"") && r.stdout.contains("\"class\" : 285"), "\(r.stdout.prefix(400))")
        #expect(s.outputs == ["map.png"])
    }

}
