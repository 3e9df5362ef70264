#ifndef CSHA256_H
#define CSHA256_H
#include <stddef.h>
#include <stdint.h>

/// SHA-256's compression function (FIPS 180-4, §6.2.2) over `blocks` 64-byte blocks of `data`, updating the eight
/// state words in place: with the CPU's SHA extensions where it has them, else in portable C. Padding and the
/// length block are the caller's.
void csha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

/// Whether `csha256_blocks` runs on the SHA extensions on this CPU.
int csha256_accelerated(void);

/// The portable path alone, so tests can hold the two against each other.
void csha256_blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
