/* test_writer.c - CSV and NDJSON output: quoting, escaping, numbers, errors. */
#include <math.h>

#include "mlpipe/stream.h"
#include "mlpipe/uri.h"
#include "testutil.h"

static char *dir;
static char path[4200];

static void setup(void)
{
	dir = test_tmpdir();
	snprintf(path, sizeof path, "%s/out", dir);
}

static void teardown(void)
{
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *slurp_path(void)
{
	static char got[4096];
	FILE *f = fopen(path, "rb");
	size_t n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	return got;
}

static void write_rows(enum ml_format fmt)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_writer_opts o;
	ml_writer_opts_init(&o);
	o.format = fmt;
	struct ml_writer *w = ml_writer_open(path, &o, &err);
	ck_assert_msg(w, "%s", err.msg);
	const char *names[] = { "id", "text \"q\"", "prediction" };
	ck_assert_int_eq(ml_writer_set_columns(w, names, 3, &err), 0);
	ck_assert_int_eq(ml_writer_num(w, 1, &err), 0);
	ck_assert_int_eq(ml_writer_str(w, "a,b \"c\"\nd", 9, &err), 0);
	ck_assert_int_eq(ml_writer_num(w, 0.1, &err), 0);
	ck_assert_int_eq(ml_writer_end_row(w, &err), 0);
	ck_assert_int_eq(ml_writer_num(w, 2, &err), 0);
	ck_assert_int_eq(ml_writer_str(w, "tab\there\x01", 9, &err), 0);
	ck_assert_int_eq(ml_writer_num(w, NAN, &err), 0);
	ck_assert_int_eq(ml_writer_end_row(w, &err), 0);
	ck_assert_uint_eq(ml_writer_rows(w), 2);
	ck_assert_int_eq(ml_writer_close(w, 1, &err), 0);
}

START_TEST(test_csv_quoting)
{
	write_rows(ML_FMT_CSV);
	ck_assert_str_eq(slurp_path(), "id,\"text \"\"q\"\"\",prediction\n"
				       "1,\"a,b \"\"c\"\"\nd\",0.1\n"
				       "2,tab\there\x01,\n");
}
END_TEST

START_TEST(test_ndjson_escaping)
{
	write_rows(ML_FMT_NDJSON);
	ck_assert_str_eq(slurp_path(), "{\"id\":1,\"text \\\"q\\\"\":\"a,b \\\"c\\\"\\nd\",\"prediction\":0.1}\n"
				       "{\"id\":2,\"text \\\"q\\\"\":\"tab\\there\\u0001\",\"prediction\":null}\n");
	/* every line must be valid JSON to jansson */
	json_error_t je;
	json_t *j = json_loadb(slurp_path(), strcspn(slurp_path(), "\n"), 0, &je);
	ck_assert_msg(j, "%s", je.text);
	ck_assert_str_eq(json_string_value(json_object_get(j, "text \"q\"")), "a,b \"c\"\nd");
	json_decref(j);
}
END_TEST

START_TEST(test_large_output_and_numbers_round_trip)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_writer_opts o;
	ml_writer_opts_init(&o);
	o.header = 0;
	struct ml_writer *w = ml_writer_open(path, &o, &err);
	const char *names[] = { "x" };
	ml_writer_set_columns(w, names, 1, &err);
	for (int i = 0; i < 100000; i++) {
		ck_assert_int_eq(ml_writer_num(w, i / 7.0, &err), 0);
		ck_assert_int_eq(ml_writer_end_row(w, &err), 0);
	}
	ck_assert_int_eq(ml_writer_close(w, 1, &err), 0);
	FILE *f = fopen(path, "r");
	char line[64];
	for (int i = 0; i < 100000; i++) {
		ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
		ck_assert_msg(strtod(line, NULL) == i / 7.0, "row %d: %s", i, line);
	}
	ck_assert_ptr_null(fgets(line, sizeof line, f));
	fclose(f);
}
END_TEST

