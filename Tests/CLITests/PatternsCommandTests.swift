import ArgumentParser
import Testing
@testable import convlens

/// The `patterns` command's arguments and help text.
@Suite struct PatternsCommandTests {
    @Test func helpListsTheOptions() {
        let help = Patterns.helpMessage(columns: 200)
        for option in ["--layer <name>", "--filters <list>", "--recipe <recipe>", "--size <size>", "--steps <steps>", "--seed <seed>",
                       "--per-row <per-row>", "--out <file>", "--raw <file.npy>", "--model <name|file>", "--weights <file>"] {
            #expect(help.contains(option), "help lacks \(option)")
        }
        #expect(help.contains("0..15,32"))
    }

    @Test func parsesLayersRecipesAndRejectsBadValues() throws {
        let p = try Patterns.parse(["--layer", "fire2,fire3", "--layer", "fire4", "--recipe", "keras", "--filters", "0..3", "--size", "64"])
        #expect(p.layer == ["fire2,fire3", "fire4"] && p.recipe == .keras && p.filters == "0..3" && p.size == 64)
        #expect(throws: (any Error).self) { try Patterns.parse(["--layer", "fire4", "--recipe", "lucid"]) }
        #expect(throws: (any Error).self) { try Patterns.parse(["--filters", "0..3"]) }             // no layer
        #expect(throws: (any Error).self) { try Patterns.parse(["--layer", "fire4", "--size", "8"]) }
    }
}
