/*
 * stream_sum.c - the record-stream benchmark: sum one column of a CSV read
 * through libcommon's reader exactly as every filter reads it (detect, parse,
 * columnar batches, numbers converted, other columns skipped).
 *
 *     stream_sum COLUMN [FILE]      prints the sum with %.17g
 */
#include <stdio.h>

#include "mlpipe/log.h"
#include "mlpipe/stream.h"

int main(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	struct ml_schema s;
	struct ml_batch b;
	double sum = 0;
	long n;

	ml_set_progname(argv[0]);
	if (argc < 2) {
		fprintf(stderr, "usage: stream_sum COLUMN [FILE]\n");
		return 64;
	}
	ml_reader_opts_init(&o);
	const char *file = argc > 2 ? argv[2] : "-";
	struct ml_reader *r = ml_reader_open(&file, 1, &o, &err);
	if (!r)
		return ml_fail(&err);
	ml_schema_init(&s);
	ml_batch_init(&b);
	if (ml_schema_add(&s, argv[1], ML_TYPE_NUMERIC, ML_ROLE_FEATURE, &err) < 0 ||
	    ml_reader_bind(r, &s, 0, &err) < 0)
		return ml_fail(&err);
	while ((n = ml_reader_read_batch(r, &b, &err)) > 0)
		for (long i = 0; i < n; i++)
			sum += b.cols[0].num[i];
	if (n < 0)
		return ml_fail(&err);
	printf("%.17g\n", sum);
	ml_batch_release(&b);
	ml_schema_release(&s);
	ml_reader_close(r);
	return 0;
}
