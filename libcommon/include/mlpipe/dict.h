/*
 * dict.h - interning strings to dense ids (categorical levels).
 *
 * Ids are 0, 1, 2, ... in order of first appearance and stay stable for the
 * dictionary's life, so a categorical column's ids mean the same thing in
 * every batch.  A cap bounds memory on hostile input (a "category" column
 * with a million distinct values): past it ml_dict_intern fails.
 */
#ifndef MLPIPE_DICT_H
#define MLPIPE_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct ml_dict;

struct ml_dict *ml_dict_new(size_t max_entries, struct ml_err *err);
void ml_dict_free(struct ml_dict *d);

/* The id of s[0..len), adding it if new; -1 when the cap is reached or no memory. */
int32_t ml_dict_intern(struct ml_dict *d, const char *s, size_t len, struct ml_err *err);
/* The id of s, or -1 if absent (never adds). */
int32_t ml_dict_find(const struct ml_dict *d, const char *s, size_t len);
size_t ml_dict_size(const struct ml_dict *d);
/* The string of id (NUL-terminated, borrowed for the dictionary's life). */
const char *ml_dict_name(const struct ml_dict *d, int32_t id, size_t *len);

#endif
