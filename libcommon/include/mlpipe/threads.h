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

#endif
