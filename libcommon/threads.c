/* threads.c - the process-wide thread count (see threads.h). */
#include <pthread.h>
#include <unistd.h>

#include "mlpipe/err.h"
#include "mlpipe/threads.h"

static long wanted;	/* set before any thread starts, read-only after */
static __thread size_t here;	/* this thread's own cap, or 0 */

void ml_set_threads_here(size_t n)
{
	here = n;
}

void ml_set_threads(long n)
{
	wanted = n > 0 ? n : 0;
}

static long online;	/* CPUs, asked once: sysconf reads /sys each time */
static pthread_once_t online_once = PTHREAD_ONCE_INIT;

static void count_online(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	online = cpus > 0 ? cpus : 1;
}

size_t ml_threads(void)
{
	long n = wanted;
	if (n == 0) {
		pthread_once(&online_once, count_online);
		n = online;
	}
	if (here && (size_t)n > here)
		n = (long)here;
	return n > ML_MAX_THREADS ? ML_MAX_THREADS : (size_t)n;
}

#define MIN_WORK_PER_THREAD 16384	/* below this, starting a thread costs more than it saves */

struct stride {
	size_t start, step, n;
	int (*fn)(size_t i, void *ctx, struct ml_err *err);
	void *ctx;
	int rc;
	struct ml_err err;
};

static void *run_stride(void *arg)
{
	struct stride *s = arg;
	for (size_t i = s->start; i < s->n && s->rc == 0; i += s->step)
		s->rc = s->fn(i, s->ctx, &s->err);
	return NULL;
}

int ml_parallel_for(size_t n, size_t work, int (*fn)(size_t i, void *ctx, struct ml_err *err), void *ctx,
		    struct ml_err *err)
{
	size_t t = ml_threads();
	if (t > n)
		t = n;
	if (t > work / MIN_WORK_PER_THREAD)
		t = work / MIN_WORK_PER_THREAD;
	if (t <= 1) {
		for (size_t i = 0; i < n; i++)
			if (fn(i, ctx, err) < 0)
				return -1;
		return 0;
	}
	struct stride s[ML_MAX_THREADS];
	pthread_t tids[ML_MAX_THREADS];
	size_t started = 1;
	for (size_t k = 0; k < t; k++)
		s[k] = (struct stride){ k, t, n, fn, ctx, 0, ML_ERR_INIT };
	for (; started < t; started++)
		if (pthread_create(&tids[started], NULL, run_stride, &s[started]) != 0)
			break;
	for (size_t k = started; k < t; k++)	/* threads that could not start: here */
		run_stride(&s[k]);
	run_stride(&s[0]);
	for (size_t k = 1; k < started; k++)
		pthread_join(tids[k], NULL);
	for (size_t k = 0; k < t; k++)
		if (s[k].rc < 0) {
			if (err)
				*err = s[k].err;
			return -1;
		}
	return 0;
}
