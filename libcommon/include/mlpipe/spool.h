/*
 * spool.h - batches kept for more passes: in memory up to a budget, then in
 * an unlinked temporary file (sort(1)'s way of sorting more than memory).
 *
 * ml-train reads its training data once, through the recipe fit; what it
 * read is spooled here, so data from a pipe can be read again, and data
 * larger than memory trains in passes over the spool.
 *
 *     struct ml_spool *s = ml_spool_new(256 << 20, &err);
 *     while ((n = ml_reader_read_batch(r, &b, &err)) > 0)
 *             ml_spool_add(s, &b, &err);            // a copy is kept
 *     ml_spool_each(s, fn, arg, &err);              // once per pass, in order
 *     ml_spool_free(s);
 *
 * The batches' category ids point into the reader's dictionaries: the reader
 * must stay open while the spool is used.  The temporary file is created in
 * $TMPDIR (default /tmp) and unlinked at once, so nothing is left behind
 * even on a crash.
 */
#ifndef MLPIPE_SPOOL_H
#define MLPIPE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "stream.h"

struct ml_spool;

/* A spool keeping up to budget bytes of batches in memory. */
struct ml_spool *ml_spool_new(size_t budget, struct ml_err *err);
void ml_spool_free(struct ml_spool *s);

/* Keep a copy of b (rows, line numbers and values; not the raw row text). */
int ml_spool_add(struct ml_spool *s, const struct ml_batch *b, struct ml_err *err);

/* The ml_recipe_opts.on_batch shape: arg is the spool. */
int ml_spool_add_cb(const struct ml_batch *b, void *arg, struct ml_err *err);

uint64_t ml_spool_rows(const struct ml_spool *s);
/* Did the batches outgrow the budget (some are in the temporary file)? */
int ml_spool_spilled(const struct ml_spool *s);

/*
 * Call fn with every batch, in the order added (one pass).  A batch handed
 * to fn is borrowed until fn returns.  fn returning -1 stops the pass.
 */
int ml_spool_each(struct ml_spool *s, int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err),
		  void *arg, struct ml_err *err);

/*
 * The same, the batches in an order shuffled from seed (a batch's own rows
 * keep theirs): a pass for stochastic gradient descent over data in file
 * order, which may be sorted.
 */
int ml_spool_each_shuffled(struct ml_spool *s, uint64_t seed,
			   int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err), void *arg,
			   struct ml_err *err);

/* Like ml_spool_each, and each batch is released from memory once fn has seen it (a last pass). */
int ml_spool_drain(struct ml_spool *s, int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err),
		   void *arg, struct ml_err *err);

/*
 * "256M", "2G", "512K", "1048576" (bytes): a size as sort -S takes it
 * (K, M, G, T are powers of 1024; a trailing "B" or "iB" is allowed).
 */
int ml_parse_size(const char *text, size_t *out);

#endif
