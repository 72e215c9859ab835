/* test_dict.c - interning: stable ids, lookups, the cap. */
#include "mlpipe/dict.h"
#include "testutil.h"

START_TEST(test_ids_are_dense_and_stable)
{
	struct ml_dict *d = ml_dict_new(100000, NULL);
	char key[32];
	for (int i = 0; i < 50000; i++) {
		int n = snprintf(key, sizeof key, "level-%d", i);
		ck_assert_int_eq(ml_dict_intern(d, key, (size_t)n, NULL), i);
	}
	for (int i = 0; i < 50000; i += 7) {
		int n = snprintf(key, sizeof key, "level-%d", i);
		ck_assert_int_eq(ml_dict_intern(d, key, (size_t)n, NULL), i);
		ck_assert_int_eq(ml_dict_find(d, key, (size_t)n), i);
		size_t len;
		ck_assert_str_eq(ml_dict_name(d, i, &len), key);
		ck_assert_uint_eq(len, (size_t)n);
	}
	ck_assert_int_eq(ml_dict_find(d, "absent", 6), -1);
	ck_assert_uint_eq(ml_dict_size(d), 50000);
	ck_assert_ptr_null(ml_dict_name(d, 50000, NULL));
	ml_dict_free(d);
}
END_TEST

START_TEST(test_embedded_nul_and_empty)
{
	struct ml_dict *d = ml_dict_new(10, NULL);
	ck_assert_int_eq(ml_dict_intern(d, "", 0, NULL), 0);
	ck_assert_int_eq(ml_dict_intern(d, "a\0b", 3, NULL), 1);
	ck_assert_int_eq(ml_dict_intern(d, "a", 1, NULL), 2);
	ck_assert_int_eq(ml_dict_find(d, "a\0b", 3), 1);
	ml_dict_free(d);
}
END_TEST

START_TEST(test_cap_is_an_error)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_dict *d = ml_dict_new(2, NULL);
	ck_assert_int_eq(ml_dict_intern(d, "a", 1, &err), 0);
	ck_assert_int_eq(ml_dict_intern(d, "b", 1, &err), 1);
	ck_assert_int_eq(ml_dict_intern(d, "a", 1, &err), 0);
	ck_assert_int_eq(ml_dict_intern(d, "c", 1, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_str_eq(err.msg, "more than 2 distinct values");
	ml_dict_free(d);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("dict");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_ids_are_dense_and_stable);
	tcase_add_test(tc, test_embedded_nul_and_empty);
	tcase_add_test(tc, test_cap_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
