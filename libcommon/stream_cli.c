/*
 * stream_cli.c - the record-stream options every stream filter shares, and
 * the -v summary, so that --on-error means the same thing in every tool.
 */
#include <string.h>

#include "mlpipe/log.h"
#include "mlpipe/stream.h"
#include "mlpipe/threads.h"

#define MAX_BATCH_ROWS (1L << 20)

void ml_stream_cli_init(struct ml_stream_cli *s)
{
	memset(s, 0, sizeof *s);
	s->batch_size = 4096;
}

const struct ml_opt *ml_stream_cli_options(struct ml_stream_cli *s)
{
	static struct ml_opt table[10];
	const struct ml_opt opts[] = {
		{ "input-format", 0, ML_OPT_CHOICE, &s->input_format, "FMT",
		  "input is csv or ndjson (default: detected from the first byte)", "auto|csv|ndjson" },
		{ "output-format", 0, ML_OPT_CHOICE, &s->output_format, "FMT",
		  "output as csv or ndjson (default: as the input)", "auto|csv|ndjson" },
		{ "no-header", 0, ML_OPT_FLAG, &s->no_header, NULL,
		  "CSV has no header line: columns are c0, c1, ... (SageMaker: label first)" },
		{ "on-error", 0, ML_OPT_CHOICE, &s->on_error, "WHAT",
		  "on a bad row: fail (default) or skip it with a warning", "fail|skip" },
		{ "rejects", 0, ML_OPT_STRING, &s->rejects, "FILE",
		  "keep every skipped row, verbatim, in FILE" },
		{ "batch-size", 0, ML_OPT_INT, &s->batch_size, "N",
		  "rows per batch (default 4096); memory grows with it", NULL, 0, NULL, 1, MAX_BATCH_ROWS },
		{ "delimiter", 0, ML_OPT_STRING, &s->delimiter, "C",
		  "CSV field separator (default ','; 'tab' for tab)" },
		{ "line-buffered", 0, ML_OPT_FLAG, &s->line_buffered, NULL,
		  "flush output after every row (for co-processes)" },
		{ "threads", 0, ML_OPT_INT, &s->threads, "N",
		  "threads for parsing-side work and output formatting (default: one per CPU; output order is kept)",
		  NULL, 0, NULL, 0, 1024 },
		ML_OPT_END,
	};
	memcpy(table, opts, sizeof opts);
	return table;
}

static int parse_delimiter(const char *text, char *out, struct ml_err *err)
{
	if (!text) {
		*out = ',';
		return 0;
	}
	if (!strcmp(text, "tab") || !strcmp(text, "\\t")) {
		*out = '\t';
		return 0;
	}
	if (strlen(text) != 1 || strchr("\"\r\n", text[0]))
		return ml_err_set(err, ML_ERR_USAGE,
				  "option --delimiter: expected one character other than a quote or a line end, got \"%s\"",
				  text);
	*out = text[0];
	return 0;
}

int ml_stream_cli_reader_opts(const struct ml_stream_cli *s, struct ml_reader_opts *o, struct ml_err *err)
{
	ml_reader_opts_init(o);
	o->format = (enum ml_format)s->input_format;
	o->header = !s->no_header;
	o->batch_rows = (size_t)s->batch_size;
	o->on_error = s->on_error ? ML_ON_ERROR_SKIP : ML_ON_ERROR_FAIL;
	o->rejects = s->rejects;
	ml_set_threads(s->threads);	/* every stream filter passes here before it reads */
	if (s->rejects && !s->on_error)
		ml_warn("--rejects has no effect without --on-error skip");
	return parse_delimiter(s->delimiter, &o->delimiter, err);
}

int ml_stream_cli_writer_opts(const struct ml_stream_cli *s, enum ml_format input, struct ml_writer_opts *o,
			      struct ml_err *err)
{
	ml_writer_opts_init(o);
	o->format = s->output_format ? (enum ml_format)s->output_format : input;
	if (o->format == ML_FMT_AUTO)
		o->format = ML_FMT_CSV;
	o->header = !s->no_header;
	o->line_buffered = s->line_buffered;
	return parse_delimiter(s->delimiter, &o->delimiter, err);
}

void ml_stream_log_summary(const struct ml_reader *r, const struct ml_writer *w)
{
	struct ml_stream_stats st;
	ml_reader_stats(r, &st);
	if (w)
		ml_info("read %llu rows, wrote %llu, rejected %llu",
			(unsigned long long)st.rows_read, (unsigned long long)ml_writer_rows(w),
			(unsigned long long)st.rows_rejected);
	else
		ml_info("read %llu rows, rejected %llu", (unsigned long long)st.rows_read,
			(unsigned long long)st.rows_rejected);
}
