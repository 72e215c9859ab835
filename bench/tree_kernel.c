/*
 * tree_kernel.c - the gbtree scoring kernel in memory, single thread: load a
 * model (ml_model_load), read FILE through the model's recipe into one
 * in-memory matrix (untimed), then time ml_model_predict() over all its rows
 * with ml_set_threads(1), best of RUNS.
 *
 *     tree_kernel MODEL FILE [RUNS [PREDICTIONS]]
 *
 * prints "ROWS_PER_S ROWS SECONDS" (the best run) on standard output, and
 * with PREDICTIONS writes one prediction a line (%.9g) there, so they can
 * be compared with the reference's on the same model.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlpipe/log.h"
#include "mlpipe/model.h"
#include "mlpipe/stream.h"
#include "mlpipe/threads.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	struct ml_batch b;
	long n;

	ml_set_progname(argv[0]);
	if (argc < 3) {
		fprintf(stderr, "usage: tree_kernel MODEL FILE [RUNS [PREDICTIONS]]\n");
		return 64;
	}
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	if (runs < 1)
		runs = 1;
	ml_set_threads(1);
	struct ml_model *m = ml_model_load(argv[1], &err);
	if (!m)
		return ml_fail(&err);

	/* the matrix, through the model's recipe: not timed */
	size_t nf = ml_recipe_nfeatures(m->recipe), rows = 0, cap = 0;
	double *x = NULL;
	ml_reader_opts_init(&o);
	const char *file = argv[2];
	struct ml_reader *r = ml_reader_open(&file, 1, &o, &err);
	if (!r || ml_reader_bind(r, ml_recipe_input_schema(m->recipe), 1, &err) < 0)
		return ml_fail(&err);
	ml_batch_init(&b);
	while ((n = ml_reader_read_batch(r, &b, &err)) > 0) {
		if (rows + (size_t)n > cap) {
			cap = 2 * (rows + (size_t)n);
			double *nx = realloc(x, cap * nf * sizeof *x);
			if (!nx) {
				fprintf(stderr, "tree_kernel: out of memory\n");
				return 71;
			}
			x = nx;
		}
		if (ml_recipe_apply(m->recipe, &b, x + rows * nf, NULL, &err) < 0)
			return ml_fail(&err);
		rows += (size_t)n;
	}
	if (n < 0)
		return ml_fail(&err);
	ml_batch_release(&b);
	ml_reader_close(r);

	struct ml_matrix mx = { .nrows = rows, .ncols = nf, .v = x };
	double *out = malloc((rows ? rows : 1) * sizeof *out), best = INFINITY;
	if (!out)
		return 71;
	for (int i = 0; i < runs; i++) {
		double t0 = now();
		if (ml_model_predict(m, &mx, out, &err) < 0)
			return ml_fail(&err);
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	printf("%.0f %zu %.6f\n", (double)rows / best, rows, best);
	if (argc > 4) {
		FILE *f = fopen(argv[4], "w");
		if (!f) {
			perror(argv[4]);
			return 73;
		}
		for (size_t i = 0; i < rows; i++)
			fprintf(f, "%.9g\n", out[i]);
		if (fclose(f)) {
			perror(argv[4]);
			return 74;
		}
	}
	free(out);
	free(x);
	ml_model_free(m);
	return 0;
}
