/*
 * split.h - a deterministic train/validation/test split in one pass.
 *
 * Each record goes, verbatim, to exactly one of n outputs.  The choice is a
 * hash of the record's row number and the seed, or with a key column of the
 * key's text and the seed, so the same key (the same car) never lands in two
 * outputs, and the same input and seed always give byte-identical outputs.
 */
#ifndef MLPIPE_SPLIT_H
#define MLPIPE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "stream.h"

#define ML_SPLIT_MAX 8

struct ml_split_opts {
	size_t n;			/* outputs */
	const char *uris[ML_SPLIT_MAX];	/* NULL: that share is dropped... never; all must be set */
	double ratios[ML_SPLIT_MAX];	/* add up to 1 */
	uint64_t seed;
	const char *by;			/* key column, or NULL for row numbers */
};

/* Which of the n shares a hash in [0, 1) falls in. */
size_t ml_split_choose(const double *ratios, size_t n, double u);
/* The [0, 1) hash of a row number, or of key bytes, with a seed. */
double ml_split_hash_row(uint64_t row, uint64_t seed);
double ml_split_hash_key(const char *key, size_t len, uint64_t seed);

/* Parse "0.7,0.15,0.15" (must add up to 1 within 1e-9, each in (0, 1]). */
int ml_split_parse_ratios(const char *text, double *ratios, size_t *n, struct ml_err *err);

/* Read all of r, writing each record to its share; counts[i] = rows written there. */
int ml_split_run(struct ml_reader *r, const struct ml_split_opts *o, uint64_t *counts, struct ml_err *err);

#endif
