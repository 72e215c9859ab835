/*
 * test_stream_cli.c - the stream options every filter shares, mapped to
 * reader and writer options (--input-format, --output-format, --no-header,
 * --on-error, --rejects, --batch-size, --delimiter, --line-buffered), and
 * ml_writer_cell() writing batch cells of every type, with missing values
 * as empty CSV fields and NDJSON null.
 */
#include <fcntl.h>
#include <math.h>

#include "mlpipe/cli.h"
#include "mlpipe/dict.h"
#include "mlpipe/log.h"
#include "mlpipe/stream.h"
#include "testutil.h"

static void setup(void)
{
	test_scratch_setup();
	ml_set_progname("ml-test");
	ml_set_verbosity(0);
}

static void teardown(void)
{
	test_restore_stderr();
	test_scratch_teardown();
}

static const char *slurp(const char *path)
{
	static char text[8192];
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* ---- the option table ---- */

START_TEST(test_options_table)
{
	struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	ck_assert_int_eq(s.input_format, 0);
	ck_assert_int_eq(s.output_format, 0);
	ck_assert_int_eq(s.no_header, 0);
	ck_assert_int_eq(s.on_error, 0);
	ck_assert_ptr_null(s.rejects);
	ck_assert_int_eq(s.batch_size, 4096);
	ck_assert_ptr_null(s.delimiter);
	ck_assert_int_eq(s.line_buffered, 0);

	const struct ml_opt *t = ml_stream_cli_options(&s);
	ck_assert_ptr_nonnull(t);
	static const struct {
		const char *name;
		enum ml_opt_type type;
		size_t offset;
		const char *choices;
	} want[] = {
		{ "input-format", ML_OPT_CHOICE, offsetof(struct ml_stream_cli, input_format), "auto|csv|ndjson" },
		{ "output-format", ML_OPT_CHOICE, offsetof(struct ml_stream_cli, output_format), "auto|csv|ndjson" },
		{ "no-header", ML_OPT_FLAG, offsetof(struct ml_stream_cli, no_header), NULL },
		{ "on-error", ML_OPT_CHOICE, offsetof(struct ml_stream_cli, on_error), "fail|skip" },
		{ "rejects", ML_OPT_STRING, offsetof(struct ml_stream_cli, rejects), NULL },
		{ "batch-size", ML_OPT_INT, offsetof(struct ml_stream_cli, batch_size), NULL },
		{ "delimiter", ML_OPT_STRING, offsetof(struct ml_stream_cli, delimiter), NULL },
		{ "line-buffered", ML_OPT_FLAG, offsetof(struct ml_stream_cli, line_buffered), NULL },
		{ "threads", ML_OPT_INT, offsetof(struct ml_stream_cli, threads), NULL },
	};
	size_t n = 0;
	while (t[n].name)
		n++;
	ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(t[i].name, want[i].name);
		ck_assert_int_eq(t[i].type, want[i].type);
		ck_assert_ptr_eq(t[i].dest, (char *)&s + want[i].offset);	/* bound to s */
		ck_assert_msg(t[i].help && t[i].help[0], "--%s has no help", t[i].name);
		if (want[i].choices)
			ck_assert_str_eq(t[i].choices, want[i].choices);
		ck_assert_int_eq(t[i].shortopt, 0);	/* short letters are the filters' */
	}
	/* --batch-size is range-checked: at least one row. */
	ck_assert_int_eq(t[5].imin, 1);
	ck_assert_int_gt(t[5].imax, 4096);
}
END_TEST

