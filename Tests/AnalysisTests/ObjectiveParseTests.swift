import Foundation
import Testing
@testable import Analysis
import Engine

/// The `--objective` grammar and its JSON form: what each text means, where a bad one stops, and the checks
/// against a network (unknown layers with the closest names, channels and positions out of range).
@Suite struct ObjectiveParseTests {
    typealias Spec = ObjectiveSpec

    static func message(_ body: () throws -> Any) -> String? {
        do { _ = try body() } catch { return "\(error)" }
        return nil
    }

    @Test func theGrammarReadsEveryKindOfTerm() throws {
        let s = try Spec.parse("fire8:12 + 0.5*fire8:40 - 1e-3*tv")
        #expect(s == Spec(terms: [(1, .channel(layer: "fire8", channel: 12)), (0.5, .channel(layer: "fire8", channel: 40)),
                                  (-1e-3, .totalVariation)]))
        #expect(try Spec.parse("  -2·neuron(features.3, 7) − l2 ") == Spec(terms: [(-2, .neuron(layer: "features.3", channel: 7, y: nil, x: nil)), (-1, .l2)]))
        #expect(try Spec.parse("neuron(block1_conv1, 3, 4, 5)") == Spec(terms: [(1, .neuron(layer: "block1_conv1", channel: 3, y: 4, x: 5))]))
        #expect(try Spec.parse("direction(fire8, 12=1, 40=-0.5)") == Spec(terms: [(1, .direction(layer: "fire8", weights: [12: 1, 40: -0.5]))]))
        #expect(try Spec.parse(":12 + 100*diversity") == Spec(terms: [(1, .channel(layer: nil, channel: 12)), (100, .diversity(layer: nil))]))
        #expect(try Spec.parse("diversity(fire8) + l2(/layer4/Relu_output_0) + l2()")
                == Spec(terms: [(1, .diversity(layer: "fire8")), (1, .layerNorm(layer: "/layer4/Relu_output_0")), (1, .layerNorm(layer: nil))]))
        #expect(try Spec.parse("'odd-name':3 + neuron(5)") == Spec(terms: [(1, .channel(layer: "odd-name", channel: 3)), (1, .neuron(layer: nil, channel: 5, y: nil, x: nil))]))
        // A weight distributes over parentheses; a minus before them flips every term.
        #expect(try Spec.parse("a:1 - 0.5*(b:2 - 2*tv)") == Spec(terms: [(1, .channel(layer: "a", channel: 1)), (-0.5, .channel(layer: "b", channel: 2)),
                                                                          (1, .totalVariation)]))
    }

    @Test func badTextSaysWhereItStops() {
        let cases: [(String, String)] = [
            ("fire8:12 + * 3", "expected a term (LAYER:C, neuron(...), direction(...), diversity(...), l2(...), tv or l2) at character 12, found '* 3'"),
            ("fire8:12 fire8:40", "expected + or - between terms at character 10, found 'fire8:40'"),
            ("fire8", "expected ':' and a channel after the layer name at character 1, found 'fire8'"),
            ("fire8:x", "expected a channel number after 'fire8:' at character 7, found 'x'"),
            ("neuron(fire8, 3, 4)", "expected ',' and a column X at character 19, found ')'"),
            ("direction(fire8, 12)", "expected '=' and the channel's weight"),
            ("(fire8:1", "expected ')' to close the '(' at character 9, found the end"),
            ("'fire8:1", "expected a closing ' at character 1"),
            ("", "expected a term"),
            ("bogus(fire8)", "expected neuron(, direction(, diversity( or l2( at character 1"),
        ]
        for (text, expected) in cases {
            let m = Self.message { try Spec.parse(text) }
            #expect(m?.contains(expected) == true, "\(text): \(m ?? "accepted")")
            #expect(m?.hasPrefix("cannot read the objective '\(text)'") == true)
        }
    }

    @Test func theJSONFormMeansTheSame() throws {
        let json = """
            [{"type": "channel", "layer": "fire8", "channel": 12}, {"type": "channel", "layer": "fire8", "channel": 40, "weight": 0.5},
             {"type": "tv", "weight": -0.001}, {"type": "neuron", "channel": 3, "y": 1, "x": 2}, {"type": "direction", "vector": {"4": 2}},
             {"type": "l2"}, {"type": "l2", "layer": "fire6"}]
            """
        #expect(try Spec.parse(json) == Spec.parse("fire8:12 + 0.5*fire8:40 - 0.001*tv + neuron(3, 1, 2) + direction(4=2) + l2 + l2(fire6)"))
        #expect(try Spec.parse(#"{"terms": [{"type": "diversity", "layer": "b"}]}"#) == Spec(terms: [(1, .diversity(layer: "b"))]))
        #expect(try Spec.parse(#"[{"type": "direction", "layer": "b", "vector": [0, 1.5, 0]}]"#) == Spec(terms: [(1, .direction(layer: "b", weights: [1: 1.5]))]))
        let bad: [(String, String)] = [
            (#"[{"type": "chanel", "channel": 1}]"#, "term 1 of the JSON objective: \"type\" must be one of channel, direction, diversity, l2, neuron, tv"),
            (#"[{"type": "channel"}]"#, "term 1 of the JSON objective: a channel term needs \"channel\""),
            (#"[{"type": "tv"}, {"type": "channel", "channel": 1, "colour": 2}]"#, "term 2 of the JSON objective: unknown key \"colour\""),
            (#"[{"type": "channel", "channel": 1.5}]"#, "\"channel\" must be a whole number"),
            (#"[{"type": "channel", "channel": true}]"#, "\"channel\" must be a number"),
            (#"[{"type": "neuron", "channel": 1, "y": 2}]"#, "give both \"y\" and \"x\""),
            (#"[]"#, "needs at least one term"),
            (#"{"terms": 3}"#, "a list of terms"),
            (#"[{"type": "#, "cannot read the objective as JSON"),
        ]
        for (text, expected) in bad {
            let m = Self.message { try Spec.parse(text) }
            #expect(m?.contains(expected) == true, "\(text): \(m ?? "accepted")")
        }
    }

    @Test func resolvingChecksLayersChannelsAndPositions() throws {
        let g = PatternGradientTests.smallNet()                       // a (3→6, s2), a.relu, b (6→5, p1), b.relu
        let input = [1, 3, 20, 20]                                     // a: 9x9, b: 9x9
        func resolve(_ text: String, _ layer: String? = nil) throws -> Objective {
            try Spec.parse(text).resolve(g, defaultLayer: layer, input: input) { $0 == "b.relu" ? ["b.relu"] : [] }
        }
        let o = try resolve("b.relu:3 + 0.5*neuron(a, 5, 8, 0) - 1e-3*tv + :1", "a.relu")
        #expect(o.description == "channel 3 of b.relu (pre-ReLU) + 0.5·neuron 5 of a at (8, 0) − 0.001·TV(image) + channel 1 of a.relu")
        #expect(o.terms.map(\.linearThrough) == [["b.relu"], [], [], []])
        let cases: [(String, String?, String)] = [
            ("b.rleu:1", nil, "unknown layer 'b.rleu'; did you mean 'b.relu'? Layers are: a, a.relu, b, b.relu"),
            ("b:5", nil, "channel 5 is out of range: 'b' has 5 channels (0…4)"),
            ("neuron(b, 0, 9, 0)", nil, "neuron position (9, 0) is outside the 9x9 map of 'b'"),
            (":1", nil, "the channel term names no layer; write it with one (fire8:12) or give --layer"),
            ("direction(b, 7=1)", nil, "channel 7 is out of range"),
            ("direction(b, 1=0)", nil, "the direction in 'b' is all zeros"),
        ]
        for (text, layer, expected) in cases {
            let m = Self.message { try resolve(text, layer) }
            #expect(m?.contains(expected) == true, "\(text): \(m ?? "accepted")")
        }
    }
}
