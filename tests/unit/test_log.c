/*
 * test_log.c - diagnostics on stderr: "prog: msg", "prog: warning: msg",
 * verbosity filtering (-q, default, -v, -vv) and ml_fail()'s exit codes.
 *
 * stderr is captured by pointing fd 2 at a temporary file for the length of
 * a call (each test runs in its own forked process, and the fixture puts the
 * real stderr back in any case).
 */
#include <fcntl.h>

#include "mlpipe/log.h"
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

/* Log one message at each level and return everything that was printed. */
static const char *log_all_levels(void)
{
	test_capture_stderr();
	ml_error("e%d", 1);
	ml_warn("w%d", 2);
	ml_info("i%d", 3);
	ml_debug("d%d", 4);
	return test_captured_stderr();
}

START_TEST(test_progname_basename)
{
	ml_set_progname("/usr/local/bin/ml-score");
	ck_assert_str_eq(ml_progname(), "ml-score");
	ml_set_progname("ml-train");
	ck_assert_str_eq(ml_progname(), "ml-train");
	ml_set_progname("./build/bin/ml-split");
	ck_assert_str_eq(ml_progname(), "ml-split");
	/* NULL or empty argv[0] keeps the previous name rather than blanking it. */
	ml_set_progname(NULL);
	ck_assert_str_eq(ml_progname(), "ml-split");
	ml_set_progname("");
	ck_assert_str_eq(ml_progname(), "ml-split");
}
END_TEST

START_TEST(test_message_format)
{
	ml_set_progname("/opt/mlpipe/bin/ml-score");
	test_capture_stderr();
	ml_error("cars.csv:12:7: expected a number, got \"%s\"", "abc");
	ml_warn("skipped %d rows", 3);
	const char *got = test_captured_stderr();
	ck_assert_str_eq(got, "ml-score: cars.csv:12:7: expected a number, got \"abc\"\n"
			      "ml-score: warning: skipped 3 rows\n");
}
END_TEST

START_TEST(test_info_and_debug_format)
{
	ml_set_verbosity(2);
	test_capture_stderr();
	ml_info("read %d rows", 804);
	ml_debug("batch %s", "full");
	const char *got = test_captured_stderr();
	/* Only warnings get a "warning:" tag. */
	ck_assert_str_eq(got, "ml-test: read 804 rows\nml-test: batch full\n");
}
END_TEST

START_TEST(test_verbosity_quiet)
{
	ml_set_verbosity(-1);
	ck_assert_int_eq(ml_verbosity(), -1);
	ck_assert_str_eq(log_all_levels(), "ml-test: e1\n");
}
END_TEST

START_TEST(test_verbosity_default)
{
	ck_assert_int_eq(ml_verbosity(), 0);
	ck_assert_str_eq(log_all_levels(), "ml-test: e1\nml-test: warning: w2\n");
}
END_TEST

START_TEST(test_verbosity_info)
{
	ml_set_verbosity(1);
	ck_assert_int_eq(ml_verbosity(), 1);
	ck_assert_str_eq(log_all_levels(), "ml-test: e1\nml-test: warning: w2\nml-test: i3\n");
}
END_TEST

START_TEST(test_verbosity_debug)
{
	ml_set_verbosity(2);
	ck_assert_str_eq(log_all_levels(), "ml-test: e1\nml-test: warning: w2\nml-test: i3\nml-test: d4\n");
	ml_set_verbosity(5);	/* more -v than there are levels shows everything */
	ck_assert_str_eq(log_all_levels(), "ml-test: e1\nml-test: warning: w2\nml-test: i3\nml-test: d4\n");
}
END_TEST

START_TEST(test_long_message_is_one_line)
{
	char long_text[5000];
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	test_capture_stderr();
	ml_error("%s", long_text);
	const char *got = test_captured_stderr();
	/* Cut to fit, but still prefixed and ended by exactly one newline. */
	ck_assert(strncmp(got, "ml-test: xxxx", 13) == 0);
	size_t len = strlen(got);
	ck_assert_uint_gt(len, 1000);
	ck_assert_int_eq(got[len - 1], '\n');
	ck_assert_ptr_eq(strchr(got, '\n'), got + len - 1);
}
END_TEST

static const struct {
	enum ml_errclass class;
	int status;
} fail_cases[] = {
	{ ML_ERR_USAGE, 64 },	 { ML_ERR_DATA, 65 }, { ML_ERR_NOINPUT, 66 },	{ ML_ERR_UNAVAILABLE, 69 },
	{ ML_ERR_INTERNAL, 70 }, { ML_ERR_IO, 74 },   { ML_ERR_TEMPFAIL, 75 }, { ML_ERR_CONFIG, 78 },
};

START_TEST(test_fail_prints_and_returns_status)
{
	struct ml_err err = ML_ERR_INIT;
	ml_err_set(&err, fail_cases[_i].class, "in.csv:3: something (%d)", _i);
	test_capture_stderr();
	int status = ml_fail(&err);
	const char *got = test_captured_stderr();
	ck_assert_int_eq(status, fail_cases[_i].status);
	char want[128];
	snprintf(want, sizeof want, "ml-test: in.csv:3: something (%d)\n", _i);
	ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_fail_shown_even_when_quiet)
{
	struct ml_err err = ML_ERR_INIT;
	ml_err_set(&err, ML_ERR_DATA, "bad row");
	ml_set_verbosity(-1);
	test_capture_stderr();
	ck_assert_int_eq(ml_fail(&err), 65);
	ck_assert_str_eq(test_captured_stderr(), "ml-test: bad row\n");
}
END_TEST

START_TEST(test_fail_without_detail)
{
	/* A failure nobody described is still a failure, and says so. */
	struct ml_err err = ML_ERR_INIT;
	test_capture_stderr();
	ck_assert_int_eq(ml_fail(NULL), 70);
	err.class = ML_ERR_IO;
	ck_assert_int_eq(ml_fail(&err), 74);
	const char *got = test_captured_stderr();
	ck_assert_str_eq(got, "ml-test: failed (no detail)\nml-test: failed (no detail)\n");
}
END_TEST

START_TEST(test_message_with_percent_is_literal)
{
	/* ml_fail must not treat the message as a format. */
	struct ml_err err = ML_ERR_INIT;
	ml_err_set(&err, ML_ERR_USAGE, "%s", "option --x: 100%s%d%n");
	test_capture_stderr();
	ck_assert_int_eq(ml_fail(&err), 64);
	ck_assert_str_eq(test_captured_stderr(), "ml-test: option --x: 100%s%d%n\n");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_progname_basename);
	tcase_add_test(tc, test_message_format);
	tcase_add_test(tc, test_info_and_debug_format);
	tcase_add_test(tc, test_verbosity_quiet);
	tcase_add_test(tc, test_verbosity_default);
	tcase_add_test(tc, test_verbosity_info);
	tcase_add_test(tc, test_verbosity_debug);
	tcase_add_test(tc, test_long_message_is_one_line);
	tcase_add_loop_test(tc, test_fail_prints_and_returns_status, 0,
			    sizeof fail_cases / sizeof fail_cases[0]);
	tcase_add_test(tc, test_fail_shown_even_when_quiet);
	tcase_add_test(tc, test_fail_without_detail);
	tcase_add_test(tc, test_message_with_percent_is_literal);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