START_TEST(test_defaults_map_to_reader_and_writer)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	struct ml_reader_opts ro;
	ck_assert_int_eq(ml_stream_cli_reader_opts(&s, &ro, &err), 0);
	ck_assert_int_eq(ro.format, ML_FMT_AUTO);
	ck_assert_int_eq(ro.header, 1);
	ck_assert_int_eq(ro.delimiter, ',');
	ck_assert_uint_eq(ro.batch_rows, 4096);
	ck_assert_int_eq(ro.on_error, ML_ON_ERROR_FAIL);
	ck_assert_ptr_null(ro.rejects);
	struct ml_reader_opts defaults;
	ml_reader_opts_init(&defaults);
	ck_assert_uint_eq(ro.max_record, defaults.max_record);	/* not touched */
	ck_assert_int_eq(ro.keep_raw, defaults.keep_raw);

	struct ml_writer_opts wo;
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_CSV, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_CSV);
	ck_assert_int_eq(wo.header, 1);
	ck_assert_int_eq(wo.delimiter, ',');
	ck_assert_int_eq(wo.line_buffered, 0);
	ck_assert_int_eq(err.class, ML_ERR_NONE);
}
END_TEST

START_TEST(test_fields_map_to_reader_opts)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	s.input_format = 2;	/* "ndjson", as the parser stores the choice index */
	s.no_header = 1;
	s.on_error = 1;		/* "skip" */
	s.rejects = "bad.csv";
	s.batch_size = 17;
	s.delimiter = ";";
	struct ml_reader_opts ro;
	ck_assert_int_eq(ml_stream_cli_reader_opts(&s, &ro, &err), 0);
	ck_assert_int_eq(ro.format, ML_FMT_NDJSON);
	ck_assert_int_eq(ro.header, 0);
	ck_assert_int_eq(ro.on_error, ML_ON_ERROR_SKIP);
	ck_assert_str_eq(ro.rejects, "bad.csv");
	ck_assert_uint_eq(ro.batch_rows, 17);
	ck_assert_int_eq(ro.delimiter, ';');

	s.input_format = 1;	/* "csv" */
	ck_assert_int_eq(ml_stream_cli_reader_opts(&s, &ro, &err), 0);
	ck_assert_int_eq(ro.format, ML_FMT_CSV);
	s.input_format = 0;
	ck_assert_int_eq(ml_stream_cli_reader_opts(&s, &ro, &err), 0);
	ck_assert_int_eq(ro.format, ML_FMT_AUTO);
	/* The choice strings name the formats in enum order. */
	ck_assert_str_eq(ml_format_name(ML_FMT_AUTO), "auto");
	ck_assert_str_eq(ml_format_name(ML_FMT_CSV), "csv");
	ck_assert_str_eq(ml_format_name(ML_FMT_NDJSON), "ndjson");
}
END_TEST

START_TEST(test_rejects_without_skip_warns)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	s.rejects = "bad.csv";
	struct ml_reader_opts ro;
	test_capture_stderr();
	int rc = ml_stream_cli_reader_opts(&s, &ro, &err);
	const char *got = test_captured_stderr();
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(ro.on_error, ML_ON_ERROR_FAIL);
	ck_assert_msg(strstr(got, "ml-test: warning: ") && strstr(got, "--rejects") && strstr(got, "--on-error"),
		      "got \"%s\"", got);

	/* With skip there is nothing to warn about. */
	s.on_error = 1;
	test_capture_stderr();
	ck_assert_int_eq(ml_stream_cli_reader_opts(&s, &ro, &err), 0);
	ck_assert_str_eq(test_captured_stderr(), "");
}
END_TEST

static const struct {
	const char *text;
	char want;
} good_delims[] = {
	{ "tab", '\t' }, { "\\t", '\t' }, { "\t", '\t' }, { ";", ';' },
	{ "|", '|' },	 { ",", ',' },	  { " ", ' ' },	  { "x", 'x' },
};

