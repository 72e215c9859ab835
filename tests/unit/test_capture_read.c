/*
 * test_capture_read.c - data-capture records decoded into rows: every
 * encoding (CSV, JSON, BASE64) and payload shape, endpointOutput as a
 * column, positions from --capture-columns, the errors, and the capture
 * folders walked in time order.
 */
#include <sys/stat.h>

#include "mlpipe/buf.h"
#include "mlpipe/capture_read.h"
#include "testutil.h"

static const char *const names[] = { "price", "mileage", "make" };

/* Rows as "v|v|v" lines, "-" for an absent value. */
static int collect(void *arg, const struct ml_field *f, struct ml_err *err)
{
	struct ml_buf *b = arg;
	(void)err;
	for (size_t i = 0; i < 3; i++) {
		if (i)
			ml_buf_addc(b, '|');
		if (f[i].flags & ML_FIELD_ABSENT)
			ml_buf_addc(b, '-');
		else
			ml_buf_add(b, f[i].ptr, f[i].len);
	}
	ml_buf_addc(b, '\n');
	return 0;
}

static const char *decode(long output_col, const size_t *pos, size_t npos, const char *record, int *rc,
			  struct ml_err *err)
{
	static struct ml_buf b;
	ml_buf_release(&b);
	ml_buf_init(&b, 1 << 20);
	struct ml_capture_read_opts o = { names, 3, pos, npos, output_col };
	struct ml_capture_dec *dec = ml_capture_dec_new(&o, err);
	ck_assert_ptr_nonnull(dec);
	*rc = ml_capture_decode(dec, record, strlen(record), collect, &b, err);
	ml_capture_dec_free(dec);
	return b.data ? b.data : "";
}

#define IN(type, enc, data) \
	"{\"captureData\":{\"endpointInput\":{\"observedContentType\":\"" type "\",\"mode\":\"INPUT\",\"data\":" data \
	",\"encoding\":\"" enc "\"}"
#define OUT(type, enc, data) \
	",\"endpointOutput\":{\"observedContentType\":\"" type "\",\"mode\":\"OUTPUT\",\"data\":" data \
	",\"encoding\":\"" enc "\"}"
#define END "},\"eventMetadata\":{\"eventId\":\"x\",\"inferenceTime\":\"2026-11-25T10:00:00Z\"},\"eventVersion\":\"0\"}"

START_TEST(test_payloads)
{
	static const struct {
		const char *record, *rows;
	} cases[] = {
		{ IN("text/csv", "CSV", "\"20105,Buick\"") OUT("text/csv", "CSV", "\"22661.05\"") END, "22661.05|20105|Buick\n" },
		{ IN("text/csv", "CSV", "\"1,A\\n2,\\\"B, Inc\\\"\\r\\n\\n3,\\n\"") OUT("text/csv", "CSV", "\"7\\n8\\n9\\n\"") END,
		  "7|1|A\n8|2|B, Inc\n9|3|\n" },
		{ IN("text/csv", "BASE64", "\"NSxGb3JkCjYsS2lh\"") OUT("text/csv", "BASE64", "\"MTAKMjA=\"") END,
		  "10|5|Ford\n20|6|Kia\n" },
		{ IN("application/json", "JSON", "\"{\\\"instances\\\":[{\\\"features\\\":[1,\\\"A\\\"]},{\\\"features\\\":[2.5,null]}]}\"")
			  OUT("application/json", "JSON", "\"{\\\"predictions\\\":[{\\\"score\\\":3},{\\\"score\\\":4.25}]}\"") END,
		  "3|1|A\n4.25|2.5|-\n" },
		{ IN("application/json", "JSON", "\"[{\\\"make\\\":\\\"Kia\\\",\\\"mileage\\\":7,\\\"color\\\":\\\"red\\\"}]\"")
			  OUT("application/json", "JSON", "\"[11]\"") END,
		  "11|7|Kia\n" },
		{ IN("application/jsonlines", "JSON", "\"{\\\"mileage\\\":1}\\n{\\\"make\\\":\\\"B\\\"}\\n\"") END, "-|1|-\n-|-|B\n" },
		{ IN("application/json", "JSON", "\"[[1,\\\"A\\\"],[2,\\\"B\\\"]]\"") END, "-|1|A\n-|2|B\n" },
		{ IN("application/json", "JSON", "\"[1,\\\"A\\\"]\"") END, "-|1|A\n" },
	};
	struct ml_err err = ML_ERR_INIT;
	int rc;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *rows = decode(0, NULL, 0, cases[i].record, &rc, &err);
		ck_assert_msg(rc == 0, "case %zu: %s", i, err.msg);
		ck_assert_msg(!strcmp(rows, cases[i].rows), "case %zu: got %s", i, rows);
	}
}
END_TEST

