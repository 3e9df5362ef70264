// IEEE half and bfloat16 to Float32, by bit manipulation, so the result is the same on every platform.

/// The Float32 equal to an IEEE 754 half-precision value (exact: every half is a float).
/// - Parameters:
///   - h: the half's 16 bits: 1 sign, 5 exponent, 10 mantissa.
@inline(__always) func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1f
    let mantissa = UInt32(h & 0x3ff)
    if exponent == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }  // Inf, NaN
    if exponent == 0 {  // zero and subnormals: mantissa * 2^-24
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))  // rebias 15 -> 127
}

/// The Float32 equal to a bfloat16 value: bfloat16 is the top half of a float.
/// - Parameters:
///   - b: the bfloat16's 16 bits.
@inline(__always) func floatFromBFloat16Bits(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}
