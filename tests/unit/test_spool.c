/*
 * test_spool.c - batches kept for more passes: every row comes back, in
 * order and with its values, whether the spool stayed in memory or spilled
 * to its temporary file; passes repeat; drain lets memory go; sizes parse
 * as sort -S takes them.
 */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mlpipe/dict.h"
#include "mlpipe/schema.h"
#include "mlpipe/spool.h"
#include "mlpipe/stream.h"
#include "testutil.h"

#define ROWS 1000

/* "price,make,note" rows: price i/2 (missing every 7th), make one of 3, note "n<i>" (empty every 5th). */
static char *generated_csv(void)
{
	size_t cap = 64 * (ROWS + 1), len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "price,make,note\n");
	for (int i = 0; i < ROWS; i++) {
		static const char *const makes[] = { "Buick", "Saab", "Chevy" };
		char price[32] = "", note[32] = "";
		if (i % 7)
			snprintf(price, sizeof price, "%g", i / 2.0);
		if (i % 5)
			snprintf(note, sizeof note, "n%d", i);
		len += (size_t)snprintf(text + len, cap - len, "%s,%s,%s\n", price, makes[i % 3], note);
	}
	return text;
}

static struct ml_reader *open_generated(struct ml_schema *s, struct ml_err *err)
{
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.batch_rows = 64;
	char *text = generated_csv();
	const char *path = test_write_file(test_dir(), "in.csv", text, strlen(text));
	free(text);
	struct ml_reader *r = ml_reader_open(&path, 1, &o, err);
	ck_assert_msg(r != NULL, "%s", err->msg);
	ml_schema_init(s);
	ck_assert_int_eq(ml_schema_add(s, "price", ML_TYPE_NUMERIC, ML_ROLE_TARGET, NULL), 0);
	ck_assert_int_eq(ml_schema_add(s, "make", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE, NULL), 0);
	ck_assert_int_eq(ml_schema_add(s, "note", ML_TYPE_TEXT, ML_ROLE_FEATURE, NULL), 0);
	ck_assert_int_eq(ml_reader_bind(r, s, 0, err), 0);
	return r;
}

static struct ml_spool *spool_all(struct ml_reader *r, size_t budget, struct ml_err *err)
{
	struct ml_spool *sp = ml_spool_new(budget, err);
	struct ml_batch b;
	ml_batch_init(&b);
	long n;
	while ((n = ml_reader_read_batch(r, &b, err)) > 0)
		ck_assert_int_eq(ml_spool_add(sp, &b, err), 0);
	ck_assert_int_eq(n, 0);
	ml_batch_release(&b);
	return sp;
}

struct seen {
	size_t rows, batches;
	int stop_after;	/* batches; 0: never */
};

/* Every row as generated_csv() wrote it, in order. */
static int check_batch(const struct ml_batch *b, void *arg, struct ml_err *err)
{
	struct seen *s = arg;
	static const char *const makes[] = { "Buick", "Saab", "Chevy" };
	for (size_t k = 0; k < b->nrows; k++) {
		size_t i = s->rows++;
		ck_assert_uint_eq(b->line[k], i + 2);
		if (i % 7)
			ck_assert_double_eq(b->cols[0].num[k], (double)i / 2.0);
		else
			ck_assert(isnan(b->cols[0].num[k]));
		ck_assert_str_eq(ml_dict_name(b->cols[1].dict, b->cols[1].cat[k], NULL), makes[i % 3]);
		char note[32];
		int len = snprintf(note, sizeof note, "n%zu", i);
		if (i % 5) {
			ck_assert_uint_eq(b->cols[2].text_len[k], (uint32_t)len);
			ck_assert(!memcmp(b->text.data + b->cols[2].text_off[k], note, (size_t)len));
		} else {
			ck_assert_uint_eq(b->cols[2].text_len[k], 0);	/* an empty text field */
		}
	}
	s->batches++;
	if (s->stop_after && (int)s->batches == s->stop_after)
		return ml_err_set(err, ML_ERR_DATA, "stopped");
	return 0;
}

