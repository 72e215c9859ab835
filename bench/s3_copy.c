/*
 * s3_copy.c - the S3 benchmark's `aws s3 cp`: copy one URI to another
 * through libcommon's streams (so s3:// goes through the store-s3 plugin:
 * a streaming GET, a multipart PUT), in 1 MiB reads.
 *
 *     s3_copy SRC DST        e.g. s3_copy big.csv s3://bench/in.csv
 */
#include <stdio.h>
#include <stdlib.h>

#include "mlpipe/log.h"
#include "mlpipe/uri.h"

int main(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_set_progname(argv[0]);
	if (argc != 3) {
		fprintf(stderr, "usage: s3_copy SRC DST\n");
		return 64;
	}
	size_t cap = (size_t)1 << 20;
	char *buf = malloc(cap);
	struct ml_istream *in = buf ? ml_open_read(argv[1], &err) : NULL;
	struct ml_ostream *out = in ? ml_open_write(argv[2], ML_WRITE_ATOMIC, &err) : NULL;
	if (!out) {
		ml_istream_close(in);
		free(buf);
		return buf ? ml_fail(&err) : 70;
	}
	ssize_t n;
	while ((n = ml_istream_read(in, buf, cap, &err)) > 0)
		if (ml_ostream_write(out, buf, (size_t)n, &err) < 0) {
			n = -1;
			break;
		}
	ml_istream_close(in);
	free(buf);
	int rc = ml_ostream_close(out, n == 0, n == 0 ? &err : NULL);
	return n < 0 || rc < 0 ? ml_fail(&err) : 0;
}
