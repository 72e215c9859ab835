/*
 * dict.c - string interning with open addressing.
 *
 * Strings live in one arena and are found through a power-of-two table of
 * ids; the table is kept at most half full so probes stay short.
 */
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/dict.h"

struct dict_entry {
	size_t off;	/* into the arena */
	uint32_t len;
	uint32_t hash;
};

struct ml_dict {
	struct dict_entry *entries;	/* by id */
	size_t n, alloc, max;
	int32_t *slots;			/* -1 = empty */
	size_t nslots;			/* power of two */
	struct ml_buf arena;		/* NUL-terminated strings back to back */
};

/* FNV-1a: short keys, no need for more. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

struct ml_dict *ml_dict_new(size_t max_entries, struct ml_err *err)
{
	struct ml_dict *d = ml_calloc(1, sizeof *d, err);
	if (!d)
		return NULL;
	d->max = max_entries;
	d->nslots = 16;
	d->slots = ml_malloc(d->nslots * sizeof *d->slots, err);
	if (!d->slots) {
		free(d);
		return NULL;
	}
	memset(d->slots, 0xff, d->nslots * sizeof *d->slots);
	ml_buf_init(&d->arena, (size_t)1 << 34);
	return d;
}

void ml_dict_free(struct ml_dict *d)
{
	if (!d)
		return;
	free(d->entries);
	free(d->slots);
	ml_buf_release(&d->arena);
	free(d);
}

static int equal_at(const struct ml_dict *d, int32_t id, const char *s, size_t len, uint32_t h)
{
	const struct dict_entry *e = &d->entries[id];
	return e->hash == h && e->len == len && !memcmp(d->arena.data + e->off, s, len);
}

static size_t probe(const struct ml_dict *d, const char *s, size_t len, uint32_t h)
{
	size_t mask = d->nslots - 1, i = h & mask;
	while (d->slots[i] >= 0 && !equal_at(d, d->slots[i], s, len, h))
		i = (i + 1) & mask;
	return i;
}

int32_t ml_dict_find(const struct ml_dict *d, const char *s, size_t len)
{
	return d->slots[probe(d, s, len, hash_bytes(s, len))];
}

static int rehash(struct ml_dict *d, struct ml_err *err)
{
	size_t nslots = d->nslots * 2;
	int32_t *slots = ml_malloc(nslots * sizeof *slots, err);
	if (!slots)
		return -1;
	memset(slots, 0xff, nslots * sizeof *slots);
	for (size_t id = 0; id < d->n; id++) {
		size_t i = d->entries[id].hash & (nslots - 1);
		while (slots[i] >= 0)
			i = (i + 1) & (nslots - 1);
		slots[i] = (int32_t)id;
	}
	free(d->slots);
	d->slots = slots;
	d->nslots = nslots;
	return 0;
}

static int32_t add_entry(struct ml_dict *d, const char *s, size_t len, uint32_t h, struct ml_err *err)
{
	if (d->n == d->alloc) {
		size_t alloc = d->alloc ? d->alloc * 2 : 16;
		struct dict_entry *e = ml_realloc_array(d->entries, alloc, sizeof *e, err);
		if (!e)
			return -1;
		d->entries = e;
		d->alloc = alloc;
	}
	size_t off = d->arena.len;
	if (ml_buf_add(&d->arena, s, len) < 0 || ml_buf_addc(&d->arena, '\0') < 0) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory interning strings");
		return -1;
	}
	d->entries[d->n] = (struct dict_entry){ off, (uint32_t)len, h };
	return (int32_t)d->n++;
}

int32_t ml_dict_intern(struct ml_dict *d, const char *s, size_t len, struct ml_err *err)
{
	uint32_t h = hash_bytes(s, len);
	size_t slot = probe(d, s, len, h);
	if (d->slots[slot] >= 0)
		return d->slots[slot];
	if (d->n >= d->max) {
		ml_err_set(err, ML_ERR_DATA, "more than %zu distinct values", d->max);
		return -1;
	}
	if (len > UINT32_MAX) {
		ml_err_set(err, ML_ERR_DATA, "value too long (%zu bytes)", len);
		return -1;
	}
	int32_t id = add_entry(d, s, len, h, err);
	if (id < 0)
		return -1;
	if ((d->n) * 2 > d->nslots) {
		if (rehash(d, err) < 0)
			return -1;
	} else {
		d->slots[slot] = id;
	}
	return id;
}

size_t ml_dict_size(const struct ml_dict *d)
{
	return d->n;
}

const char *ml_dict_name(const struct ml_dict *d, int32_t id, size_t *len)
{
	if (id < 0 || (size_t)id >= d->n)
		return NULL;
	if (len)
		*len = d->entries[id].len;
	return d->arena.data + d->entries[id].off;
}