START_TEST(test_write_error_is_reported)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_writer_opts o;
	ml_writer_opts_init(&o);
	struct ml_writer *w = ml_writer_open("/dev/full", &o, &err);
	ck_assert_msg(w, "%s", err.msg);
	const char *names[] = { "x" };
	ml_writer_set_columns(w, names, 1, &err);
	int failed = 0;
	for (int i = 0; i < 200000 && !failed; i++)
		failed = ml_writer_num(w, i, &err) < 0 || ml_writer_end_row(w, &err) < 0;
	if (!failed)
		failed = ml_writer_close(w, 1, &err) < 0;
	else
		ml_writer_close(w, 0, NULL);
	ck_assert(failed);
	ck_assert_int_eq(ml_exit_code(&err), 74);
	ck_assert_msg(strstr(err.msg, "/dev/full"), "%s", err.msg);
}
END_TEST

/* Row r: "r,r/7,label-r" (a quoted field every 5th row); fails at row fail_at. */
struct gen {
	size_t fail_at;
};

static int gen_rows(struct ml_writer *w, size_t begin, size_t end, void *ctx, struct ml_err *err)
{
	const struct gen *g = ctx;
	for (size_t r = begin; r < end; r++) {
		char label[32];
		int n = snprintf(label, sizeof label, r % 5 ? "label-%zu" : "a,\"%zu\"", r);
		if (r == g->fail_at)
			return ml_err_set(err, ML_ERR_DATA, "row %zu is bad", r);
		if (ml_writer_num(w, (double)r, err) < 0 || ml_writer_num(w, (double)r / 7, err) < 0 ||
		    ml_writer_str(w, label, (size_t)n, err) < 0 || ml_writer_end_row(w, err) < 0)
			return -1;
	}
	return 0;
}

/* Write nrows rows in batches of batch rows, in parallel or not; return the file. */
static char *write_generated(enum ml_format fmt, size_t nrows, size_t batch, int parallel)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_writer_opts o;
	ml_writer_opts_init(&o);
	o.format = fmt;
	struct ml_writer *w = ml_writer_open(path, &o, &err);
	const char *names[] = { "id", "seventh", "label" };
	ck_assert_int_eq(ml_writer_set_columns(w, names, 3, &err), 0);
	struct gen g = { SIZE_MAX };
	for (size_t at = 0; at < nrows; at += batch) {
		size_t n = nrows - at < batch ? nrows - at : batch;
		int rc = parallel ? ml_writer_rows_parallel(w, n, gen_rows, &g, &err) : gen_rows(w, 0, n, &g, &err);
		ck_assert_msg(rc == 0, "%s", err.msg);
	}
	ck_assert_uint_eq(ml_writer_rows(w), nrows);
	ck_assert_int_eq(ml_writer_close(w, 1, &err), 0);
	size_t len;
	char *text = ml_read_all(path, 1 << 26, &len, &err);
	ck_assert_ptr_nonnull(text);
	return text;
}

START_TEST(test_parallel_rows_same_bytes)
{
	for (int fmt = ML_FMT_CSV; fmt <= ML_FMT_NDJSON; fmt++) {
		char *one = write_generated((enum ml_format)fmt, 20000, 4096, 0);
		char *many = write_generated((enum ml_format)fmt, 20000, 4096, 1);
		ck_assert_uint_eq(strlen(one), strlen(many));
		ck_assert_msg(strcmp(one, many) == 0, "parallel output differs (format %d)", fmt);
		free(one);
		free(many);
	}
}
END_TEST

START_TEST(test_parallel_rows_error_reported)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_writer_opts o;
	ml_writer_opts_init(&o);
	struct ml_writer *w = ml_writer_open(path, &o, &err);
	const char *names[] = { "id", "seventh", "label" };
	ml_writer_set_columns(w, names, 3, &err);
	struct gen g = { 3000 };	/* in the second share of 4096 rows */
	ck_assert_int_eq(ml_writer_rows_parallel(w, 4096, gen_rows, &g, &err), -1);
	ck_assert_str_eq(err.msg, "row 3000 is bad");
	ml_writer_close(w, 0, NULL);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_csv_quoting);
	tcase_add_test(tc, test_ndjson_escaping);
	tcase_add_test(tc, test_large_output_and_numbers_round_trip);
	tcase_add_test(tc, test_write_error_is_reported);
	tcase_add_test(tc, test_parallel_rows_same_bytes);
	tcase_add_test(tc, test_parallel_rows_error_reported);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