static void every_row_twice(size_t budget, int spilled)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_schema s;
	struct ml_reader *r = open_generated(&s, &err);
	struct ml_spool *sp = spool_all(r, budget, &err);
	ck_assert_uint_eq(ml_spool_rows(sp), ROWS);
	ck_assert_int_eq(ml_spool_spilled(sp), spilled);
	for (int pass = 0; pass < 2; pass++) {
		struct seen seen = { 0 };
		ck_assert_msg(ml_spool_each(sp, check_batch, &seen, &err) == 0, "%s", err.msg);
		ck_assert_uint_eq(seen.rows, ROWS);
	}
	struct seen seen = { 0 };
	ck_assert_int_eq(ml_spool_drain(sp, check_batch, &seen, &err), 0);
	ck_assert_uint_eq(seen.rows, ROWS);
	ml_spool_free(sp);
	ml_reader_close(r);
	ml_schema_release(&s);
}

START_TEST(test_in_memory)
{
	every_row_twice(SIZE_MAX, 0);
}
END_TEST

START_TEST(test_spilled_part_way)
{
	every_row_twice(4096, 1);	/* a few batches in memory, the rest on disk */
}
END_TEST

START_TEST(test_spilled_from_the_start)
{
	every_row_twice(0, 1);
}
END_TEST

START_TEST(test_stop_in_a_pass_then_pass_again)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_schema s;
	struct ml_reader *r = open_generated(&s, &err);
	struct ml_spool *sp = spool_all(r, 0, &err);
	struct seen seen = { 0, 0, 3 };
	ck_assert_int_eq(ml_spool_each(sp, check_batch, &seen, &err), -1);
	ck_assert_str_eq(err.msg, "stopped");
	struct seen again = { 0 };
	ck_assert_int_eq(ml_spool_each(sp, check_batch, &again, &err), 0);
	ck_assert_uint_eq(again.rows, ROWS);
	ml_spool_free(sp);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

START_TEST(test_no_file_left_behind)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_schema s;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s/tmp", test_dir());
	ck_assert_int_eq(mkdir(tmp, 0700), 0);
	setenv("TMPDIR", tmp, 1);
	struct ml_reader *r = open_generated(&s, &err);
	struct ml_spool *sp = spool_all(r, 0, &err);
	ck_assert(ml_spool_spilled(sp));
	ck_assert_int_eq(rmdir(tmp), 0);	/* empty: the spool file was unlinked when made */
	struct seen seen = { 0 };
	ck_assert_int_eq(ml_spool_each(sp, check_batch, &seen, &err), 0);
	ml_spool_free(sp);
	ml_reader_close(r);
	ml_schema_release(&s);
	unsetenv("TMPDIR");
}
END_TEST

START_TEST(test_temporary_directory_missing)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_schema s;
	struct ml_reader *r = open_generated(&s, &err);
	setenv("TMPDIR", "/nonexistent/mlpipe", 1);
	struct ml_spool *sp = ml_spool_new(0, &err);
	struct ml_batch b;
	ml_batch_init(&b);
	ck_assert_int_gt(ml_reader_read_batch(r, &b, &err), 0);
	ck_assert_int_eq(ml_spool_add(sp, &b, &err), -1);
	ck_assert_msg(strstr(err.msg, "/nonexistent/mlpipe") && strstr(err.msg, "TMPDIR"), "%s", err.msg);
	unsetenv("TMPDIR");
	ml_batch_release(&b);
	ml_spool_free(sp);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

/* The first line of each batch a pass hands over, in order. */
struct firsts {
	uint64_t line[64];
	size_t n, rows;
};

