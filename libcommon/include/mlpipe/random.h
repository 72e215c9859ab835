/*
 * random.h - the one pseudo-random generator every tool and plugin uses:
 * splitmix64 (Steele, Lea and Flood), so the same seed gives the same
 * samples, splits and shuffles on any machine.
 *
 *     uint64_t state = seed;
 *     uint64_t r = ml_random_next(&state);
 *     ml_random_shuffle(order, n, &state);   // Fisher-Yates
 */
#ifndef MLPIPE_RANDOM_H
#define MLPIPE_RANDOM_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t ml_random_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t ml_random_next(uint64_t *state)
{
	return ml_random_mix(*state += 0x9e3779b97f4a7c15ULL);
}

/* Uniform on [0, 1) with 53 random bits. */
static inline double ml_random_uniform(uint64_t *state)
{
	return (double)(ml_random_next(state) >> 11) * 0x1.0p-53;
}

/* Put v[0..n) in a random order (Fisher-Yates, from the last element down). */
static inline void ml_random_shuffle(size_t *v, size_t n, uint64_t *state)
{
	for (size_t i = n; i-- > 1;) {
		size_t j = (size_t)(ml_random_next(state) % (i + 1)), t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

#endif
