/*
 * spool.c - batches kept for more passes, in memory up to a budget and then
 * in an unlinked temporary file (spool.h).
 *
 * A batch on disk is its arrays one after another:
 *
 *     nrows, text bytes          two uint64
 *     line[nrows], row[nrows]    uint64 each
 *     per column, as the first batch has them: num[nrows] (double),
 *         cat[nrows] (int32), or text_off[nrows] and text_len[nrows] (uint32)
 *     the text arena
 *
 * Column names, types, roles and dictionaries are the first batch's: every
 * batch of one reader shares them.  The file is private to the process, so
 * it is written in the machine's own byte order.
 */
#define _GNU_SOURCE	/* mkostemp */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlpipe/buf.h"
#include "mlpipe/random.h"
#include "mlpipe/spool.h"

#define SPOOL_IO_BUFFER ((size_t)1 << 20)

struct ml_spool {
	size_t budget, used;		/* bytes of batches held in memory */
	struct ml_batch *mem;		/* the first batches, in memory */
	size_t nmem, amem;
	FILE *file;			/* the rest, once the budget is spent */
	char *iobuf;
	size_t ndisk, max_rows;
	off_t *offset;			/* where each batch on disk starts */
	size_t aoffset;
	uint64_t rows;
	struct ml_batch shape;		/* the first batch's columns (no rows) */
	int have_shape;
};

struct ml_spool *ml_spool_new(size_t budget, struct ml_err *err)
{
	struct ml_spool *s = ml_calloc(1, sizeof *s, err);
	if (s) {
		s->budget = budget;
		ml_batch_init(&s->shape);
	}
	return s;
}

void ml_spool_free(struct ml_spool *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmem; i++)
		ml_batch_release(&s->mem[i]);
	free(s->mem);
	if (s->file)
		fclose(s->file);
	free(s->iobuf);
	free(s->offset);
	free(s->shape.cols);
	free(s);
}

uint64_t ml_spool_rows(const struct ml_spool *s)
{
	return s->rows;
}

int ml_spool_spilled(const struct ml_spool *s)
{
	return s->file != NULL;
}

/* Bytes of one row across the columns' arrays, plus line and row numbers. */
static size_t row_bytes(const struct ml_batch *b)
{
	size_t n = 2 * sizeof(uint64_t);
	for (size_t j = 0; j < b->ncols; j++) {
		const struct ml_batch_col *c = &b->cols[j];
		n += (c->num ? sizeof *c->num : 0) + (c->cat ? sizeof *c->cat : 0) +
		     (c->text_off ? sizeof *c->text_off + sizeof *c->text_len : 0);
	}
	return n;
}

/* The first batch's columns: metadata only, arrays marked present by a non-NULL pointer. */
static int take_shape(struct ml_spool *s, const struct ml_batch *b, struct ml_err *err)
{
	static double num_mark;
	static int32_t cat_mark;
	static uint32_t text_mark;
	s->shape.cols = ml_calloc(b->ncols + 1, sizeof *s->shape.cols, err);
	if (!s->shape.cols)
		return -1;
	s->shape.ncols = b->ncols;
	for (size_t j = 0; j < b->ncols; j++) {
		struct ml_batch_col *c = &s->shape.cols[j];
		*c = b->cols[j];
		c->num = c->num ? &num_mark : NULL;
		c->cat = c->cat ? &cat_mark : NULL;
		c->text_off = c->text_off ? &text_mark : NULL;
		c->text_len = c->text_len ? &text_mark : NULL;
	}
	s->have_shape = 1;
	return 0;
}

static int same_shape(const struct ml_spool *s, const struct ml_batch *b, struct ml_err *err)
{
	int same = b->ncols == s->shape.ncols;
	for (size_t j = 0; same && j < b->ncols; j++) {
		const struct ml_batch_col *c = &b->cols[j], *k = &s->shape.cols[j];
		same = !c->num == !k->num && !c->cat == !k->cat && !c->text_off == !k->text_off && c->dict == k->dict;
	}
	return same ? 0 : ml_err_set(err, ML_ERR_INTERNAL, "spool: a batch with other columns than the first");
}

