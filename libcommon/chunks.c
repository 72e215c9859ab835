/*
 * chunks.c - a reader's input cut into parts of whole lines, each read on a
 * worker thread, the output put back in input order (see stream.h).
 *
 * This thread reads the bytes, cuts them after the last line end of about
 * PART_BYTES, counts the lines (the next part's first line) and appends the
 * parts' output to w in order; the workers take the parts in order and run
 * fn on a reader of each.  A ring of two parts per worker bounds the memory:
 * a part is refilled only after its output reached w.
 */
#define _GNU_SOURCE	/* memrchr */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/threads.h"
#include "reader_int.h"

#define PART_BYTES ((size_t)1 << 20)

enum part_state { PART_FREE, PART_QUEUED, PART_TAKEN, PART_DONE };

struct part {
	enum part_state state;	/* under the mutex */
	int pending;		/* this thread's: queued, not yet committed */
	char *data;		/* malloc'd; the part's reader takes it over */
	size_t len, alloc;
	uint64_t first_line;
	struct ml_writer *out;	/* a fork of w */
	struct ml_stream_stats stats;
	int rc;
	struct ml_err err;
};

struct cutter {
	struct ml_reader *r;
	struct ml_writer *w;
	ml_part_fn fn;
	struct part *ring;
	size_t nring;
	uint64_t queued, taken;	/* sequence numbers: parts queued here, parts taken by workers */
	int done;		/* nothing more will be queued */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

struct worker {
	struct cutter *c;
	void *ctx;
	pthread_t tid;
};

/* Whether r's input may be cut: the order of rejects and of several inputs is the reader's alone. */
static int cuttable(const struct ml_reader *r)
{
	return r->schema && !r->marked && !r->part && r->opts.on_error == ML_ON_ERROR_FAIL && !r->rejects &&
	       r->nuris <= 1 && (r->format == ML_FMT_CSV || r->format == ML_FMT_NDJSON);
}

static void run_part(struct cutter *c, struct part *p, void *ctx)
{
	p->err = (struct ml_err)ML_ERR_INIT;
	memset(&p->stats, 0, sizeof p->stats);
	struct ml_reader *pr = ml_reader_open_part(c->r, p->data, p->len, p->alloc, p->first_line, &p->err);
	p->data = NULL;	/* the reader's now (freed if it could not open) */
	p->len = p->alloc = 0;
	if (!pr) {
		p->rc = -1;
		return;
	}
	p->rc = c->fn(pr, p->out, ctx, &p->err);
	ml_reader_stats(pr, &p->stats);
	ml_reader_close(pr);
}

static void *work(void *arg)
{
	struct worker *wk = arg;
	struct cutter *c = wk->c;
	ml_set_threads_here(1);	/* the workers are the parallelism */
	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (!c->done && c->taken == c->queued)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->taken == c->queued) {
			pthread_mutex_unlock(&c->mu);
			return NULL;
		}
		struct part *p = &c->ring[c->taken++ % c->nring];
		p->state = PART_TAKEN;
		pthread_mutex_unlock(&c->mu);
		run_part(c, p, wk->ctx);
		pthread_mutex_lock(&c->mu);
		p->state = PART_DONE;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
}

/*
 * Wait for p, then append its rows to w (a failed part's rows before its bad
 * batch too) unless an earlier part failed (keep = 0); p is free after.
 */
static int commit(struct cutter *c, struct part *p, int keep, struct ml_err *err)
{
	pthread_mutex_lock(&c->mu);
	while (p->state != PART_DONE)
		pthread_cond_wait(&c->cv, &c->mu);
	p->state = PART_FREE;
	pthread_mutex_unlock(&c->mu);
	p->pending = 0;
	if (!keep)
		return -1;
	c->r->stats.rows_read += p->stats.rows_read;
	c->r->stats.rows_rejected += p->stats.rows_rejected;
	if (ml_writer_append(c->w, p->out, p->rc < 0 ? NULL : err) < 0 && p->rc == 0)
		return -1;
	if (p->rc < 0)
		*err = p->err;
	return p->rc;
}

static int reserve(struct part *p, size_t want, struct ml_err *err)
{
	if (want + 1 <= p->alloc)
		return 0;
	size_t alloc = want + 1 > 2 * p->alloc ? want + 1 : 2 * p->alloc;
	char *d = realloc(p->data, alloc);
	if (!d)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory: %zu bytes of input", alloc);
	p->data = d;
	p->alloc = alloc;
	return 0;
}

/* Read into p until it holds PART_BYTES (or more, to end a line), or the input ends. */
static int fill(struct ml_reader *r, struct part *p, size_t upto, struct ml_err *err)
{
	while (!r->at_eof && p->len < upto) {
		if (reserve(p, upto, err) < 0)
			return -1;
		ssize_t n = ml_istream_read(r->in, p->data + p->len, upto - p->len, err);
		if (n < 0)
			return -1;
		if (n == 0)
			r->at_eof = 1;
		p->len += (size_t)n;
		r->stats.bytes_read += (size_t)n;
	}
	return 0;
}

