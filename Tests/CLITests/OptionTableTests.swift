import ArgumentParser
import ConvLens
import Testing
@testable import convlens

/// Every numeric option of every command has a row in `OptionLimits`, the one table its value is checked against.
@Suite struct OptionTableTests {
    /// Each command parsed with its required arguments, and the option groups they share.
    static var parsed: [(String, Any)] { [  // computed: parsed commands are not Sendable
        ("classify", try! Classify.parse(["a.png"])),
        ("gradcam", try! GradCAM.parse(["a.png"])),
        ("activations", try! Activations.parse(["a.png", "--layer", "fire2"])),
        ("patterns", try! Patterns.parse(["--layer", "fire2"])),
        ("dream", try! Dream.parse(["a.png"])),
        ("style", try! Style.parse(["a.png", "b.png"])),
        ("gram", try! GramCommand.parse(["a.png", "--layer", "fire2"])),
        ("correlate", try! Correlate.parse(["a.png", "b.png"])),
        ("report", try! Report.parse(["a.png"])),
        ("layers", try! Layers.parse([])),
        ("bench", try! Bench.parse([])),
        ("weights import", try! WeightsCommand.Import.parse(["w.pth", "--arch", "resnet18", "--out", "w.safetensors"])),
        ("model options", try! ModelOptions.parse([])),
        ("dataset options", try! DatasetFlags.parse([])),
    ] }

    /// Numbers that have no range: any seed is a seed; class indices are checked against the model's class count.
    static let unranged: Set<String> = ["--seed", "--class"]

    @Test func everyNumericOptionIsInTheTable() {
        let table = Set(OptionLimits.all.map(\.name))
        var checked = 0
        for (command, value) in Self.parsed {
            for child in Mirror(reflecting: value).children {
                let type = String(describing: Swift.type(of: child.value))
                guard type.hasPrefix("Option<"), ["Int", "Double", "Float", "UInt"].contains(where: { type.contains("<\($0)") }),
                      let label = child.label else { continue }
                let name = "--" + label.dropFirst().reduce("") { $0 + ($1.isUppercase ? "-" + $1.lowercased() : String($1)) }
                let option = name == "--classes" ? "--class" : name
                checked += 1
                #expect(table.contains(option) || Self.unranged.contains(option), "\(command) \(option) (\(type)) has no row in OptionLimits")
            }
        }
        #expect(checked >= 15, "only \(checked) numeric options found: did the reflection stop matching?")
    }

    @Test func rangesReadAsIntervals() throws {
        #expect(OptionLimits.scale.range == "(0, 16]")
        #expect(OptionLimits.perRow.range == "[1, 1024]")
        #expect(throws: Never.self) { try OptionLimits.scale.check(16) }
        #expect(throws: Never.self) { try OptionLimits.alpha.check(0) }
        for bad in [0, -1, .nan, .infinity, 16.5] {
            #expect(throws: (any Error).self) { try OptionLimits.scale.check(bad) }
        }
        // A run-time bound narrows the range and the message says so.
        do { try OptionLimits.top.check(20, upper: 10); Issue.record("accepted --top 20 of 10 classes") } catch {
            #expect("\(error)" == "--top must be in [1, 10], got 20")
        }
    }
}
