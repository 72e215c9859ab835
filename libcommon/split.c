/* split.c - deterministic one-pass splitting of a record stream (see split.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/random.h"
#include "mlpipe/split.h"
#include "mlpipe/uri.h"

/* splitmix64's step and finaliser: every input bit affects every output bit */
static uint64_t mix64(uint64_t z)
{
	return ml_random_mix(z + 0x9e3779b97f4a7c15ull);
}

static double unit_interval(uint64_t h)
{
	return (double)(h >> 11) * 0x1.0p-53;
}

double ml_split_hash_row(uint64_t row, uint64_t seed)
{
	return unit_interval(mix64(mix64(seed) ^ row));
}

double ml_split_hash_key(const char *key, size_t len, uint64_t seed)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a over the key, then mixed */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ull;
	}
	return unit_interval(mix64(mix64(seed) ^ h));
}

size_t ml_split_choose(const double *ratios, size_t n, double u)
{
	double edge = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		edge += ratios[i];
		if (u < edge)
			return i;
	}
	return n - 1;
}

int ml_split_parse_ratios(const char *text, double *ratios, size_t *n, struct ml_err *err)
{
	double sum = 0;
	const char *p = text;
	*n = 0;
	for (;;) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || !(v > 0 && v <= 1) || (*end && *end != ','))
			return ml_err_set(err, ML_ERR_USAGE, "--ratios %s: expected numbers in (0, 1] separated by commas",
					  text);
		if (*n == ML_SPLIT_MAX)
			return ml_err_set(err, ML_ERR_USAGE, "--ratios %s: at most %d shares", text, ML_SPLIT_MAX);
		ratios[(*n)++] = v;
		sum += v;
		if (!*end)
			break;
		p = end + 1;	/* a comma must be followed by a number */
	}
	if (fabs(sum - 1) > 1e-9)
		return ml_err_set(err, ML_ERR_USAGE, "--ratios %s: the shares must add up to 1 (they add up to %g)", text,
				  sum);
	return 0;
}

/* One output share, written through a buffer: a row is far smaller than a write() is worth. */
struct share {
	struct ml_ostream *out;
	struct ml_buf buf;
};

#define SHARE_FLUSH (64 * 1024)

static int flush_share(struct share *sh, struct ml_err *err)
{
	int rc = ml_ostream_write(sh->out, sh->buf.data, sh->buf.len, err);
	ml_buf_reset(&sh->buf);
	return rc;
}

/* Close every share; after one fails to commit, the rest are discarded. */
static int close_all(struct share *sh, size_t n, int commit, struct ml_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (sh[i].out && commit && rc == 0 && flush_share(&sh[i], err) < 0)
			rc = -1;
		if (sh[i].out && ml_ostream_close(sh[i].out, commit && rc == 0, err) < 0)
			rc = -1;
		ml_buf_release(&sh[i].buf);
	}
	return rc;
}

static int open_all(struct ml_reader *r, const struct ml_split_opts *o, struct share *sh, struct ml_err *err)
{
	size_t hlen;
	const char *header = ml_reader_header_raw(r, &hlen);
	for (size_t i = 0; i < o->n; i++) {
		ml_buf_init(&sh[i].buf, SIZE_MAX);
		/* Atomic: a failed split leaves no half-written share behind. */
		sh[i].out = ml_open_write(o->uris[i], ML_WRITE_ATOMIC, err);
		if (!sh[i].out || (hlen && ml_ostream_write(sh[i].out, header, hlen, err) < 0))
			return -1;
	}
	return 0;
}

static int write_record(struct share *sh, const struct ml_record *rec, struct ml_err *err)
{
	int rc = ml_buf_add(&sh->buf, rec->raw, rec->raw_len);
	/* The last record of a file may lack a line end; a share must not. */
	if (rc == 0 && rec->raw_len && rec->raw[rec->raw_len - 1] != '\n')
		rc = ml_buf_addc(&sh->buf, '\n');
	if (rc < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return sh->buf.len >= SHARE_FLUSH ? flush_share(sh, err) : 0;
}

int ml_split_run(struct ml_reader *r, const struct ml_split_opts *o, uint64_t *counts, struct ml_err *err)
{
	struct share out[ML_SPLIT_MAX] = { 0 };
	struct ml_record rec;
	long key = -1;
	int rc;
	if (o->n < 1 || o->n > ML_SPLIT_MAX)
		return ml_err_set(err, ML_ERR_USAGE, "a split needs 1 to %d outputs, not %zu", ML_SPLIT_MAX, o->n);
	if (o->by && (key = ml_reader_find_column(r, o->by)) < 0)
		return ml_err_set(err, ML_ERR_DATA, "--by %s: no such column in the input", o->by);
	memset(counts, 0, o->n * sizeof *counts);
	if (open_all(r, o, out, err) < 0)
		goto fail;
	while ((rc = ml_reader_next(r, &rec, err)) > 0) {
		double u = key >= 0 && (size_t)key < rec.nfields
				   ? ml_split_hash_key(rec.fields[key].ptr, rec.fields[key].len, o->seed)
				   : ml_split_hash_row(rec.row, o->seed);
		size_t share = ml_split_choose(o->ratios, o->n, u);
		if (write_record(&out[share], &rec, err) < 0)
			goto fail;
		counts[share]++;
	}
	if (rc < 0)
		goto fail;
	return close_all(out, o->n, 1, err);
fail:
	close_all(out, o->n, 0, NULL);
	return -1;
}