static int spool_io_error(int errnum, const char *what, struct ml_err *err)
{
	const char *dir = getenv("TMPDIR");
	ml_err_errno(err, errnum,
		     "%s the training data spooled in %s (set TMPDIR to a file system with room, "
		     "or raise --buffer-size)",
		     what, dir && *dir ? dir : "/tmp");
	if (err)
		err->class = ML_ERR_IO;	/* the temporary file, whatever errno says (ENOENT is no missing input) */
	return -1;
}

static int open_file(struct ml_spool *s, struct ml_err *err)
{
	const char *dir = getenv("TMPDIR");
	struct ml_buf path;
	ml_buf_init(&path, 4096);
	if (ml_buf_printf(&path, "%s/mlpipe-spool-XXXXXX", dir && *dir ? dir : "/tmp") < 0) {
		ml_buf_release(&path);
		return ml_err_set(err, ML_ERR_USAGE, "TMPDIR is too long a path");
	}
	int fd = mkostemp(path.data, O_CLOEXEC);
	int errnum = errno;
	if (fd >= 0)
		unlink(path.data);	/* gone with the process, whatever happens */
	ml_buf_release(&path);
	if (fd < 0)
		return spool_io_error(errnum, "cannot create a temporary file for", err);
	if (!(s->file = fdopen(fd, "w+b"))) {
		close(fd);
		return spool_io_error(errno, "cannot open", err);
	}
	if ((s->iobuf = malloc(SPOOL_IO_BUFFER)) != NULL)
		setvbuf(s->file, s->iobuf, _IOFBF, SPOOL_IO_BUFFER);
	return 0;
}

static int put(struct ml_spool *s, const void *p, size_t size, size_t n, struct ml_err *err)
{
	if (n && fwrite(p, size, n, s->file) != n)
		return spool_io_error(errno, "cannot write", err);
	return 0;
}

/* Where the next batch on disk starts, remembered for shuffled passes. */
static int note_offset(struct ml_spool *s, struct ml_err *err)
{
	if (s->ndisk == s->aoffset) {
		size_t n = s->aoffset ? s->aoffset * 2 : 256;
		off_t *more = ml_realloc_array(s->offset, n, sizeof *more, err);
		if (!more)
			return -1;
		s->offset = more;
		s->aoffset = n;
	}
	if ((s->offset[s->ndisk] = ftello(s->file)) < 0)
		return spool_io_error(errno, "cannot tell the position in", err);
	return 0;
}

static int write_batch(struct ml_spool *s, const struct ml_batch *b, struct ml_err *err)
{
	uint64_t head[2] = { b->nrows, b->text.len };
	size_t n = b->nrows;
	if ((!s->file && open_file(s, err) < 0) || note_offset(s, err) < 0)
		return -1;
	if (put(s, head, sizeof *head, 2, err) < 0 || put(s, b->line, sizeof *b->line, n, err) < 0 ||
	    put(s, b->row, sizeof *b->row, n, err) < 0)
		return -1;
	for (size_t j = 0; j < b->ncols; j++) {
		const struct ml_batch_col *c = &b->cols[j];
		if ((c->num && put(s, c->num, sizeof *c->num, n, err) < 0) ||
		    (c->cat && put(s, c->cat, sizeof *c->cat, n, err) < 0) ||
		    (c->text_off && (put(s, c->text_off, sizeof *c->text_off, n, err) < 0 ||
				     put(s, c->text_len, sizeof *c->text_len, n, err) < 0)))
			return -1;
	}
	if (put(s, b->text.data, 1, b->text.len, err) < 0)
		return -1;
	s->ndisk++;
	if (n > s->max_rows)
		s->max_rows = n;
	return 0;
}

