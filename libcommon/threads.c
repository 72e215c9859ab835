/* threads.c - the process-wide thread count (see threads.h). */
#include <unistd.h>

#include "mlpipe/threads.h"

static long wanted;	/* set before any thread starts, read-only after */

void ml_set_threads(long n)
{
	wanted = n > 0 ? n : 0;
}

size_t ml_threads(void)
{
	long n = wanted;
	if (n == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		n = n > 0 ? n : 1;
	}
	return n > ML_MAX_THREADS ? ML_MAX_THREADS : (size_t)n;
}
