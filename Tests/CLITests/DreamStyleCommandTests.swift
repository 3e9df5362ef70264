// `dream`, `style`, `gram` and `patterns --objective` as a user runs them: their help and option checks in process,
// then the built `convlens`'s refusals (exit code, one line, nothing written) and small runs that work.
import ArgumentParser
import Foundation
import Testing
@testable import convlens

@Suite struct DreamStyleHelpTests {
    @Test func helpListsTheOptionsAndTheGrammar() {
        let dream = Dream.helpMessage(columns: 200)
        for option in ["--layer <name>", "--objective <expr>", "--octaves <octaves>", "--octave-scale <octave-scale>", "--steps <steps>",
                       "--step-size <step-size>", "--size <size>", "--out <file>", "--title <text>", "--model <name|file>",
                       "LAYER:C", "diversity(LAYER)"] {
            #expect(dream.contains(option), "dream help lacks \(option)")
        }
        let style = Style.helpMessage(columns: 200)
        for option in ["--content-layer <name>", "--style-layers <l1,l2,...>", "--style-weight <style-weight>", "--content-weight <content-weight>",
                       "--tv-weight <tv-weight>", "--steps <steps>", "--size <size>", "--method <method>", "--start <start>", "--seed <seed>",
                       "--panel", "--json"] {
            #expect(style.contains(option), "style help lacks \(option)")
        }
        let gram = GramCommand.helpMessage(columns: 200)
        for option in ["--layer <name>", "--raw <file.npy>", "--json", "--scale <scale>"] { #expect(gram.contains(option), "gram help lacks \(option)") }
        let patterns = Patterns.helpMessage(columns: 200)
        for option in ["--objective <expr>", "--batch <batch>", "fire8:12 + 0.5*fire8:40 - 1e-3*tv", "neuron(LAYER, C[, Y, X])"] {
            #expect(patterns.contains(option), "patterns help lacks \(option)")
        }
    }

    @Test func optionsAreCheckedBeforeAnythingLoads() {
        let bad: [[String]] = [["a.png", "--octaves", "0"], ["a.png", "--octave-scale", "1"], ["a.png", "--step-size", "0"],
                               ["a.png", "--steps", "0"], ["a.png", "--objective", "fire8:"]]
        for args in bad { #expect(throws: (any Error).self, "dream \(args)") { try Dream.parse(args) } }
        for args in [["a.png", "b.png", "--style-weight", "-1"], ["a.png", "b.png", "--tv-weight", "1e9"], ["a.png", "b.png", "--style-layers", "a,,b"],
                     ["a.png", "b.png", "--method", "sgd"], ["a.png"]] {
            #expect(throws: (any Error).self, "style \(args)") { try Style.parse(args) }
        }
        #expect(throws: (any Error).self) { try GramCommand.parse(["a.png"]) }                   // no layer
        #expect(throws: (any Error).self) { try Patterns.parse(["--objective", "fire8:1", "--batch", "0"]) }
        #expect(throws: Never.self) { try Patterns.parse(["--objective", "fire8:1 + 2*diversity(fire8)"]) }   // no --layer needed
        do { _ = try Dream.parse(["a.png", "--octaves", "11"]); Issue.record("accepted --octaves 11") } catch {
            #expect(Dream.message(for: error) == "--octaves must be in [1, 10], got 11")
        }
    }
}

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct DreamStyleCommandTests {
    // Every case names its model: the default model may change, these cases read SqueezeNet's layer names.
    static let chelsea = CLI.path("Samples/chelsea.png"), coffee = CLI.path("Samples/coffee.png")

    /// Each new numeric option against its row of OptionLimits, in the one format.
    @Test(arguments: [
        (["dream", chelsea, "--octaves", "0"], "--octaves must be in [1, 10], got 0"),
        (["dream", chelsea, "--octave-scale", "1"], "--octave-scale must be in (1, 4], got 1"),
        (["dream", chelsea, "--step-size", "2"], "--step-size must be in (0, 1], got 2"),
        (["dream", chelsea, "--size", "8"], "--size must be in [16, 65536], got 8"),
        (["style", chelsea, coffee, "--style-weight=-1"], "--style-weight must be in [0, 1000000], got -1"),
        (["style", chelsea, coffee, "--tv-weight", "nan"], "--tv-weight must be in [0, 1000000], got nan"),
        (["style", chelsea, coffee, "--steps", "0"], "--steps must be in [1, 100000], got 0"),
        (["patterns", "--objective", "fire8:1", "--batch", "2000"], "--batch must be in [1, 1024], got 2000"),
    ])
    func numericOptionOutOfRange(_ arguments: [String], _ message: String) throws {
        let s = try Scratch()
        expectRefusal(try convlens(arguments + ["--model", "squeezenet1_1", "--out", s.out + "/x.png"]), code: 2, "error: " + message, scratch: s)
    }

    @Test func anObjectiveWithBadSyntaxSaysWhere() throws {
        let s = try Scratch()
        expectRefusal(try convlens(["patterns", "--model", "squeezenet1_1", "--objective", "fire8:12 + * 3", "--out", s.out + "/o.png"]), code: 2,
                      "error: --objective: cannot read the objective 'fire8:12 + * 3': expected a term", "at character 12, found '* 3'", scratch: s)
    }

    @Test func anObjectiveWithAnUnknownLayerSuggestsOne() throws {
        let s = try Scratch()
        expectRefusal(try convlens(["patterns", "--model", "squeezenet1_1", "--objective", "fire88:12 - 1e-3*tv", "--out", s.out + "/o.png"]), code: 2,
                      "error: --objective: unknown layer 'fire88'; did you mean 'fire8'", scratch: s)
        expectRefusal(try convlens(["dream", "--model", "squeezenet1_1", Self.chelsea, "--objective", "l2(fire2) + fire9:600", "--out", s.out + "/d.png"]), code: 2,
                      "error: --objective: channel 600 is out of range: 'fire9' has 512 channels (0…511)", scratch: s)
    }

    @Test func aMissingPhotoIsNamed() throws {
        let s = try Scratch()
        let missing = s.dir + "/nope.png"
        expectRefusal(try convlens(["dream", "--model", "squeezenet1_1", missing, "--out", s.out + "/d.png"]), code: 1, missing, scratch: s)
        expectRefusal(try convlens(["style", "--model", "squeezenet1_1", Self.chelsea, missing, "--out", s.out + "/s.png"]), code: 1, missing, scratch: s)
        expectRefusal(try convlens(["gram", "--model", "squeezenet1_1", Self.chelsea, missing, "--layer", "fire2", "--out", s.out + "/g.png"]), code: 1, missing, scratch: s)
    }

    @Test func styleLayersMustExistAndHaveMaps() throws {
        let s = try Scratch()
        expectRefusal(try convlens(["style", "--model", "squeezenet1_1", Self.chelsea, Self.coffee, "--style-layers", "fire2,fire44", "--out", s.out + "/s.png"]), code: 2,
                      "error: unknown layer 'fire44'; did you mean 'fire4'", scratch: s)
        expectRefusal(try convlens(["style", "--model", "squeezenet1_1", Self.chelsea, Self.coffee, "--content-layer", "logits", "--out", s.out + "/s.png"]), code: 2,
                      "layer 'logits' has no feature maps (C, H, W) to compare; give a convolutional layer such as fire9", scratch: s)
        expectRefusal(try convlens(["gram", "--model", "squeezenet1_1", Self.chelsea, "--layer", "fire2", "--out", s.out + "/g.gif"]), code: 2, ".gif", scratch: s)
    }

    @Test func aHugeDreamIsRefusedFromItsShapes() throws {
        let s = try Scratch()
        let o = try convlens(["dream", "--model", "squeezenet1_1", Self.chelsea, "--size", "60000", "--out", s.out + "/d.png"])
        expectRefusal(o, code: 2, "dream of a 60000x39911 image would need", "try --size ", scratch: s)
        #expect(o.peakBytes < 500 << 20, "took \(o.peakBytes >> 20) MB to refuse")
    }

    @Test func smallRunsWriteWhatTheySay() throws {
        let s = try Scratch()
        let d = try convlens(["dream", "--model", "squeezenet1_1", Self.chelsea, "--size", "64", "--octaves", "2", "--steps", "2", "--layer", "fire4", "--out", s.out + "/d.png"])
        #expect(d.code == 0 && d.stdout.contains("dreamt L2(fire4) on a 64x43 image"), "\(d.stderr)")
        let st = try convlens(["style", "--model", "squeezenet1_1", Self.chelsea, Self.coffee, "--size", "48", "--steps", "3", "--json", "--out", s.out + "/s.jpg"])
        #expect(st.code == 0, "\(st.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(st.stdout.utf8)) as? [String: Any]
        #expect((doc?["curve"] as? [Any])?.count == 4 && doc?["method"] as? String == "lbfgs" && doc?["content_layer"] as? String == "fire7")
        let g = try convlens(["gram", "--model", "squeezenet1_1", Self.chelsea, Self.coffee, "--layer", "fire4", "--json", "--out", s.out + "/g.png"])
        let gram = try JSONSerialization.jsonObject(with: Data(g.stdout.utf8)) as? [String: Any]
        #expect(g.code == 0 && gram?["channels"] as? Int == 256 && (gram?["distances"] as? [[Double]])?.count == 2, "\(g.stderr)")
        #expect(s.outputs == ["d.png", "g.png", "s.jpg"])
    }
}
