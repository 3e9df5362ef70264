#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Engine

/// Elementwise functions: derivatives against finite differences away from kinks, values against Python's math
/// module, derivatives at kinks against PyTorch's rules, and the vector exp/erf/tanh against libm.
@Suite struct UnaryTests {
    /// Every op whose domain is the whole line, on inputs 0.1k + 0.05 (no kink within 0.05: 0, ±1, ±2.5, ±3).
    static let wholeLine: [Unary.Op] = [
        .identity, .leakyRelu(alpha: 0.1), .clip(min: -1, max: 2), .clip(min: 0, max: .infinity), .elu(alpha: 1.3), Unary.Op.selu(),
        .softplus, .mish, .sigmoid, .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSigmoid(alpha: 1.0 / 6, beta: 0.5), .hardSwish,
        .tanh, .erf, .gelu, .geluTanh, .silu, .exp, .neg, .abs, .pow(2), .pow(3), .pow(0), .pow(1),
    ]
    /// Ops defined for positive inputs, tested on [0.5, 3).
    static let positive: [Unary.Op] = [.log, .sqrt, .reciprocal, .pow(0.5), .pow(-1), .pow(1.7), .pow(-2.5)]

    @Test("Derivatives match finite differences", arguments: wholeLine + positive)
    func derivatives(_ op: Unary.Op) throws {
        var rng = SeededRandom(4)
        for shape in [[2, 3, 4, 5], [7], [], [3, 1, 2, 2, 3]] {
            let x = Self.positive.contains(op) ? uniformTensor(shape, &rng, 0.5, 3) : gridTensor(shape, &rng, range: 4.5)
            try expectGradients("\(Unary(op).kind) \(Unary(op).summary) \(shape)", Unary(op), [x], eps: 5e-3)
        }
    }

    /// Expected values from Python's math module, e.g. 0.5·x·(1 + math.erf(x / math.sqrt(2))) for GELU and
    /// math.log1p(math.exp(x)) for softplus, at x = -3.5, -1.25, -0.5, 0, 0.25, 1, 2.75.
    @Test func valuesMatchPythonMath() throws {
        let x = Tensor(shape: [7], data: [-3.5, -1.25, -0.5, 0, 0.25, 1, 2.75])
        let expected: [(Unary.Op, [Float])] = [
            (.erf, [-0.999999257, -0.922900128, -0.520499878, 0, 0.27632639, 0.842700793, 0.999899378]),
            (.gelu, [-0.000814201777, -0.132062217, -0.154268769, 0, 0.149676581, 0.841344746, 2.74180565]),
            (.geluTanh, [-0.000616197655, -0.132285797, -0.15428599, 0, 0.149675351, 0.841191991, 2.74227686]),
            (.tanh, [-0.998177898, -0.84828364, -0.462117157, 0, 0.244918662, 0.761594156, 0.991859725]),
            (.sigmoid, [0.0293122308, 0.222700139, 0.377540669, 0.5, 0.562176501, 0.731058579, 0.93991335]),
            (.softplus, [0.0297504183, 0.251929081, 0.474076984, 0.693147181, 0.82593942, 1.31326169, 2.81196759]),
            (.mish, [-0.104095754, -0.308413961, -0.220743775, 0, 0.16957241, 0.865098388, 2.7302142]),
            (.silu, [-0.102592808, -0.278375174, -0.188770334, 0, 0.140544125, 0.731058579, 2.58476171]),
            (.elu(alpha: 1), [-0.969802617, -0.713495203, -0.39346934, 0, 0.25, 1, 2.75]),
            (Unary.Op.selu(), [-1.70500935, -1.25439545, -0.69175819, 0, 0.262675256, 1.05070102, 2.88942781]),
            (.hardSwish, [0, -0.364583333, -0.208333333, 0, 0.135416667, 0.666666667, 2.63541667]),
            (.hardSigmoid(alpha: 0.2, beta: 0.5), [0, 0.25, 0.4, 0.5, 0.55, 0.7, 1]),
            (.clip(min: -1, max: 2), [-1, -1, -0.5, 0, 0.25, 1, 2]),
            (.leakyRelu(alpha: 0.01), [-0.035, -0.0125, -0.005, 0, 0.25, 1, 2.75]),
            (.pow(2), [12.25, 1.5625, 0.25, 0, 0.0625, 1, 7.5625]),
            (.abs, [3.5, 1.25, 0.5, 0, 0.25, 1, 2.75]),
        ]
        for (op, values) in expected {
            let y = try run(Unary(op), [x])
            #expect(maxDiff("\(op)", y, Tensor(shape: [7], data: values), tolerance: 1e-6) <= 1e-6, "\(op)")
        }
    }

