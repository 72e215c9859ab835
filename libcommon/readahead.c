/*
 * readahead.c - a reader's batches to a callback, the next one read on a
 * second thread while the callback works on this one (see stream.h).
 *
 * Two batch slots: the reader thread fills one while the caller uses the
 * other, and each waits for the other under one mutex.  Only one thread
 * touches the reader at a time, so the reader needs no locking of its own.
 */
#include <pthread.h>
#include <string.h>

#include "mlpipe/stream.h"
#include "mlpipe/threads.h"

struct slot {
	struct ml_batch b;
	long n;			/* what ml_reader_read_batch() returned */
	struct ml_err err;
	int full;		/* read, not yet used by the caller */
};

struct ahead {
	struct ml_reader *r;
	struct slot slots[2];
	int stop;		/* the caller failed: read no more */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Slot 0 holds the first batch already: the thread begins with slot 1. */
static void *read_ahead(void *arg)
{
	struct ahead *a = arg;
	for (size_t k = 1;; k ^= 1) {
		struct slot *s = &a->slots[k];
		pthread_mutex_lock(&a->mu);
		while (s->full && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		int stop = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			break;
		s->n = ml_reader_read_batch(a->r, &s->b, &s->err);
		pthread_mutex_lock(&a->mu);
		s->full = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		if (s->n <= 0)
			break;
	}
	return NULL;
}

/* Use the batches as the reader thread fills the slots, slot 0 first. */
static int use_ahead(struct ahead *a, ml_batch_fn fn, void *ctx, struct ml_err *err)
{
	int rc = 0;
	for (size_t k = 0;; k ^= 1) {
		struct slot *s = &a->slots[k];
		pthread_mutex_lock(&a->mu);
		while (!s->full)
			pthread_cond_wait(&a->cv, &a->mu);
		pthread_mutex_unlock(&a->mu);
		if (s->n <= 0) {
			if (s->n < 0) {
				*err = s->err;
				rc = -1;
			}
			break;
		}
		rc = fn(&s->b, ctx, err);
		pthread_mutex_lock(&a->mu);
		s->full = 0;
		a->stop = rc < 0;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		if (rc < 0)
			break;
	}
	return rc;
}

static int has_categorical(const struct ml_batch *b)
{
	for (size_t i = 0; i < b->ncols; i++)
		if (b->cols[i].type == ML_TYPE_CATEGORICAL && b->cols[i].role != ML_ROLE_IGNORE)
			return 1;
	return 0;
}

int ml_reader_each_batch(struct ml_reader *r, ml_batch_fn fn, void *ctx, struct ml_err *err)
{
	struct ahead a = { .r = r };
	ml_batch_init(&a.slots[0].b);
	ml_batch_init(&a.slots[1].b);
	long n = ml_reader_read_batch(r, &a.slots[0].b, err);
	int rc = n < 0 ? -1 : 0;
	pthread_t tid;
	if (n > 0 && ml_threads() > 1 && !has_categorical(&a.slots[0].b)) {
		a.slots[0].n = n;
		a.slots[0].full = 1;
		pthread_mutex_init(&a.mu, NULL);
		pthread_cond_init(&a.cv, NULL);
		if (pthread_create(&tid, NULL, read_ahead, &a) == 0) {
			rc = use_ahead(&a, fn, ctx, err);
			pthread_join(tid, NULL);
			n = 0;
		}
		pthread_cond_destroy(&a.cv);
		pthread_mutex_destroy(&a.mu);
	}
	while (n > 0) {	/* in this thread: one thread asked for, categories, or no thread to be had */
		if ((rc = fn(&a.slots[0].b, ctx, err)) < 0)
			break;
		n = ml_reader_read_batch(r, &a.slots[0].b, err);
		rc = n < 0 ? -1 : 0;
	}
	ml_batch_release(&a.slots[0].b);
	ml_batch_release(&a.slots[1].b);
	return rc;
}
