// Bad Keras files (issue 15), each through `convlens gradcam IMAGE --model FILE`: exit 1, one line naming the file and
// the problem, nothing written. The files come from Scripts/make_keras_fixtures.py (Tests/Fixtures/keras/hostile/):
// a model .h5 cut in half, a dataset whose dataspace was patched to 2^40 x 2^40, a group holding an external link to
// /etc/passwd, a config whose Flatten was renamed FancyFlatten, a Lambda layer, and a config asking for 5 filters
// where the file holds 4.
import Foundation
import Testing

@Suite struct HostileKerasTests {
    static let image = CLI.path("Samples/chelsea.png")

    @Test(arguments: [
        ("truncated.h5", "truncated"), ("absurd.h5", "overflows"), ("external.h5", "external link 'conv'"),
        ("unknown_class.h5", "'FancyFlatten'"), ("lambda.h5", "'double_it' is a Lambda layer: it holds Python code"),
        ("mismatch.h5", "weight 'kernel' has shape [3, 3, 3, 4] in the file, but the config makes it [3, 3, 3, 5]"),
    ])
    func badKerasFileIsRefused(_ file: String, _ problem: String) throws {
        let s = try Scratch()
        let path = CLI.path("Tests/Fixtures/keras/hostile/" + file)
        let outcome = try convlens(["gradcam", Self.image, "--model", path, "--out", s.out + "/map.png"])
        expectRefusal(outcome, code: 1, path, problem, scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    @Test func weightsOnlyFileAsAModelSaysWhatToDo() throws {
        let s = try Scratch()
        let path = CLI.path("Tests/Fixtures/keras/vgg16_weights.h5")
        let outcome = try convlens(["gradcam", Self.image, "--model", path, "--out", s.out + "/map.png"])
        expectRefusal(outcome, code: 1, path, "weights-only", "--model vgg16", scratch: s)
    }
}
