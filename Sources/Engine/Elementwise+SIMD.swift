/// Eight Float32 lanes: the unit every elementwise kernel works in (two SSE or one AVX register).
typealias Float8 = SIMD8<Float>

/// Up to eight values from `p` (lanes past `n` are zero).
@inline(__always)
func load8(_ p: UnsafePointer<Float>, _ n: Int = 8) -> Float8 {
    if n >= 8 { return UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }
    var v = Float8()
    for k in 0 ..< n { v[k] = p[k] }
    return v
}

/// Writes the first `n` (at most eight) lanes of `v` to `p`.
@inline(__always)
func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>, _ n: Int = 8) {
    if n >= 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self); return }
    for k in 0 ..< n { p[k] = v[k] }
}

/// Calls `body(i, m)` for i = start, start + 8, ... over `range`, with m = how many of the eight lanes from i are in it.
@inline(__always)
func each8(_ range: Range<Int>, _ body: (_ i: Int, _ m: Int) -> Void) {
    var i = range.lowerBound
    while i + 8 <= range.upperBound {                    // m constant: the partial-vector branches fold away
        body(i, 8)
        i += 8
    }
    if i < range.upperBound { body(i, range.upperBound - i) }
}

/// Σ of `term(i, m)` over `range` eight lanes at a time, the lanes past the end of the range left out.
@inline(__always)
func sum8(_ range: Range<Int>, _ term: (_ i: Int, _ m: Int) -> Float8) -> Float {
    var acc = Float8()
    each8(range) { i, m in
        let v = term(i, m)
        acc += m == 8 ? v : v.replacing(with: 0, where: .!lanesBelow(m))
    }
    return acc.sum()
}

/// Lanes `0..<m` set, the rest clear.
@inline(__always)
func lanesBelow(_ m: Int) -> SIMDMask<SIMD8<Int32>> { SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .< SIMD8<Int32>(repeating: Int32(m)) }

/// f applied to each lane, for the functions without a vector form (log, pow: cold ops).
@inline(__always)
func lanewise(_ x: Float8, _ f: (Float) -> Float) -> Float8 {
    var r = Float8()
    for k in 0 ..< 8 { r[k] = f(x[k]) }
    return r
}

/// f applied to each pair of lanes.
@inline(__always)
func lanewise(_ a: Float8, _ b: Float8, _ f: (Float, Float) -> Float) -> Float8 {
    var r = Float8()
    for k in 0 ..< 8 { r[k] = f(a[k], b[k]) }
    return r
}