/*
 * Fill p (carry first) and find where its last whole line ends: 0 when it
 * has one, 1 when its bytes must go back to the reader (a CSV quote), -1.
 */
static int cut_part(struct ml_reader *r, struct part *p, struct ml_buf *carry, size_t *cut, struct ml_err *err)
{
	p->len = 0;
	if (reserve(p, PART_BYTES > carry->len ? PART_BYTES : carry->len, err) < 0)
		return -1;
	memcpy(p->data, carry->data, carry->len);
	p->len = carry->len;
	ml_buf_reset(carry);
	size_t upto = PART_BYTES;
	for (;;) {
		if (fill(r, p, upto, err) < 0)
			return -1;
		const char *nl = p->len ? memrchr(p->data, '\n', p->len) : NULL;
		/* a record longer than the reader takes is its reader's error to report */
		if (nl || r->at_eof || p->len > r->opts.max_record) {
			*cut = r->at_eof || !nl ? p->len : (size_t)(nl - p->data) + 1;
			break;
		}
		upto = 2 * p->len;	/* a line longer than a part: read on */
	}
	if (r->format == ML_FMT_CSV && memchr(p->data, '"', p->len))
		return 1;
	if (ml_buf_add(carry, p->data + *cut, p->len - *cut) < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory reading %s", r->name);
	p->len = *cut;
	return 0;
}

static void queue(struct cutter *c, struct part *p)
{
	p->pending = 1;
	pthread_mutex_lock(&c->mu);
	p->state = PART_QUEUED;
	c->queued++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Cut and queue parts to the end of the input; 1 when the rest went back to r. */
static int cut_all(struct cutter *c, struct ml_err *err)
{
	struct ml_reader *r = c->r;
	struct ml_buf carry;
	uint64_t line = r->line;
	int rc = 0;
	ml_buf_init(&carry, (size_t)-1 / 2);
	/* what r has buffered and not parsed comes first */
	if (ml_buf_add(&carry, r->buf + r->pos, r->end - r->pos) < 0)
		rc = ml_err_set(err, ML_ERR_INTERNAL, "out of memory reading %s", r->name);
	r->pos = r->end;
	while (rc == 0) {
		struct part *p = &c->ring[c->queued % c->nring];
		size_t cut = 0;
		if (p->pending && (rc = commit(c, p, 1, err)) < 0)
			break;
		if ((rc = cut_part(r, p, &carry, &cut, err)) != 0) {
			if (rc == 1 && ml_reader_unread(r, p->data, p->len, line, err) < 0)
				rc = -1;
			break;
		}
		if (cut == 0)
			break;	/* the end: nothing left */
		p->first_line = line;
		line += ml_count_lines(p->data, cut);
		queue(c, p);
		ml_reader_show_progress(r);
	}
	ml_buf_release(&carry);
	return rc;
}

static int start_workers(struct cutter *c, struct worker *wk, void *const *workers, size_t n)
{
	size_t started = 0;
	for (; started < n; started++) {
		wk[started] = (struct worker){ c, workers[started], 0 };
		if (pthread_create(&wk[started].tid, NULL, work, &wk[started]) != 0)
			break;
	}
	return (int)started;
}

/* Nothing more comes: the rest reach w in order (dropped after a failure), the workers end. */
static int finish(struct cutter *c, struct worker *wk, size_t nworkers, int rc, struct ml_err *err)
{
	pthread_mutex_lock(&c->mu);
	c->done = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (uint64_t s = c->queued - (c->queued < c->nring ? c->queued : c->nring); s < c->queued; s++) {
		struct part *p = &c->ring[s % c->nring];
		if (p->pending && commit(c, p, rc >= 0, err) < 0 && rc >= 0)
			rc = -1;
	}
	for (size_t t = 0; t < nworkers; t++)
		pthread_join(wk[t].tid, NULL);
	return rc;
}

static void free_ring(struct cutter *c)
{
	for (size_t i = 0; i < c->nring; i++) {
		free(c->ring[i].data);
		ml_writer_close(c->ring[i].out, 0, NULL);
	}
	free(c->ring);
}

int ml_reader_each_part(struct ml_reader *r, struct ml_writer *w, ml_part_fn fn, void *const *workers,
			size_t nworkers, struct ml_err *err)
{
	if (!cuttable(r) || ml_writer_line_buffered(w) || nworkers == 0 || nworkers > ML_MAX_THREADS)
		return 1;
	struct cutter c = { .r = r, .w = w, .fn = fn, .nring = 2 * nworkers };
	struct worker wk[ML_MAX_THREADS];
	if (!(c.ring = ml_calloc(c.nring, sizeof *c.ring, err)))
		return -1;
	for (size_t i = 0; i < c.nring; i++)
		if (!(c.ring[i].out = ml_writer_fork(w, err))) {
			free_ring(&c);
			return -1;
		}
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	int rc = 1;
	size_t started = (size_t)start_workers(&c, wk, workers, nworkers);
	if (started > 0)
		rc = finish(&c, wk, started, cut_all(&c, err), err);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
	free_ring(&c);
	return rc;
}