START_TEST(test_delimiter_accepted)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	s.delimiter = (char *)good_delims[_i].text;
	struct ml_reader_opts ro;
	struct ml_writer_opts wo;
	ck_assert_msg(ml_stream_cli_reader_opts(&s, &ro, &err) == 0, "\"%s\": %s", good_delims[_i].text, err.msg);
	ck_assert_int_eq(ro.delimiter, good_delims[_i].want);
	ck_assert_msg(ml_stream_cli_writer_opts(&s, ML_FMT_CSV, &wo, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(wo.delimiter, good_delims[_i].want);
}
END_TEST

static const char *const bad_delims[] = { "\"", "ab", "\n", "\r", "", "tabs", ";;", "\r\n" };

START_TEST(test_delimiter_refused)
{
	struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	s.delimiter = (char *)bad_delims[_i];
	struct ml_reader_opts ro;
	struct ml_writer_opts wo;

	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_stream_cli_reader_opts(&s, &ro, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_int_eq(ml_exit_code(&err), 64);
	ck_assert_msg(strstr(err.msg, "--delimiter"), "message does not name the option: %s", err.msg);

	struct ml_err werr = ML_ERR_INIT;
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_CSV, &wo, &werr), -1);
	ck_assert_int_eq(werr.class, ML_ERR_USAGE);
	ck_assert_msg(strstr(werr.msg, "--delimiter"), "message does not name the option: %s", werr.msg);
}
END_TEST

START_TEST(test_output_format_follows_input)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	struct ml_writer_opts wo;

	/* auto: as the reader detected */
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_NDJSON, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_NDJSON);
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_CSV, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_CSV);
	/* nothing detected (no reader): CSV */
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_AUTO, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_CSV);

	/* an explicit --output-format wins over the input */
	s.output_format = 1;
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_NDJSON, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_CSV);
	s.output_format = 2;
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_CSV, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_NDJSON);
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_AUTO, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_NDJSON);

	/* --no-header and --line-buffered reach the writer too */
	s.no_header = 1;
	s.line_buffered = 1;
	s.delimiter = "tab";
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_CSV, &wo, &err), 0);
	ck_assert_int_eq(wo.header, 0);
	ck_assert_int_eq(wo.line_buffered, 1);
	ck_assert_int_eq(wo.delimiter, '\t');
}
END_TEST

/* The table through the real parser: what a filter's command line gives. */
START_TEST(test_parsed_command_line)
{
	static struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	const struct ml_opt *const tables[] = { ml_stream_cli_options(&s), NULL };
	const struct ml_cli cli = { .tool = "ml-test", .section = "test", .synopsis = "ml-test [OPTION]...",
				    .tables = tables };
	char *argv[] = { "ml-test",	"--input-format", "ndjson", "--output-format=csv", "--no-header",
			 "--on-error",	"skip",		  "--rejects", "bad.txt", "--batch-size",
			 "10",		"--delimiter",	  "tab",	 "--line-buffered", "in.json",
			 NULL };
	int argc = (int)(sizeof argv / sizeof argv[0]) - 1, first = -1;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_cli_parse(&cli, argc, argv, &first, &err) == ML_CLI_CONTINUE, "%s", err.msg);
	ck_assert_int_eq(first, argc - 1);
	struct ml_reader_opts ro;
	ck_assert_int_eq(ml_stream_cli_reader_opts(&s, &ro, &err), 0);
	ck_assert_int_eq(ro.format, ML_FMT_NDJSON);
	ck_assert_int_eq(ro.header, 0);
	ck_assert_int_eq(ro.on_error, ML_ON_ERROR_SKIP);
	ck_assert_str_eq(ro.rejects, "bad.txt");
	ck_assert_uint_eq(ro.batch_rows, 10);
	ck_assert_int_eq(ro.delimiter, '\t');
	struct ml_writer_opts wo;
	ck_assert_int_eq(ml_stream_cli_writer_opts(&s, ML_FMT_NDJSON, &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_CSV);
	ck_assert_int_eq(wo.header, 0);
	ck_assert_int_eq(wo.line_buffered, 1);
	ml_cli_release();
}
END_TEST

