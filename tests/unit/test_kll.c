/* test_kll.c - the quantile sketch: exact while small, within its error bound when not. */
#include <math.h>

#include "mlpipe/kll.h"
#include "testutil.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

START_TEST(test_exact_matches_numpy_median)
{
	struct ml_kll *s = ml_kll_new(2048, NULL);
	const double v[] = { 5, 1, 4, NAN, 2, 3, 10 };
	for (size_t i = 0; i < 7; i++)
		ml_kll_add(s, v[i], NULL);
	ck_assert_uint_eq(ml_kll_count(s), 6);
	ck_assert(ml_kll_is_exact(s));
	ck_assert_double_eq(ml_kll_quantile(s, 0.5), 3.5);	/* np.median([5,1,4,2,3,10]) */
	ck_assert_double_eq(ml_kll_quantile(s, 0.25), 2.25);	/* np.quantile(..., 0.25) */
	ck_assert_double_eq(ml_kll_quantile(s, 0), 1);
	ck_assert_double_eq(ml_kll_quantile(s, 1), 10);
	ck_assert_double_eq(ml_kll_cdf(s, 4), 4.0 / 6);
	ml_kll_free(s);
	s = ml_kll_new(2048, NULL);
	ck_assert(isnan(ml_kll_quantile(s, 0.5)));
	ml_kll_free(s);
}
END_TEST

/* One million values: every decile within 1% of rank, memory bounded. */
START_TEST(test_large_stream_rank_error)
{
	const size_t n = 1000000;
	double *all = malloc(n * sizeof *all);
	struct ml_kll *s = ml_kll_new(2048, NULL);
	unsigned seed = 1;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		all[i] = exp((double)(seed >> 8) / (1 << 24) * 5);	/* skewed */
		ck_assert_int_eq(ml_kll_add(s, all[i], NULL), 0);
	}
	ck_assert(!ml_kll_is_exact(s));
	qsort(all, n, sizeof *all, cmp);
	for (int d = 1; d < 10; d++) {
		double q = ml_kll_quantile(s, d / 10.0);
		double *pos = all;
		while (pos < all + n && *pos < q)
			pos++;
		double rank = (double)(pos - all) / (double)n;
		ck_assert_msg(fabs(rank - d / 10.0) < 0.01, "decile %d: rank %.4f", d, rank);
	}
	json_t *j = ml_kll_to_json(s);
	size_t held = 0;
	for (size_t h = 0; h < json_array_size(json_object_get(j, "levels")); h++)
		held += json_array_size(json_array_get(json_object_get(j, "levels"), h));
	ck_assert_uint_lt(held, 3 * 2048 + 2048 / 2);	/* ~3k, and level 0's buffer of k/2 */
	json_decref(j);
	ml_kll_free(s);
	free(all);
}
END_TEST

START_TEST(test_merge_and_json_round_trip)
{
	struct ml_kll *a = ml_kll_new(256, NULL), *b = ml_kll_new(256, NULL), *whole = ml_kll_new(256, NULL);
	for (int i = 0; i < 100000; i++) {
		ml_kll_add(i % 2 ? a : b, i, NULL);
		ml_kll_add(whole, i, NULL);
	}
	ck_assert_int_eq(ml_kll_merge(a, b, NULL), 0);
	ck_assert_uint_eq(ml_kll_count(a), 100000);
	ck_assert_double_eq(ml_kll_min(a), 0);
	ck_assert_double_eq(ml_kll_max(a), 99999);
	ck_assert(fabs(ml_kll_quantile(a, 0.5) - ml_kll_quantile(whole, 0.5)) < 100000 * 0.02);
	json_t *j = ml_kll_to_json(a);
	struct ml_err err = ML_ERR_INIT;
	struct ml_kll *c = ml_kll_from_json(j, "stats.json", &err);
	ck_assert_msg(c, "%s", err.msg);
	ck_assert_double_eq(ml_kll_quantile(c, 0.3), ml_kll_quantile(a, 0.3));
	json_object_set_new(j, "n", json_integer(5));
	ck_assert_ptr_null(ml_kll_from_json(j, "stats.json", &err));
	ck_assert_msg(strstr(err.msg, "weights add up to"), "%s", err.msg);
	struct ml_kll *other = ml_kll_new(512, NULL);
	ck_assert_int_eq(ml_kll_merge(a, other, &err), -1);
	json_decref(j);
	ml_kll_free(a);
	ml_kll_free(b);
	ml_kll_free(c);
	ml_kll_free(other);
	ml_kll_free(whole);
}
END_TEST

/* ml_kll_add_n() builds the very sketch that ml_kll_add() value by value does, NaN skipped. */
START_TEST(test_add_n_same_sketch)
{
	const size_t n = 300000;
	double *v = malloc(n * sizeof *v);
	unsigned seed = 7;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = i % 97 == 0 ? NAN : (double)(seed >> 8) / (1 << 12) - 1000;
	}
	struct ml_kll *one = ml_kll_new(256, NULL), *bulk = ml_kll_new(256, NULL);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ml_kll_add(one, v[i], NULL), 0);
	for (size_t i = 0; i < n; i += 4096)	/* batches, as ml-baseline adds them */
		ck_assert_int_eq(ml_kll_add_n(bulk, v + i, n - i < 4096 ? n - i : 4096, NULL), 0);
	json_t *a = ml_kll_to_json(one), *b = ml_kll_to_json(bulk);
	ck_assert(json_equal(a, b));
	ck_assert_uint_eq(ml_kll_count(bulk), n - (n + 96) / 97);
	json_decref(a);
	json_decref(b);
	ml_kll_free(one);
	ml_kll_free(bulk);
	free(v);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("kll");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_exact_matches_numpy_median);
	tcase_add_test(tc, test_large_stream_rank_error);
	tcase_add_test(tc, test_add_n_same_sketch);
	tcase_add_test(tc, test_merge_and_json_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
