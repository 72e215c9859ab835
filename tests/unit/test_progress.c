/*
 * test_progress.c - the progress line: what it says with a known total (bar,
 * percent, count, time left) and without one (count, rate), and that it
 * writes nothing at all unless enabled.
 */
#include "mlpipe/progress.h"
#include "testutil.h"

static void teardown(void)
{
	ml_progress_set_mode(-1);
}

/* A progress struct as start() leaves it, at a chosen start time. */
static struct ml_progress at(const char *label, uint64_t total, const char *unit, uint64_t done,
			     double started)
{
	struct ml_progress p;
	ml_progress_set_mode(0);
	ml_progress_start(&p, label, total, unit);
	p.started = started;
	p.done = done;
	return p;
}

static const struct {
	uint64_t total, done;
	double elapsed;
	const char *want;
} format_cases[] = {
	/* half done in 10 s: 5 rows/s, 50 left -> 10 s */
	{ 100, 50, 10, "training [##########..........]  50% 50/100 rows, 10s left" },
	{ 100, 100, 4, "training [####################] 100% 100/100 rows, 0s left" },
	/* 3 of 4 in 30 s: 1 left at 0.1/s */
	{ 4, 3, 30, "training [###############.....]  75% 3/4 rows, 10s left" },
	/* more done than announced: capped at 100%, nothing left */
	{ 10, 25, 5, "training [####################] 100% 25/10 rows, 0s left" },
	/* unknown total: a count and a rate */
	{ 0, 1234, 2, "training: 1234 rows (617/s)" },
	{ 0, 0, 0, "training: 0 rows (0/s)" },
	{ 0, 5000000, 0.5, "training: 5000000 rows (10000000/s)" },
};

START_TEST(test_format_table)
{
	for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
		struct ml_progress p = at("training", format_cases[i].total, "rows", format_cases[i].done, 100);
		char buf[256];
		int n = ml_progress_format(&p, 100 + format_cases[i].elapsed, buf, sizeof buf);
		ck_assert_msg(!strcmp(buf, format_cases[i].want), "case %zu: \"%s\", want \"%s\"", i, buf,
			      format_cases[i].want);
		ck_assert_int_eq(n, (int)strlen(format_cases[i].want));
	}
}
END_TEST

START_TEST(test_format_no_terminal_codes_and_truncation)
{
	struct ml_progress p = at("scoring", 1000, "rows", 250, 0);
	char buf[256];
	int n = ml_progress_format(&p, 5, buf, sizeof buf);
	ck_assert_ptr_null(strchr(buf, '\r'));
	ck_assert_ptr_null(strchr(buf, '\033'));
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_ptr_nonnull(strstr(buf, " 25%"));
	ck_assert_ptr_nonnull(strstr(buf, "250/1000 rows"));
	ck_assert_ptr_nonnull(strstr(buf, "15s left"));	/* 50/s, 750 left */
	/* A short buffer is NUL-terminated and the full length still reported. */
	char small[8];
	memset(small, 'x', sizeof small);
	ck_assert_int_eq(ml_progress_format(&p, 5, small, sizeof small), n);
	ck_assert_str_eq(small, "scoring");
	/* Nothing done yet: an empty bar (what ETA to show is not pinned here). */
	p = at("scoring", 1000, "rows", 0, 0);
	ml_progress_format(&p, 0, buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "scoring [....................]   0% 0/1000 rows"));
}
END_TEST

/* Read back everything written to f. */
static size_t slurp(FILE *f, char *buf, size_t bufsz)
{
	ck_assert_int_eq(fflush(f), 0);
	rewind(f);
	size_t n = fread(buf, 1, bufsz - 1, f);
	buf[n] = '\0';
	return n;
}

START_TEST(test_disabled_writes_nothing)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ml_progress_set_mode(0);
	struct ml_progress p;
	ml_progress_start(&p, "training", 10, "rounds");
	ck_assert_int_eq(p.enabled, 0);
	p.out = f;
	for (uint64_t i = 1; i <= 10; i++)
		ml_progress_update(&p, i);
	ml_progress_finish(&p);
	ck_assert_uint_eq(p.done, 10);	/* still counted, just not shown */
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_eq(ftell(f), 0);
	fclose(f);
}
END_TEST

START_TEST(test_enabled_redraws_in_place_and_ends_line)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ml_progress_set_mode(1);
	struct ml_progress p;
	ml_progress_start(&p, "training", 10, "rounds");
	ck_assert_int_eq(p.enabled, 1);
	ck_assert_ptr_eq(p.out, stderr);
	p.out = f;
	ml_progress_update(&p, 3);	/* the first update draws at once */
	char buf[4096];
	size_t n = slurp(f, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(buf[0], '\r');
	ck_assert_ptr_nonnull(strstr(buf, "training ["));
	ck_assert_ptr_nonnull(strstr(buf, "3/10 rounds"));
	ck_assert_ptr_null(strchr(buf, '\n'));	/* no line end until finish */
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ml_progress_update(&p, 10);
	ml_progress_finish(&p);
	n = slurp(f, buf, sizeof buf);
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1);	/* exactly one, at the end */
	/* The final drawing, after the last \r, shows the finished state. */
	char *last = strrchr(buf, '\r');
	ck_assert_ptr_nonnull(last);
	ck_assert_ptr_nonnull(strstr(last, "100% 10/10 rounds"));
	fclose(f);
}
END_TEST

START_TEST(test_enabled_throttles_redraws)
{
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ml_progress_set_mode(1);
	struct ml_progress p;
	ml_progress_start(&p, "reading", 0, "rows");
	p.out = f;
	for (uint64_t i = 1; i <= 100000; i++)
		ml_progress_update(&p, i);
	ml_progress_finish(&p);
	static char buf[1 << 20];
	size_t n = slurp(f, buf, sizeof buf);
	size_t draws = 0;
	for (size_t i = 0; i < n; i++)
		draws += buf[i] == '\r';
	/* 100000 calls take well under a second: at most ten draws a second. */
	ck_assert_uint_ge(draws, 2);
	ck_assert_msg(draws < 50, "%zu redraws for 100000 updates", draws);
	ck_assert_ptr_nonnull(strstr(buf, "reading: 100000 rows ("));
	fclose(f);
}
END_TEST

START_TEST(test_auto_mode_follows_stderr)
{
	ml_progress_set_mode(-1);
	struct ml_progress p;
	ml_progress_start(&p, "x", 0, "rows");
	ck_assert_int_eq(!!p.enabled, !!isatty(STDERR_FILENO));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_format_table);
	tcase_add_test(tc, test_format_no_terminal_codes_and_truncation);
	tcase_add_test(tc, test_disabled_writes_nothing);
	tcase_add_test(tc, test_enabled_redraws_in_place_and_ends_line);
	tcase_add_test(tc, test_enabled_throttles_redraws);
	tcase_add_test(tc, test_auto_mode_follows_stderr);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
