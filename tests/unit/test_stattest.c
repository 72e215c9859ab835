/*
 * test_stattest.c - Kolmogorov and chi-square tail probabilities against
 * values computed with SciPy 1.10 (stats.kstwo.sf, stats.ks_2samp with
 * method "asymp" and its default, stats.chi2.sf), one case per branch of the Kolmogorov method
 * choice (Ruben-Gambino ends, Durbin matrix, Pelz-Good, Smirnov's sum).
 */
#include <math.h>

#include "mlpipe/stattest.h"
#include "testutil.h"

static void assert_close(double got, double want, double rel, const char *what)
{
	double tol = rel * fabs(want) + 1e-300;
	ck_assert_msg(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
}

START_TEST(test_kolmogorov_sf)
{
	static const struct {
		double n, d, p;
	} cases[] = {
		{ 1, 0.7, 0.6000000000000001 },		/* t >= n - 1 */
		{ 5, 0.3, 0.664 },
		{ 10, 0.25, 0.4841115325000003 },
		{ 50, 0.1, 0.6623112704658186 },		/* n <= 140: Durbin */
		{ 140, 0.12, 0.03252638258561632 },
		{ 141, 0.11, 0.061026676517912715 },
		{ 400, 0.05, 0.26121244607129124 },		/* Durbin, n x^1.5 <= 1.4 */
		{ 400, 0.068, 0.0472075991494042 },
		{ 804, 0.05, 0.034688887161284376 },		/* 2.2 <= n x^2: Smirnov */
		{ 5000, 0.02, 0.03613941395325637 },
		{ 100000, 0.004, 0.08130148920222469 },		/* Pelz-Good */
		{ 100001, 0.0043, 0.049401300693156514 },
		{ 500000, 0.002, 0.036582179671620585 },
		{ 1000, 0.6, 0.0 },
		{ 300, 0.0015, 1.0 },				/* t <= 0.5 */
		{ 2000, 0.08, 1.3971929193124921e-11 },
	};
	char what[64];
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		snprintf(what, sizeof what, "kstwo.sf(%g, %g)", cases[i].d, cases[i].n);
		assert_close(ml_kolmogorov_sf(cases[i].n, cases[i].d), cases[i].p, 1e-9, what);
	}
	ck_assert(isnan(ml_kolmogorov_sf(0, 0.1)));
	ck_assert(isnan(ml_kolmogorov_sf(2.5, 0.1)));
	ck_assert(ml_kolmogorov_sf(10, 0) == 1 && ml_kolmogorov_sf(10, 1) == 0);
}
END_TEST

START_TEST(test_ks_2samp)
{
	static const struct {
		double d, n, m, p;
	} cases[] = {
		{ 0.10166666666666657, 300, 200, 0.15613925469790332 },
		{ 0.05499999999999994, 1000, 1000, 0.09354283804510455 },
		{ 0.04844999999999999, 20000, 15000, 6.348439764074187e-18 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		assert_close(ml_ks_2samp_pvalue(cases[i].d, cases[i].n, cases[i].m), cases[i].p, 1e-9, "ks_2samp");
	assert_close(ml_ks_2samp_pvalue(0.05499999999999994, 1000, 1000),
		     ml_ks_2samp_pvalue(0.05499999999999994, 1000, 1000), 0, "deterministic");
	ck_assert(isnan(ml_ks_2samp_pvalue(0.1, 0, 10)));
}
END_TEST

START_TEST(test_ks_2samp_exact)
{
	static const struct {	/* scipy.stats.ks_2samp(a, b), method "auto": exact at these sizes */
		double d, n, m, p;
	} cases[] = {
		{ 0.25, 40, 40, 0.16497269950224194 },
		{ 0.06333333333333334, 300, 200, 0.704874743234545 },
		{ 0.07346446446446446, 1000, 999, 0.008583807993071303 },
		{ 0.0352, 5000, 4000, 0.00792931354658516 },
	};
	int exact;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_close(ml_ks_2samp_pvalue_auto(cases[i].d, cases[i].n, cases[i].m, &exact), cases[i].p, 1e-9,
			     "ks_2samp exact");
		ck_assert(exact);
	}
	ml_ks_2samp_pvalue_auto(0.05, 10001, 300, &exact);
	ck_assert(!exact);	/* more than 10000 values: asymptotic, as SciPy */
	ck_assert(ml_ks_2samp_pvalue_exact(0, 10, 20) == 1);
	ck_assert(isnan(ml_ks_2samp_pvalue_exact(0.1, 10.5, 20)));
}
END_TEST

START_TEST(test_chi2_sf)
{
	static const struct {
		double x, k, p;
	} cases[] = {
		{ 0.5, 1, 0.47950012218695337 },	{ 3.84, 1, 0.05004352124870519 },
		{ 10, 3, 0.01856613546304325 },	{ 64.5, 3, 6.416616740879788e-14 },
		{ 100, 50, 3.454931382984871e-05 },	{ 0.001, 2, 0.9995001249791693 },
		{ 300, 9, 2.6102773472069844e-59 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		assert_close(ml_chi2_sf(cases[i].x, cases[i].k), cases[i].p, 1e-12, "chi2.sf");
	ck_assert(ml_chi2_sf(0, 3) == 1);
	ck_assert(isnan(ml_chi2_sf(1, 0)));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("stattest");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_kolmogorov_sf);
	tcase_add_test(tc, test_ks_2samp);
	tcase_add_test(tc, test_ks_2samp_exact);
	tcase_add_test(tc, test_chi2_sf);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
