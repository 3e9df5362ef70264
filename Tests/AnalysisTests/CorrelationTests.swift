import Testing
@testable import Analysis
import Engine
import TestSupport

/// Correlation and clustering against numpy and scipy, on the real MobileNetV2's embeddings of the five Samples
/// photos (fixture group "mobilenet_real" of Scripts/make_fixtures.py):
///     np.corrcoef(e); scipy.stats.spearmanr(e, axis=1).statistic; (e/|e|) @ (e/|e|).T
///     z = scipy.cluster.hierarchy.linkage(1 - np.corrcoef(e)[np.triu_indices(5, 1)], method="average")
///     scipy.cluster.hierarchy.leaves_list(z)
@Suite struct CorrelationTests {
    @Test func metricsMatchNumpyAndScipy() throws {
        let e = try Fixture.load("mobilenet_samples_embeddings")                 // (5, 1280)
        for metric in Correlation.Metric.allCases {
            #expect(compare("\(metric) vs numpy/scipy", Correlation.matrix(e, e, metric: metric), try Fixture.load("corr_\(metric)"), tolerance: 1e-5))
        }
        // n x m: the first two rows against all five.
        let two = Tensor(shape: [2, 1280], data: Array(e.data[0 ..< 2560]))
        let full = try Fixture.load("corr_pearson")
        #expect(compare("pearson 2x5", Correlation.matrix(two, e, metric: .pearson), Tensor(shape: [2, 5], data: Array(full.data[0 ..< 10])), tolerance: 1e-5))
    }

    @Test func averageLinkageMatchesScipy() throws {
        let corr = try Fixture.load("corr_pearson")
        let merges = Clustering.averageLinkage(corr.data.map { 1 - $0 }, n: 5)
        let z = try Fixture.load("corr_linkage")                                 // (4, 4): a, b, height, size
        for (i, m) in merges.enumerated() {
            #expect(Float(m.a) == z.data[4 * i] && Float(m.b) == z.data[4 * i + 1], "merge \(i): \(m) vs scipy \(z.data[4 * i ..< 4 * i + 4])")
            #expect(abs(m.height - z.data[4 * i + 2]) < 1e-5)
            #expect(Float(m.size) == z.data[4 * i + 3])
        }
        #expect(Clustering.leafOrder(merges, n: 5) == (try Fixture.load("corr_leaves")).data.map { Int($0) })
    }

    @Test func spearmanTiesShareTheirAverageRank() {
        #expect(Correlation.ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])   // scipy.stats.rankdata([10, 20, 20, 5])
    }
}
