#include "nn/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void nn_rng_seed(nn_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

nn_rng nn_rng_fork(const nn_rng *rng, uint64_t stream)
{
    uint64_t x = rng->s[0] ^ rng->s[1] ^ (rng->s[2] << 1) ^ (rng->s[3] >> 1);
    x ^= stream * 0xd1342543de82ef95ULL;
    nn_rng out;
    nn_rng_seed(&out, x);
    return out;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nn_rng_u64(nn_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t nn_rng_u32(nn_rng *rng) { return (uint32_t)(nn_rng_u64(rng) >> 32); }

uint32_t nn_rng_below(nn_rng *rng, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased for every n. */
    uint64_t m = (uint64_t)nn_rng_u32(rng) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)nn_rng_u32(rng) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float nn_rng_uniform(nn_rng *rng) { return (float)(nn_rng_u64(rng) >> 40) * (1.0f / 16777216.0f); }

float nn_rng_range(nn_rng *rng, float lo, float hi) { return lo + (hi - lo) * nn_rng_uniform(rng); }

float nn_rng_normal(nn_rng *rng)
{
    float u1 = nn_rng_uniform(rng), u2 = nn_rng_uniform(rng);
    if (u1 < 1e-12f) u1 = 1e-12f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647f * u2);
}

void nn_rng_shuffle(nn_rng *rng, uint32_t *idx, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = nn_rng_below(rng, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