static int keep_in_memory(struct ml_spool *s, const struct ml_batch *b, struct ml_err *err)
{
	if (s->nmem == s->amem) {
		size_t n = s->amem ? s->amem * 2 : 64;
		struct ml_batch *more = ml_realloc_array(s->mem, n, sizeof *more, err);
		if (!more)
			return -1;
		s->mem = more;
		s->amem = n;
	}
	if (ml_batch_copy(&s->mem[s->nmem], b, err) < 0)
		return -1;
	s->nmem++;
	return 0;
}

int ml_spool_add(struct ml_spool *s, const struct ml_batch *b, struct ml_err *err)
{
	if (b->nrows == 0)
		return 0;
	if (!s->have_shape ? take_shape(s, b, err) < 0 : same_shape(s, b, err) < 0)
		return -1;
	size_t bytes = b->nrows * row_bytes(b) + b->text.len;
	int rc;
	if (!s->file && s->used + bytes <= s->budget) {
		rc = keep_in_memory(s, b, err);
		s->used += rc == 0 ? bytes : 0;
	} else {
		rc = write_batch(s, b, err);	/* once one batch is on disk, the rest follow in order */
	}
	if (rc == 0)
		s->rows += b->nrows;
	return rc;
}

int ml_spool_add_cb(const struct ml_batch *b, void *arg, struct ml_err *err)
{
	return ml_spool_add(arg, b, err);
}

/* ---- reading back ---- */

static int get(struct ml_spool *s, void *p, size_t size, size_t n, struct ml_err *err)
{
	if (n && fread(p, size, n, s->file) != n)
		return ferror(s->file) ? spool_io_error(errno, "cannot read", err)
				       : ml_err_set(err, ML_ERR_INTERNAL, "spool: the temporary file is shorter than written");
	return 0;
}

/* A batch shaped like the first, with room for the longest batch on disk. */
static int alloc_reader_batch(const struct ml_spool *s, struct ml_batch *b, struct ml_err *err)
{
	size_t n = s->max_rows ? s->max_rows : 1;
	int failed = 0;
	ml_batch_init(b);
	b->cols = ml_calloc(s->shape.ncols + 1, sizeof *b->cols, err);
	if (!b->cols)
		return -1;
	b->ncols = s->shape.ncols;
	b->cap = n;
	b->line = ml_calloc(n, sizeof *b->line, err);
	b->row = ml_calloc(n, sizeof *b->row, err);
	failed = !b->line || !b->row;
	for (size_t j = 0; j < b->ncols && !failed; j++) {
		struct ml_batch_col *c = &b->cols[j];
		const struct ml_batch_col *k = &s->shape.cols[j];
		*c = *k;
		c->num = k->num ? ml_calloc(n, sizeof *c->num, err) : NULL;
		c->cat = k->cat ? ml_calloc(n, sizeof *c->cat, err) : NULL;
		c->text_off = k->text_off ? ml_calloc(n, sizeof *c->text_off, err) : NULL;
		c->text_len = k->text_len ? ml_calloc(n, sizeof *c->text_len, err) : NULL;
		failed = (k->num && !c->num) || (k->cat && !c->cat) || (k->text_off && (!c->text_off || !c->text_len));
	}
	return failed ? -1 : 0;
}

