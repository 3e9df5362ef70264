// SHA-256's compression function for Support.SHA256: the x86 SHA extensions (sha256rnds2, sha256msg1/2), which hash
// at about ten times the rate of the portable loop, and that loop for other CPUs. Dataset runs hash every image they
// read, to key their outputs by content; in the Swift loop this took 9% of a SqueezeNet embeddings run's CPU time.
#include "csha256.h"
#include <stdatomic.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, int n) { return x >> n | x << (32 - n); }

void csha256_blocks_portable(uint32_t s[8], const uint8_t *p, size_t blocks) {
    for (; blocks > 0; blocks--, p += 64) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
        for (int i = 0; i < 64; i++) {
            uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
            uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
    }
}

#if defined(__x86_64__)
// Four rounds: the message words m (already with their constants added) through sha256rnds2 twice, the second pair
// of words moved into the low half.
#define ROUNDS4(m) do { \
        __m128i t = (m); \
        s1 = _mm_sha256rnds2_epu32(s1, s0, t); \
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(t, 0x0e)); \
    } while (0)

__attribute__((target("sha,sse4.1")))
static void blocks_sha(uint32_t s[8], const uint8_t *p, size_t blocks) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);   // big-endian words
    // The instructions keep the state as (a, b, e, f) and (c, d, g, h).
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[0]), 0xb1);           // c d a b
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[4]), 0x1b);          // e f g h -> h g f e
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                                 // a b e f
    s1 = _mm_blend_epi16(s1, t, 0xf0);                                                      // c d g h
    for (; blocks > 0; blocks--, p += 64) {
        const __m128i a0 = s0, c0 = s1;
        __m128i m[4];
        for (int i = 0; i < 4; i++) m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
        for (int r = 0; r < 16; r++) {
            __m128i w = m[r & 3];
            if (r >= 4) {
                // w[i] = σ1(w[i-2]) + w[i-7] + σ0(w[i-15]) + w[i-16], four words at a time.
                __m128i w16 = m[r & 3], w12 = m[(r + 1) & 3], w8 = m[(r + 2) & 3], w4 = m[(r + 3) & 3];
                __m128i x = _mm_sha256msg1_epu32(w16, w12);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w4, w8, 4));
                w = _mm_sha256msg2_epu32(x, w4);
                m[r & 3] = w;
            }
            ROUNDS4(_mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * r])));
        }
        s0 = _mm_add_epi32(s0, a0);
        s1 = _mm_add_epi32(s1, c0);
    }
    t = _mm_shuffle_epi32(s0, 0x1b);                                                        // f e b a
    s1 = _mm_shuffle_epi32(s1, 0xb1);                                                       // d c h g
    s0 = _mm_blend_epi16(t, s1, 0xf0);                                                      // f e d c -> words a..d
    s1 = _mm_alignr_epi8(s1, t, 8);                                                         // words e..h
    _mm_storeu_si128((__m128i *)&s[0], s0);
    _mm_storeu_si128((__m128i *)&s[4], s1);
}
#endif

int csha256_accelerated(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
#else
    return 0;
#endif
}

void csha256_blocks(uint32_t s[8], const uint8_t *p, size_t blocks) {
#if defined(__x86_64__)
    // Worked out on first use; dataset runs hash on all cores at once, hence the atomic (every thread stores the same).
    static _Atomic int accelerated = -1;
    int a = atomic_load_explicit(&accelerated, memory_order_relaxed);
    if (a < 0) atomic_store_explicit(&accelerated, a = csha256_accelerated(), memory_order_relaxed);
    if (a) { blocks_sha(s, p, blocks); return; }
#endif
    csha256_blocks_portable(s, p, blocks);
}
