/// Global pooling of (N, C, …) of any rank ≥ 3 over every axis after the first two, keeping them as size 1:
/// ONNX GlobalAveragePool and GlobalMaxPool, torch's adaptive_avg_pool2d/adaptive_max_pool2d to 1 (output (N, C, 1, 1)).
///
/// The max's gradient goes to the first maximum of each plane in row-major order, as torch's max pooling picks it
/// (a plane that holds NaN gets none).
public final class GlobalPool: Layer {
    public enum Mode: String, Sendable { case average, max }
    public let mode: Mode
    public init(_ mode: Mode) { self.mode = mode }

    public var kind: String { mode == .average ? "GlobalAveragePool" : "GlobalMaxPool" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = try onlyInput(inputs)
        try expect(s.count >= 3, "\(kind) expects (N, C, …) input of rank 3 or more, got \(s)")
        return [s[0], s[1]] + [Int](repeating: 1, count: s.count - 2)
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0], planes = x.shape[0] * x.shape[1]   // (N, C, …)
        let values = Reduce.pass(x.data, planes, x.count / Swift.max(planes, 1), 1, mode == .max ? .max : .sum)
        let scale = 1 / Float(x.count / Swift.max(planes, 1))
        y = Tensor(shape: try! outputShape([x.shape]), data: mode == .max ? values : values.map { $0 * scale })   // (N, C, 1, …)
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        guard needed[0] else { return [nil] }
        let x = inputs[0], planes = y.count, plane = x.count / Swift.max(planes, 1)
        var dx = Tensor(zeros: x.shape)                     // (N, C, …)
        for p in 0 ..< planes {
            if mode == .average {
                let g = dy.data[p] / Float(plane)
                for j in p * plane ..< (p + 1) * plane { dx.data[j] = g }
            } else if let j = (p * plane ..< (p + 1) * plane).first(where: { x.data[$0] == y.data[p] }) {
                dx.data[j] = dy.data[p]
            }
        }
        return [dx]
    }
}
