/// SplitMix64 (Steele, Lea and Flood, 2014): a small seeded generator, the same numbers on every machine. Seeded
/// weights, pattern noise and SmoothGrad's noise all draw from it.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(_ seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1), from the top 53 bits of the next number.
    public mutating func nextUnitOpen() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
}
