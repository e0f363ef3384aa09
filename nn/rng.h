/* rng.h: the one random generator of the toolkit (xoshiro256**, Blackman &
 * Vigna 2018). State is explicit and plain data, so a checkpoint stores it
 * and a run resumes bit-for-bit. Never use rand() or time() for randomness.
 */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} nn_rng;

/* Seeds all four words from one 64-bit seed via splitmix64 (any seed, 0 too). */
void nn_rng_seed(nn_rng *rng, uint64_t seed);

/* Independent stream derived from rng and a stream id, without advancing rng:
 * e.g. one per worker thread or per purpose (init, dropout, augmentation). */
nn_rng nn_rng_fork(const nn_rng *rng, uint64_t stream);

uint64_t nn_rng_u64(nn_rng *rng);
uint32_t nn_rng_u32(nn_rng *rng);
/* Uniform integer in [0, n), unbiased (n > 0). */
uint32_t nn_rng_below(nn_rng *rng, uint32_t n);
/* Uniform float in [0, 1), 24 random bits. */
float nn_rng_uniform(nn_rng *rng);
/* Uniform float in [lo, hi). */
float nn_rng_range(nn_rng *rng, float lo, float hi);
/* Standard normal (Box-Muller; no cached second value, so state stays plain). */
float nn_rng_normal(nn_rng *rng);
/* Fisher-Yates shuffle of an index array. */
void nn_rng_shuffle(nn_rng *rng, uint32_t *idx, uint32_t n);

#endif