static int note_first(const struct ml_batch *b, void *arg, struct ml_err *err)
{
	(void)err;
	struct firsts *f = arg;
	ck_assert_uint_lt(f->n, 64);
	f->line[f->n++] = b->line[0];
	for (size_t k = 1; k < b->nrows; k++)	/* a batch's rows keep their order */
		ck_assert_uint_eq(b->line[k], b->line[0] + k);
	f->rows += b->nrows;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void shuffled_visits_every_batch_once(size_t budget)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_schema s;
	struct ml_reader *r = open_generated(&s, &err);
	struct ml_spool *sp = spool_all(r, budget, &err);
	struct firsts in_order = { 0 }, a = { 0 }, b = { 0 }, c = { 0 };
	ck_assert_int_eq(ml_spool_each(sp, note_first, &in_order, &err), 0);
	ck_assert_int_eq(ml_spool_each_shuffled(sp, 7, note_first, &a, &err), 0);
	ck_assert_int_eq(ml_spool_each_shuffled(sp, 7, note_first, &b, &err), 0);
	ck_assert_int_eq(ml_spool_each_shuffled(sp, 8, note_first, &c, &err), 0);
	ck_assert_uint_eq(a.rows, ROWS);
	ck_assert_uint_eq(a.n, in_order.n);
	ck_assert_msg(!memcmp(a.line, b.line, a.n * sizeof *a.line), "the same seed gives the same order");
	ck_assert_msg(memcmp(a.line, in_order.line, a.n * sizeof *a.line), "seed 7 left the file order");
	ck_assert_msg(memcmp(a.line, c.line, a.n * sizeof *a.line), "seeds 7 and 8 gave one order");
	qsort(a.line, a.n, sizeof *a.line, cmp_u64);
	ck_assert_msg(!memcmp(a.line, in_order.line, a.n * sizeof *a.line), "every batch once");
	struct seen again = { 0 };	/* and a plain pass after a shuffled one still reads from the start */
	ck_assert_int_eq(ml_spool_each(sp, check_batch, &again, &err), 0);
	ck_assert_uint_eq(again.rows, ROWS);
	ml_spool_free(sp);
	ml_reader_close(r);
	ml_schema_release(&s);
}

START_TEST(test_shuffled_pass)
{
	shuffled_visits_every_batch_once(SIZE_MAX);	/* in memory */
	shuffled_visits_every_batch_once(4096);		/* part in memory, part on disk */
	shuffled_visits_every_batch_once(0);		/* on disk */
}
END_TEST

START_TEST(test_parse_size)
{
	static const struct {
		const char *text;
		size_t want;
	} ok[] = {
		{ "0", 0 }, { "1048576", 1048576 }, { "512K", 512 << 10 }, { "256M", (size_t)256 << 20 },
		{ "2G", (size_t)2 << 30 }, { "2g", (size_t)2 << 30 }, { "1MiB", 1 << 20 }, { "1MB", 1 << 20 },
		{ "100b", 100 },
	};
	static const char *const bad[] = { "", "M", "-1", "1.5G", "12x", "1MM", "99999999999999999999",
					   "20000000T", " 1M" };
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		size_t v = 1;
		ck_assert_msg(ml_parse_size(ok[i].text, &v) == 0, "%s", ok[i].text);
		ck_assert_uint_eq(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t v;
		ck_assert_msg(ml_parse_size(bad[i], &v) == -1, "\"%s\" accepted", bad[i]);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("passes");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_add_test(tc, test_in_memory);
	tcase_add_test(tc, test_spilled_part_way);
	tcase_add_test(tc, test_spilled_from_the_start);
	tcase_add_test(tc, test_stop_in_a_pass_then_pass_again);
	tcase_add_test(tc, test_no_file_left_behind);
	tcase_add_test(tc, test_temporary_directory_missing);
	tcase_add_test(tc, test_shuffled_pass);
	suite_add_tcase(s, tc);
	tc = tcase_create("sizes");
	tcase_add_test(tc, test_parse_size);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