    /// dy·f′(x) with dy = 1 at the kinks, as torch computes it: hardswish_backward (x ≤ −3 → 0, x ≥ 3 → 1, else
    /// x/3 + ½), hardsigmoid_backward (open interval), abs's sgn (0 at 0), clamp_backward (1 on the closed interval),
    /// leaky_relu_backward and elu_backward (x ≤ 0 takes the negative side).
    @Test func derivativesAtKinksFollowTorch() {
        func slope(_ op: Unary.Op, _ xs: [Float]) -> [Float] {
            let x = Tensor(shape: [xs.count], data: xs), l = Unary(op)
            var y = Tensor(zeros: [0])
            l.forward([x], &y)
            return l.backward([x], y, Tensor(shape: x.shape, repeating: 1), needed: [true])[0]!.data
        }
        #expect(slope(.hardSwish, [-3, 0, 3]) == [0, 0.5, 1])
        #expect(slope(.hardSigmoid(alpha: 1.0 / 6, beta: 0.5), [-3, 0, 3]) == [0, 1.0 / 6, 0])
        #expect(slope(.abs, [-2, 0, 2]) == [-1, 0, 1])
        #expect(slope(.clip(min: 0, max: 6), [-1, 0, 6, 7]) == [0, 1, 1, 0])
        #expect(slope(.leakyRelu(alpha: 0.2), [0]) == [0.2])
        #expect(slope(.elu(alpha: 0.7), [0]) == [0.7])
        #expect(slope(.pow(0), [2]) == [0])
    }

    /// Far from 0 nothing overflows into NaN: torch gives sigmoid(±100) = 0, 1; mish(100) = 100; softplus(100) = 100.
    @Test func extremesStayFinite() throws {
        let x = Tensor(shape: [4], data: [-100, -30, 30, 100])
        let s = try run(Unary(.sigmoid), [x]).data
        #expect(s[0] == 0 && abs(s[1] - 9.357623e-14) < 1e-19 && s[2] == 1 && s[3] == 1)
        #expect(try run(Unary(.mish), [x]).data.map { abs($0) < 1e-10 ? 0 : $0 } == [0, 0, 30, 100])
        #expect(try run(Unary(.softplus), [x]).data.suffix(2) == [30, 100])
        #expect(try run(Unary(.tanh), [x]).data == [-1, -1, 1, 1])
        #expect(try run(Unary(.gelu), [x]).data == [0, 0, 30, 100])
        #expect(try run(Unary(.silu), [x]).data.suffix(2) == [30, 100])
    }

    /// expV, erfV and tanhV against glibc's expf, erff and tanhf over their useful ranges, with the special values.
    @Test func vectorMathMatchesLibm() {
        func worst(_ lo: Float, _ hi: Float, _ v: (Float8) -> Float8, _ s: (Float) -> Float, relative: Bool) -> Float {
            var m: Float = 0
            for k in 0 ..< 20_000 {
                let x = lo + (hi - lo) * Float(k) / 20_000
                let got = v(Float8(repeating: x))[0], want = s(x)
                m = max(m, abs(got - want) / (relative ? max(abs(want), .leastNormalMagnitude) : 1))
            }
            return m
        }
        let e = worst(-87, 88.7, expV, expf, relative: true), r = worst(-6, 6, erfV, erff, relative: false)
        let t = worst(-10, 10, tanhV, tanhf, relative: false), tr = worst(-0.7, 0.7, tanhV, tanhf, relative: true)
        print("expV rel \(e), erfV abs \(r), tanhV abs \(t), tanhV rel near 0 \(tr)")
        #expect(e < 3e-7 && r < 5e-7 && t < 2.5e-7 && tr < 3e-7)
        let special = expV(Float8(-.infinity, .infinity, .nan, -88, 89, 0, 1, -1))
        #expect(special[0] == 0 && special[1] == .infinity && special[2].isNaN && special[3] == 0 && special[4] == .infinity)
        #expect(special[5] == 1 && abs(special[6] - 2.7182817) < 3e-7 && abs(special[7] - 0.36787945) < 1e-7)
    }

    /// Over 2¹⁶ values the pass is split across cores: it must agree with the same function on one value at a time.
    @Test func bigTensorsAgreeWithSmallOnes() throws {
        var rng = SeededRandom(6)
        let x = randomTensor([3, 30001], &rng, scale: 4)
        for op in [Unary.Op.gelu, .hardSwish, .sigmoid] {
            let l = Unary(op), y = try run(l, [x]), dy = randomTensor(x.shape, &rng)
            let dx = l.backward([x], y, dy, needed: [true])[0]!
            for i in stride(from: 0, to: x.count, by: 997) {
                let xi = Tensor(shape: [1], data: [x.data[i]]), yi = try run(l, [xi])
                let di = l.backward([xi], yi, Tensor(shape: [1], data: [dy.data[i]]), needed: [true])[0]!
                #expect(yi.data[0] == y.data[i] && di.data[0] == dx.data[i], "\(op) at \(i)")
            }
        }
    }
}