START_TEST(test_positions_and_no_output)
{
	struct ml_err err = ML_ERR_INIT;
	int rc;
	static const size_t pos[] = { 2, 0 };
	const char *rows = decode(-1, pos, 2, IN("text/csv", "CSV", "\"Kia,9\"") END, &rc, &err);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(rows, "9|-|Kia\n");
	rows = decode(-1, NULL, 0, IN("text/csv", "CSV", "\"9,8,Kia\"") OUT("text/csv", "CSV", "\"1\"") END, &rc, &err);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(rows, "9|8|Kia\n");	/* no output column: all three by position */
}
END_TEST

START_TEST(test_errors)
{
	static const struct {
		const char *record, *msg;
	} cases[] = {
		{ "{\"eventVersion\":\"0\"}", "no \"captureData\"" },
		{ "{\"captureData\":{}}", "no endpointInput" },
		{ IN("text/csv", "CSV", "\"1,2,3\"") END, "3 fields where 2 columns were expected" },
		{ IN("text/csv", "BASE64", "\"@@\"") END, "BASE64 data holds '@'" },
		{ IN("text/csv", "GZIP", "\"x\"") END, "unknown encoding \"GZIP\"" },
		{ IN("image/png", "BASE64", "\"AAAA\"") END, "neither CSV nor JSON" },
		{ IN("application/json", "JSON", "\"{bad\"") END, "does not parse" },
		{ IN("text/csv", "CSV", "\"\\\"open,1\"") END, "unterminated quoted field" },
		{ "not json", "does not parse" },
	};
	struct ml_err err = ML_ERR_INIT;
	int rc;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ml_err_clear(&err);
		decode(0, NULL, 0, cases[i].record, &rc, &err);
		ck_assert_msg(rc < 0, "case %zu decoded", i);
		ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
	}
}
END_TEST

START_TEST(test_bad_record_whole)
{
	struct ml_err err = ML_ERR_INIT;
	int rc;
	const char *rows = decode(0, NULL, 0, IN("text/csv", "CSV", "\"1,A\\n2,B\\n3,C,extra\\n\"") END, &rc, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(rows, "");	/* rows 1 and 2 are not handed on either */
	rows = decode(0, NULL, 0,
		      IN("application/json", "JSON", "\"[[1,\\\"A\\\"],[2]]\"") END, &rc, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(rows, "");
}
END_TEST

START_TEST(test_list_dir)
{
	char *dir = test_tmpdir();
	char p[4200];
	const char *hours[] = { "2026/11/25/23", "2026/11/26/00", "2026/11/25/09" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "mkdir -p %s/%s", dir, hours[i]);
		ck_assert_int_eq(system(p), 0);
		snprintf(p, sizeof p, "%s/%s", dir, hours[i]);
		test_write_file(p, "b.jsonl", "{}\n", 3);
		test_write_file(p, "a.jsonl", "{}\n", 3);
		test_write_file(p, "notes.txt", "x\n", 2);
		test_write_file(p, "c-empty.jsonl", "", 0);
	}
	struct ml_strlist l = { 0 };
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_capture_list_dir(dir, &l, &err), 0);
	ck_assert_uint_eq(l.n, 6);
	size_t base = strlen(dir) + 1;
	ck_assert_str_eq(l.items[0] + base, "2026/11/25/09/a.jsonl");
	ck_assert_str_eq(l.items[1] + base, "2026/11/25/09/b.jsonl");
	ck_assert_str_eq(l.items[2] + base, "2026/11/25/23/a.jsonl");
	ck_assert_str_eq(l.items[5] + base, "2026/11/26/00/b.jsonl");
	ml_strlist_clear(&l);
	snprintf(p, sizeof p, "%s/nowhere", dir);
	ck_assert_int_eq(ml_capture_list_dir(p, &l, &err), -1);
	snprintf(p, sizeof p, "rm -rf %s", dir);
	ck_assert_int_eq(system(p), 0);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("capture_read");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_payloads);
	tcase_add_test(tc, test_positions_and_no_output);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_bad_record_whole);
	tcase_add_test(tc, test_list_dir);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
