/* test_err.c - error classes, exit codes, messages; growable buffers. */
#include <errno.h>

#include "mlpipe/buf.h"
#include "mlpipe/err.h"
#include "testutil.h"

static const struct {
	enum ml_errclass class;
	int status;
} exit_cases[] = {
	{ ML_ERR_USAGE, 64 },	 { ML_ERR_DATA, 65 }, { ML_ERR_NOINPUT, 66 }, { ML_ERR_UNAVAILABLE, 69 },
	{ ML_ERR_INTERNAL, 70 }, { ML_ERR_IO, 74 },   { ML_ERR_TEMPFAIL, 75 }, { ML_ERR_CONFIG, 78 },
};

START_TEST(test_exit_codes)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_err_set(&err, exit_cases[_i].class, "x %d", 1), -1);
	ck_assert_int_eq(ml_exit_code(&err), exit_cases[_i].status);
	ck_assert_str_eq(err.msg, "x 1");
}
END_TEST

START_TEST(test_errno_classes_and_text)
{
	struct ml_err err = ML_ERR_INIT;
	ml_err_errno(&err, ENOENT, "cannot open %s", "cars.csv");
	ck_assert_str_eq(err.msg, "cannot open cars.csv: No such file or directory");
	ck_assert_int_eq(ml_exit_code(&err), 66);
	ml_err_errno(&err, ENOSPC, "writing out.csv");
	ck_assert_int_eq(ml_exit_code(&err), 74);
	ml_err_prefix(&err, "loading %s", "model.json");
	ck_assert_str_eq(err.msg, "loading model.json: writing out.csv: No space left on device");
	ml_err_clear(&err);
	ck_assert_int_eq(ml_exit_code(&err), 0);
	ck_assert_int_eq(ml_exit_code(NULL), 70);
}
END_TEST

START_TEST(test_buf_cap)
{
	struct ml_buf b;
	ml_buf_init(&b, 10);
	ck_assert_int_eq(ml_buf_adds(&b, "0123456789"), 0);
	ck_assert_int_eq(ml_buf_addc(&b, 'x'), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_str_eq(b.data, "0123456789");
	ml_buf_reset(&b);
	ck_assert_int_eq(ml_buf_printf(&b, "%d-%s", 42, "ok"), 0);
	ck_assert_str_eq(b.data, "42-ok");
	char *s = ml_buf_detach(&b);
	ck_assert_str_eq(s, "42-ok");
	free(s);
	ck_assert_ptr_null(b.data);
	ml_buf_release(&b);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_exit_codes, 0, sizeof exit_cases / sizeof exit_cases[0]);
	tcase_add_test(tc, test_errno_classes_and_text);
	tcase_add_test(tc, test_buf_cap);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
