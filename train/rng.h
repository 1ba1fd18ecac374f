/* rng.h - the training's random numbers: splitmix64, a counter-free generator whose
 * whole state is one u64, so a checkpoint can store it exactly. */
#ifndef SSMF_TRAIN_RNG_H
#define SSMF_TRAIN_RNG_H

#include <stdint.h>

static inline uint64_t train_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (multiply-shift; the bias is below 2^-40 for any n we shuffle). */
static inline uint64_t train_rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)train_rng_next(s) * n) >> 64);
}

/* The generator of one epoch: a function of the seed and the epoch only, so resuming
 * in the middle of an epoch rebuilds the same order. */
static inline uint64_t train_rng_epoch(uint64_t seed, int epoch)
{
	uint64_t s = seed ^ (0xd1b54a32d192ed03ull * (uint64_t)(epoch + 1));
	train_rng_next(&s);
	return s;
}

#endif
