import CSHA256
import Support
import Testing

/// Support.SHA256 against the digests published in FIPS 180-4's examples (NIST's "SHA256.pdf" example values and the
/// one-million-"a" vector of FIPS 180-2 Appendix B.3), fed whole and in uneven pieces, and the SHA-extension path of
/// Sources/CSHA256 against its portable path.
@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func publishedDigests(_ c: (String, String)) {
        #expect(SHA256.hex(Array(c.0.utf8)) == c.1)
    }

    @Test func oneMillionAs() {
        let a = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(a) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var h = SHA256()                                    // the same in pieces that straddle block boundaries
        var at = 0, step = 1
        while at < a.count {
            let n = min(step, a.count - at)
            h.update(Array(a[at ..< at + n]))
            (at, step) = (at + n, step * 3 % 1000 + 1)
        }
        #expect(h.finish().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The SHA-extension path equals the portable one on random data (skipped where the CPU lacks the extensions).
    @Test func acceleratedPathEqualsThePortableOne() {
        guard SHA256.accelerated else { return }
        var x: UInt64 = 7                                   // a linear congruential stream of bytes
        for blocks in [1, 2, 3, 17, 100] {
            let data = (0 ..< 64 * blocks).map { _ in
                x = x &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: x >> 56)
            }
            var fast: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 8], slow = fast
            data.withUnsafeBufferPointer { p in
                csha256_blocks(&fast, p.baseAddress!, blocks)
                csha256_blocks_portable(&slow, p.baseAddress!, blocks)
            }
            #expect(fast == slow, "\(blocks) blocks")
        }
    }
}