static int read_batch(struct ml_spool *s, struct ml_batch *b, struct ml_err *err)
{
	uint64_t head[2];
	if (get(s, head, sizeof *head, 2, err) < 0)
		return -1;
	if (head[0] > b->cap)
		return ml_err_set(err, ML_ERR_INTERNAL, "spool: a batch longer than any written");
	size_t n = b->nrows = (size_t)head[0];
	if (get(s, b->line, sizeof *b->line, n, err) < 0 || get(s, b->row, sizeof *b->row, n, err) < 0)
		return -1;
	for (size_t j = 0; j < b->ncols; j++) {
		struct ml_batch_col *c = &b->cols[j];
		if ((c->num && get(s, c->num, sizeof *c->num, n, err) < 0) ||
		    (c->cat && get(s, c->cat, sizeof *c->cat, n, err) < 0) ||
		    (c->text_off && (get(s, c->text_off, sizeof *c->text_off, n, err) < 0 ||
				     get(s, c->text_len, sizeof *c->text_len, n, err) < 0)))
			return -1;
	}
	ml_buf_reset(&b->text);
	if (head[1] && ml_buf_grow(&b->text, (size_t)head[1]) < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory reading the spooled training data");
	if (get(s, b->text.data, 1, (size_t)head[1], err) < 0)
		return -1;
	b->text.len = (size_t)head[1];
	if (b->text.data)
		b->text.data[b->text.len] = '\0';	/* as ml_buf keeps it */
	return 0;
}

static int each_on_disk(struct ml_spool *s, int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err),
			void *arg, struct ml_err *err)
{
	struct ml_batch b;
	int rc = -1;
	if (fflush(s->file) != 0 || fseeko(s->file, 0, SEEK_SET) != 0)
		return spool_io_error(errno, "cannot rewind", err);
	if (alloc_reader_batch(s, &b, err) == 0) {
		rc = 0;
		for (size_t i = 0; i < s->ndisk && rc == 0; i++)
			rc = read_batch(s, &b, err) < 0 ? -1 : fn(&b, arg, err);
	}
	ml_batch_release(&b);
	if (fseeko(s->file, 0, SEEK_END) != 0 && rc == 0)	/* ready for more adds */
		rc = spool_io_error(errno, "cannot seek in", err);
	return rc;
}

static int each(struct ml_spool *s, int release, int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err),
		void *arg, struct ml_err *err)
{
	for (size_t i = 0; i < s->nmem; i++) {
		if (fn(&s->mem[i], arg, err) < 0)
			return -1;
		if (release)
			ml_batch_release(&s->mem[i]);
	}
	if (release) {
		s->nmem = 0;
		s->used = 0;
	}
	return s->file ? each_on_disk(s, fn, arg, err) : 0;
}

int ml_spool_each(struct ml_spool *s, int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err),
		  void *arg, struct ml_err *err)
{
	return each(s, 0, fn, arg, err);
}

int ml_spool_drain(struct ml_spool *s, int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err),
		   void *arg, struct ml_err *err)
{
	return each(s, 1, fn, arg, err);
}

/* ---- a pass in a random order of batches ---- */

int ml_spool_each_shuffled(struct ml_spool *s, uint64_t seed,
			   int (*fn)(const struct ml_batch *b, void *arg, struct ml_err *err), void *arg,
			   struct ml_err *err)
{
	size_t n = s->nmem + s->ndisk;
	size_t *order = ml_calloc(n + 1, sizeof *order, err);
	struct ml_batch b;
	int rc = -1;
	ml_batch_init(&b);
	if (!order || (s->file && (fflush(s->file) != 0 || alloc_reader_batch(s, &b, err) < 0)))
		goto out;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	ml_random_shuffle(order, n, &seed);
	rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++) {
		size_t i = order[k];
		if (i < s->nmem)
			rc = fn(&s->mem[i], arg, err);
		else if (fseeko(s->file, s->offset[i - s->nmem], SEEK_SET) != 0)
			rc = spool_io_error(errno, "cannot seek in", err);
		else
			rc = read_batch(s, &b, err) < 0 ? -1 : fn(&b, arg, err);
	}
	if (s->file && fseeko(s->file, 0, SEEK_END) != 0 && rc == 0)
		rc = spool_io_error(errno, "cannot seek in", err);
out:
	ml_batch_release(&b);
	free(order);
	return rc;
}

/* ---- sizes ---- */

int ml_parse_size(const char *text, size_t *out)
{
	static const char units[] = "KMGT";
	char *end;
	errno = 0;
	if (!text || !isdigit((unsigned char)*text))
		return -1;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno)
		return -1;
	const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (u) {
		for (const char *k = units; k <= u; k++) {
			if (v > (unsigned long long)SIZE_MAX / 1024)
				return -1;
			v *= 1024;
		}
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}
