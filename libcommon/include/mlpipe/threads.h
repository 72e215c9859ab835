/*
 * threads.h - how many threads a filter's parallel parts use.
 *
 * Every parallel loop in libcommon (formatting output rows, fitting a
 * recipe's columns) asks ml_threads(); --threads N sets it for the process,
 * 0 (the default) means one per online CPU.  Capped at ML_MAX_THREADS.
 */
#ifndef MLPIPE_THREADS_H
#define MLPIPE_THREADS_H

#include <stddef.h>

#define ML_MAX_THREADS 8

void ml_set_threads(long n);	/* 0: one per online CPU */
size_t ml_threads(void);
/*
 * Caps ml_threads() in the calling thread only (0 lifts the cap): a worker
 * that is itself one of the parallel parts runs its loops inline.
 */
void ml_set_threads_here(size_t n);

struct ml_err;

/*
 * fn(i, ctx, err) for every i < n, spread over up to ml_threads() threads
 * (thread t takes i = t, t + T, ...), when work (the caller's estimate of
 * the total cost, e.g. rows * columns) is worth the threads; otherwise in
 * this thread.  Each i runs in exactly one thread, so results that are per
 * i do not depend on the thread count.  The first error is returned.
 */
int ml_parallel_for(size_t n, size_t work, int (*fn)(size_t i, void *ctx, struct ml_err *err), void *ctx,
		    struct ml_err *err);

#endif