START_TEST(test_parsed_batch_size_range)
{
	static struct ml_stream_cli s;
	ml_stream_cli_init(&s);
	const struct ml_opt *const tables[] = { ml_stream_cli_options(&s), NULL };
	const struct ml_cli cli = { .tool = "ml-test", .section = "test", .synopsis = "ml-test [OPTION]...",
				    .tables = tables };
	char *argv[] = { "ml-test", "--batch-size", "0", NULL };
	int first;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_cli_parse(&cli, 3, argv, &first, &err), ML_CLI_ERROR);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "batch-size"), "%s", err.msg);
	char *argv2[] = { "ml-test", "--on-error", "ignore", NULL };
	ck_assert_int_eq(ml_cli_parse(&cli, 3, argv2, &first, &err), ML_CLI_ERROR);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ml_cli_release();
}
END_TEST

/* ---- ml_writer_cell ---- */

/*
 * price numeric (missing as empty and "NA"), make categorical (missing as
 * empty), note text (empty is an empty string, not missing), memo a text
 * column the input lacks (bound with allow_missing: missing on every row).
 */
static const char cells_csv[] = "id,price,make,note\n"
				"1,1.5,Ford,\"hello, world\"\n"
				"2,,,\n"
				"3,-0.25,\"Saab \"\"9-3\"\"\",plain\n"
				"4,NA,Ford,\"multi\nline\"\n";

static void read_cells_batch(struct ml_reader **r, struct ml_schema *s, struct ml_batch *b)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	const char *name = "in.csv";
	test_write_file(test_dir(), name, cells_csv, strlen(cells_csv));
	*r = ml_reader_open(&name, 1, &o, &err);
	ck_assert_msg(*r, "%s", err.msg);
	ml_schema_init(s);
	ck_assert_int_eq(ml_schema_add(s, "price", ML_TYPE_NUMERIC, ML_ROLE_FEATURE, &err), 0);
	ck_assert_int_eq(ml_schema_add(s, "make", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE, &err), 0);
	ck_assert_int_eq(ml_schema_add(s, "note", ML_TYPE_TEXT, ML_ROLE_FEATURE, &err), 0);
	ck_assert_int_eq(ml_schema_add(s, "memo", ML_TYPE_TEXT, ML_ROLE_FEATURE, &err), 0);
	ck_assert_msg(ml_reader_bind(*r, s, 1, &err) == 0, "%s", err.msg);
	ml_batch_init(b);
	ck_assert_msg(ml_reader_read_batch(*r, b, &err) == 4, "%s", err.msg);

	/* What the batch holds, so a writer failure is not blamed on the reader. */
	ck_assert_double_eq(b->cols[0].num[0], 1.5);
	ck_assert(isnan(b->cols[0].num[1]));
	ck_assert(isnan(b->cols[0].num[3]));
	ck_assert_int_ge(b->cols[1].cat[0], 0);
	ck_assert_int_eq(b->cols[1].cat[1], -1);
	ck_assert_int_eq(b->cols[1].cat[3], b->cols[1].cat[0]);
	ck_assert_uint_eq(b->cols[2].text_len[1], 0);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(b->cols[3].text_len[i], UINT32_MAX);
}

static const char *write_cells(const struct ml_batch *b, enum ml_format fmt)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_writer_opts o;
	ml_writer_opts_init(&o);
	o.format = fmt;
	struct ml_writer *w = ml_writer_open("out", &o, &err);
	ck_assert_msg(w, "%s", err.msg);
	const char *names[] = { "price", "make", "note", "memo" };
	ck_assert_int_eq(ml_writer_set_columns(w, names, 4, &err), 0);
	for (size_t row = 0; row < b->nrows; row++) {
		for (size_t col = 0; col < b->ncols; col++)
			ck_assert_msg(ml_writer_cell(w, b, col, row, &err) == 0, "%s", err.msg);
		ck_assert_int_eq(ml_writer_end_row(w, &err), 0);
	}
	ck_assert_uint_eq(ml_writer_rows(w), b->nrows);
	ck_assert_int_eq(ml_writer_close(w, 1, &err), 0);
	return slurp("out");
}

