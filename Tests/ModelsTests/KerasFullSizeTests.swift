import Engine
import Foundation
import Models
import Testing
import TestSupport

// Full-size keras.applications models (VGG16, VGG19, ResNet50, MobileNetV2, with and without top) from the weights
// files Keras downloads, against Keras's predict. Opt-in: the files are hundreds of MB and need a download this
// project's machines cannot make. Put them in a folder (as ~/.keras/models holds them), then:
//
//     KERAS_BACKEND=torch /tmp/keras-venv/bin/python Scripts/make_keras_fixtures.py --full DIR
//     CONVLENS_KERAS_APPLICATIONS=DIR swift test -c release -Xswiftc -enable-testing --filter KerasFullSizeTests
//
// The script's lines: model = keras.applications.VGG16(weights=f"{DIR}/{file}", include_top="notop" not in file);
// x = rng(11).uniform(-1, 1, (1, 224, 224, 3)); np.save(f"{file}.output.npy", model.predict(x)).

private let folder = ProcessInfo.processInfo.environment["CONVLENS_KERAS_APPLICATIONS"]

/// The weights files in the folder that have references.
private let files: [String] = {
    guard let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
    return names.filter { $0.hasSuffix(".h5") && names.contains($0 + ".output.npy") }.sorted()
}()

@Suite(.enabled(if: !files.isEmpty, "set CONVLENS_KERAS_APPLICATIONS to a folder prepared by make_keras_fixtures.py --full"))
struct KerasFullSizeTests {
    @Test("full-size keras.applications weights equal Keras's predict", arguments: files)
    func fullSize(_ file: String) throws {
        let app = ["vgg16", "vgg19", "resnet50", "mobilenet_v2"].first { file.hasPrefix($0 + "_weights") }!
        let (model, _) = try Model.kerasApplication(app, weights: folder! + "/" + file)
        let x = try Fixture.loadPath(folder! + "/" + file + ".input.npy")
        let got = try model.inference().forward(x).output("output")
        let e = relativeError(got, try Fixture.loadPath(folder! + "/" + file + ".output.npy"))
        print("TENSOR \(e <= 1e-4 ? "OK" : "BAD") \(file): relative maxdiff \(e)")
        #expect(e <= 1e-4, "\(file): differs from Keras's predict by \(e) of its largest")
    }
}
