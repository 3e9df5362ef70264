import Foundation
import Testing
import Analysis
import ConvLens
import Engine
import Imaging
import Models
import Render
import TestSupport

/// The clear recipe's ingredients added one at a time on the real SqueezeNet, fire4, filters 0..15, 150 px, seed 0:
/// wins (pattern i excites filter i more than every other pattern does) and the median gain of each filter's mean
/// activation over noise (×20 + 128), scored as /work/shared/checks/tiles_patterns.sh scores them. Draws the README's
/// docs/patterns-ablation.png. Opt-in, it takes several minutes:
///     CONVLENS_PATTERNS_ABLATION=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-test \
///         --filter PatternAblation
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CONVLENS_PATTERNS_ABLATION"] == "1" && Fixture.installedSqueezeNet != nil))
struct PatternAblationTests {
    static func score(_ graph: Graph, layer: String, _ r: FilterPatterns.Result, noise: Tensor) throws -> (wins: Int, gain: Float) {
        let n = r.filters.count
        let a = try graph.forward(r.inputs, until: layer).output(layer)                    // (n, C, h, w)
        let b = try graph.forward(noise, until: layer).output(layer)                       // (4, C, h, w)
        let (c, plane) = (a.shape[1], a.shape[2] * a.shape[3])
        func mean(_ t: Tensor, _ i: Int, _ f: Int) -> Float { t.data[(i * c + f) * plane ..< (i * c + f + 1) * plane].reduce(0, +) / Float(plane) }
        var wins = 0, gains: [Float] = []
        for (i, f) in r.filters.enumerated() {
            if (0 ..< n).allSatisfy({ mean(a, i, f) >= mean(a, $0, f) }) { wins += 1 }
            gains.append(mean(a, i, f) / max((0 ..< 4).reduce(0) { $0 + mean(b, $1, f) } / 4, 1e-3))
        }
        return (wins, gains.sorted()[n / 2])
    }

    @Test func clearRecipeAblation() throws {
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: Fixture.installedSqueezeNet!)
        let space = PatternsJob.inputSpace(lm.preprocessing)
        let clear = PatternRecipe.clear(space)
        var pixels = clear                              // pre-ReLU objective and Adam on sigmoid pixels
        pixels.start = { h, w, rng in clear.start(h, w, &rng) }
        pixels.parameterisation = { _, _ in [.sigmoid] }
        pixels.transforms = []
        var fourier = clear                             // + Fourier 1/f spectrum and decorrelated colour
        fourier.transforms = []
        let variants: [(String, PatternRecipe)] = [("keras: the book's recipe", .keras(space)),
                                                   ("+ pre-ReLU objective, Adam on sigmoid pixels", pixels),
                                                   ("+ Fourier 1/f spectrum, decorrelated colour", fourier),
                                                   ("+ pad, jitter, scale, rotate = clear", clear)]
        var rng = (0 ..< 4).map { PatternRandom(seed: 99, filter: $0) }
        let noise = PatternRecipe.keras(space).start(150, 150, &rng)
        var grids: [any Figure] = [], titles: [String] = []
        for (name, recipe) in variants {
            let t0 = Date()
            let r = try FilterPatterns.run(lm.model.graph, layer: "fire4", filters: Array(0 ..< 16), recipe: recipe, size: 150, seed: 0)
            let t = Date().timeIntervalSince(t0)
            let s = try Self.score(lm.model.graph, layer: "fire4", r, noise: noise)
            print(String(format: "ABLATION %@ (%d steps): wins %d/16, median gain %.0fx, %.2f s per filter", name, recipe.steps, s.wins, s.gain, t / 16))
            let images = (0 ..< 8).map { i in
                RGBImage(planar: r.images.data[i * 3 * 150 * 150 ..< (i + 1) * 3 * 150 * 150].map { $0 * 255 }, height: 150, width: 150)
            }
            var g = ImageGrid(images: images, columns: 8)
            g.tileSize = 100
            grids.append(g)
            titles.append("\(name): \(s.wins)/16 own-filter wins, median gain \(Int(s.gain.rounded()))×")
        }
        let page = Panels(grids, columns: 1, titles: titles, title: "squeezenet1_1 fire4, filters 0–7, 150 px, seed 0")
        try FigureWriter.write(page, to: Fixture.root + "/docs/patterns-ablation.png", scale: 1)
    }
}