START_TEST(test_cells_csv)
{
	struct ml_reader *r;
	struct ml_schema s;
	struct ml_batch b;
	read_cells_batch(&r, &s, &b);
	ck_assert_str_eq(write_cells(&b, ML_FMT_CSV), "price,make,note,memo\n"
						      "1.5,Ford,\"hello, world\",\n"
						      ",,,\n"
						      "-0.25,\"Saab \"\"9-3\"\"\",plain,\n"
						      ",Ford,\"multi\nline\",\n");
	ml_batch_release(&b);
	ml_schema_release(&s);
	ml_reader_close(r);
}
END_TEST

START_TEST(test_cells_ndjson)
{
	struct ml_reader *r;
	struct ml_schema s;
	struct ml_batch b;
	read_cells_batch(&r, &s, &b);
	const char *got = write_cells(&b, ML_FMT_NDJSON);
	ck_assert_str_eq(got, "{\"price\":1.5,\"make\":\"Ford\",\"note\":\"hello, world\",\"memo\":null}\n"
			      "{\"price\":null,\"make\":null,\"note\":\"\",\"memo\":null}\n"
			      "{\"price\":-0.25,\"make\":\"Saab \\\"9-3\\\"\",\"note\":\"plain\",\"memo\":null}\n"
			      "{\"price\":null,\"make\":\"Ford\",\"note\":\"multi\\nline\",\"memo\":null}\n");
	/* Every line is JSON with the right types. */
	json_error_t je;
	const char *line = got;
	for (int i = 0; i < 4; i++) {
		size_t len = strcspn(line, "\n");
		json_t *j = json_loadb(line, len, 0, &je);
		ck_assert_msg(j, "line %d: %s", i + 1, je.text);
		ck_assert(json_is_null(json_object_get(j, "memo")));
		ck_assert(i == 1 || i == 3 ? json_is_null(json_object_get(j, "price"))
					   : json_is_number(json_object_get(j, "price")));
		ck_assert(json_is_string(json_object_get(j, "note")));
		json_decref(j);
		line += len + 1;
	}
	ml_batch_release(&b);
	ml_schema_release(&s);
	ml_reader_close(r);
}
END_TEST

/* NDJSON in, both formats out: JSON null is missing for every type. */
START_TEST(test_cells_from_ndjson_nulls)
{
	struct ml_err err = ML_ERR_INIT;
	const char text[] = "{\"x\":2,\"c\":\"a\",\"t\":null}\n"
			    "{\"x\":null,\"c\":null,\"t\":\"s\\u00e9\"}\n"
			    "{\"t\":\"\"}\n";
	const char *name = "in.json";
	test_write_file(test_dir(), name, text, strlen(text));
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	struct ml_reader *r = ml_reader_open(&name, 1, &o, &err);
	ck_assert_msg(r, "%s", err.msg);
	ck_assert_int_eq(ml_reader_format(r), ML_FMT_NDJSON);
	struct ml_schema s;
	ml_schema_init(&s);
	ml_schema_add(&s, "x", ML_TYPE_NUMERIC, ML_ROLE_FEATURE, &err);
	ml_schema_add(&s, "c", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE, &err);
	ml_schema_add(&s, "t", ML_TYPE_TEXT, ML_ROLE_FEATURE, &err);
	ck_assert_msg(ml_reader_bind(r, &s, 0, &err) == 0, "%s", err.msg);
	struct ml_batch b;
	ml_batch_init(&b);
	ck_assert_msg(ml_reader_read_batch(r, &b, &err) == 3, "%s", err.msg);

	/* Output format auto follows the NDJSON input. */
	struct ml_stream_cli sc;
	ml_stream_cli_init(&sc);
	struct ml_writer_opts wo;
	ck_assert_int_eq(ml_stream_cli_writer_opts(&sc, ml_reader_format(r), &wo, &err), 0);
	ck_assert_int_eq(wo.format, ML_FMT_NDJSON);

	const char *names[] = { "x", "c", "t" };
	struct ml_writer *w = ml_writer_open("out", &wo, &err);
	ck_assert_msg(w, "%s", err.msg);
	ck_assert_int_eq(ml_writer_set_columns(w, names, 3, &err), 0);
	for (size_t row = 0; row < b.nrows; row++) {
		for (size_t col = 0; col < 3; col++)
			ck_assert_int_eq(ml_writer_cell(w, &b, col, row, &err), 0);
		ck_assert_int_eq(ml_writer_end_row(w, &err), 0);
	}
	ck_assert_int_eq(ml_writer_close(w, 1, &err), 0);
	ck_assert_str_eq(slurp("out"), "{\"x\":2,\"c\":\"a\",\"t\":null}\n"
				       "{\"x\":null,\"c\":null,\"t\":\"s\xc3\xa9\"}\n"
				       "{\"x\":null,\"c\":null,\"t\":\"\"}\n");

	/* The same cells as CSV: missing is an empty field. */
	wo.format = ML_FMT_CSV;
	w = ml_writer_open("out", &wo, &err);
	ck_assert_msg(w, "%s", err.msg);
	ck_assert_int_eq(ml_writer_set_columns(w, names, 3, &err), 0);
	for (size_t row = 0; row < b.nrows; row++) {
		for (size_t col = 0; col < 3; col++)
			ck_assert_int_eq(ml_writer_cell(w, &b, col, row, &err), 0);
		ck_assert_int_eq(ml_writer_end_row(w, &err), 0);
	}
	ck_assert_int_eq(ml_writer_close(w, 1, &err), 0);
	ck_assert_str_eq(slurp("out"), "x,c,t\n2,a,\n,,s\xc3\xa9\n,,\n");

	ml_batch_release(&b);
	ml_schema_release(&s);
	ml_reader_close(r);
}
END_TEST

