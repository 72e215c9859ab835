/*
 * fuzz_reader.c - libFuzzer target for the record stream.
 *
 * Built twice: -DFUZZ_FORMAT=ML_FMT_CSV and -DFUZZ_FORMAT=ML_FMT_NDJSON.  The
 * first input byte picks options (header, delimiter, on-error, tiny batches,
 * a small record cap), the rest is the input.  Every input must end in
 * batches or an error message; sanitizers catch the rest.
 */
#define _GNU_SOURCE	/* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mlpipe/log.h"
#include "mlpipe/stream.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT ML_FMT_CSV
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void options_from(uint8_t b, struct ml_reader_opts *o)
{
	ml_reader_opts_init(o);
	o->format = (b & 0x80) ? ML_FMT_AUTO : FUZZ_FORMAT;
	o->header = !(b & 1);
	o->delimiter = (b & 2) ? ';' : ',';
	o->on_error = (b & 4) ? ML_ON_ERROR_SKIP : ML_ON_ERROR_FAIL;
	o->batch_rows = (b & 8) ? 3 : 4096;
	o->max_record = (b & 16) ? 64 : 1 << 20;
	o->keep_raw = (b & 32) != 0;
	o->rejects = (b & 64) ? "/dev/null" : NULL;
}

static void drain(struct ml_reader *r)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_schema s;
	struct ml_batch b;
	if (ml_schema_infer(r, NULL, &s, &err) < 0)
		return;
	ml_batch_init(&b);
	if (ml_reader_bind(r, &s, 1, &err) == 0)
		while (ml_reader_read_batch(r, &b, &err) > 0)
			;
	ml_batch_release(&b);
	ml_schema_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	ml_set_verbosity(-1);	/* skipped-row warnings would flood the log */
	struct ml_reader_opts o;
	options_from(data[0], &o);
	int fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1) || lseek(fd, 0, SEEK_SET) < 0)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	const char *p = path;
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = ml_reader_open(&p, 1, &o, &err);
	if (r) {
		drain(r);
		ml_reader_close(r);
	} else if (!err.msg[0]) {
		__builtin_trap();	/* a failure must always say why */
	}
	close(fd);
	return 0;
}
