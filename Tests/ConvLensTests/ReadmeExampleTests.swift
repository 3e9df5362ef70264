import Foundation
import Testing
import Analysis
import ConvLens
import Imaging
import TestSupport

/// The README's "From Swift" example, compiled and run: the code between the markers is the README's, line for line
/// (`readmeShowsThisCode` holds them together), with `root` the package's directory.
@Suite(.serialized) struct ReadmeExampleTests {
    static let ready = Fixture.installedSqueezeNet != nil

    @Test(.enabled(if: ready, "needs the installed SqueezeNet (run the setup)"))
    func libraryExampleRuns() throws {
        let root = Fixture.root
        // README begin
        let photos = ["chelsea.png", "coffee.png"].map { root + "/Samples/" + $0 }
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: root + "/Weights/squeezenet1_1.safetensors")
        let images = try ImageBatch.prepare(photos, lm.preprocessing).images

        // Classify: the three best classes of each image.
        let classes = try Classify.run(lm, images: images, top: 3)
        print(classes.map { $0.top[0].label })                             // ["Egyptian Mau", "espresso"]

        // Grad-CAM of each image's three best classes: one forward pass, then one backward pass per class.
        let layer = lm.model.architecture.camLayer                          // "fire9"
        let pass = try CAMPass(graph: lm.model.inference(keeping: [layer]), input: ImageBatch.tensor(images))
        let top3 = try pass.top(3).map { try pass.explain(.gradcam, layers: [layer], targets: $0) }
        print(top3[0].maps.shape, top3.map { $0.classes })                  // [2, 227, 227] [[285, 967], ...]
        // Any target: here p(espresso) for both images, by Grad-CAM++.
        let espresso = try pass.explain(.gradcamPlusPlus, layers: [layer], targets: [.probability(967), .probability(967)])

        // Filter patterns: what four filters of fire2 respond to, drawn in memory.
        var po = PatternsOptions()
        po.layers = ["fire2"]
        po.filters = [0, 1, 2, 3]
        po.size = 64
        po.steps = 16
        let patterns = try PatternsJob.compute(lm, options: po)
        print(patterns.results[0].filters)                                  // [0, 1, 2, 3]

        // Correlate: the two images' pooled features, and Pearson's r between them.
        let set = try CorrelateJob.embed(lm, paths: photos, feature: .pooled(lm.model.architecture.embeddingLayer),
                                         labelByFile: true, keepLogits: false, maxPixels: ImageIO.defaultMaxPixels)
        let r = Correlation.matrix(set.embeddings, set.embeddings, metric: .pearson)   // (2, 2)
        print(r.data)
        // README end

        #expect(classes.map { $0.top[0].index } == [285, 967])
        #expect(top3.count == 3 && top3[0].classes == [285, 967] && top3[0].maps.shape == [2, 227, 227])
        #expect(espresso.targets == [.probability(967), .probability(967)] && espresso.scores[1] > espresso.scores[0])
        #expect(patterns.results.count == 1 && patterns.results[0].filters == [0, 1, 2, 3])
        #expect(r.shape == [2, 2] && abs(r.data[0] - 1) < 1e-5 && r.data[1] < 0.9)
    }

    /// Every line of the README's example is a line of the test above, in the same order.
    @Test func readmeShowsThisCode() throws {
        let readme = try String(contentsOfFile: Fixture.root + "/README.md", encoding: .utf8)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = try #require(readme.range(of: "### From Swift"))
        let block = try #require(readme[start.upperBound...].range(of: "```swift\n"))
        let end = try #require(readme[block.upperBound...].range(of: "```"))
        let shown = readme[block.upperBound ..< end.lowerBound].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("import ") && !$0.hasPrefix("let root") }
        let body = source.components(separatedBy: "// README begin")[1].components(separatedBy: "// README end")[0]
        let tested = body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(shown == tested, "the README's example differs from the test's code")
    }
}