/* A categorical cell is the level's name, also when later batches add levels. */
START_TEST(test_cells_categorical_across_batches)
{
	struct ml_err err = ML_ERR_INIT;
	const char text[] = "c\nb\na\nb\nc\n";
	const char *name = "in.csv";
	test_write_file(test_dir(), name, text, strlen(text));
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.batch_rows = 2;
	struct ml_reader *r = ml_reader_open(&name, 1, &o, &err);
	ck_assert_msg(r, "%s", err.msg);
	struct ml_schema s;
	ml_schema_init(&s);
	ml_schema_add(&s, "c", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE, &err);
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
	struct ml_writer_opts wo;
	ml_writer_opts_init(&wo);
	wo.header = 0;
	struct ml_writer *w = ml_writer_open("out", &wo, &err);
	const char *names[] = { "c" };
	ck_assert_int_eq(ml_writer_set_columns(w, names, 1, &err), 0);
	struct ml_batch b;
	ml_batch_init(&b);
	long n;
	while ((n = ml_reader_read_batch(r, &b, &err)) > 0)
		for (size_t row = 0; row < b.nrows; row++) {
			ck_assert_int_eq(ml_writer_cell(w, &b, 0, row, &err), 0);
			ck_assert_int_eq(ml_writer_end_row(w, &err), 0);
		}
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(ml_writer_close(w, 1, &err), 0);
	ck_assert_str_eq(slurp("out"), "b\na\nb\nc\n");
	ml_batch_release(&b);
	ml_schema_release(&s);
	ml_reader_close(r);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("stream_cli");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_options_table);
	tcase_add_test(tc, test_defaults_map_to_reader_and_writer);
	tcase_add_test(tc, test_fields_map_to_reader_opts);
	tcase_add_test(tc, test_rejects_without_skip_warns);
	tcase_add_loop_test(tc, test_delimiter_accepted, 0, sizeof good_delims / sizeof good_delims[0]);
	tcase_add_loop_test(tc, test_delimiter_refused, 0, sizeof bad_delims / sizeof bad_delims[0]);
	tcase_add_test(tc, test_output_format_follows_input);
	tcase_add_test(tc, test_parsed_command_line);
	tcase_add_test(tc, test_parsed_batch_size_range);
	tcase_add_test(tc, test_cells_csv);
	tcase_add_test(tc, test_cells_ndjson);
	tcase_add_test(tc, test_cells_from_ndjson_nulls);
	tcase_add_test(tc, test_cells_categorical_across_batches);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
