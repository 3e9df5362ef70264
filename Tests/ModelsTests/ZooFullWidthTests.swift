import Foundation
import Testing
import TestSupport

// Full-width resnet18 and vgg16 at 224x224 against PyTorch: slow (a ~530 MB VGG16 file), so opt-in. The fixtures
// are git-ignored; make them, then run:
//
//     /tmp/torch-venv/bin/python Scripts/make_zoo_fixtures.py --full
//     CONVLENS_FULL_WIDTH=1 swift test -c release -Xswiftc -enable-testing --filter ZooFullWidthTests
//
// The script's lines for these numbers (see ZooFixtureTests.swift for how each activation is taken):
//
//     ("resnet18", "resnet18", 1, (1, 3, 224, 224), 180, [("weights.pth", "zip", F32, "")], ["layer2.1", "layer4", "logits"]),
//     ("vgg16", "vgg16", 1, (1, 3, 224, 224), 160, [("weights.safetensors", "safetensors", F32, "")],
//      ["features.15", "features.29", "logits"]),
//     make(FULL, f, classes=1000)

/// Whether CONVLENS_FULL_WIDTH=1 is set and the full-width fixtures exist.
private let fullWidthEnabled: Bool = {
    let folder = Fixture.root + "/Tests/Fixtures/full"
    return ProcessInfo.processInfo.environment["CONVLENS_FULL_WIDTH"] == "1"
        && FileManager.default.fileExists(atPath: folder + "/resnet18/input.npy")
        && FileManager.default.fileExists(atPath: folder + "/vgg16/input.npy")
}()

@Suite(.enabled(if: fullWidthEnabled, "set CONVLENS_FULL_WIDTH=1 after `make_zoo_fixtures.py --full`"))
struct ZooFullWidthTests {
    @Test("full width matches torch", arguments: [
        ZooCase("resnet18", "resnet18", divisor: 1, weights: "weights.pth", layers: ["layer2.1", "layer4", "logits"]),
        ZooCase("vgg16", "vgg16", divisor: 1, weights: "weights.safetensors", layers: ["features.15", "features.29", "logits"]),
    ])
    func matchesTorch(_ c: ZooCase) throws {
        try c.check(set: "full")
    }
}
