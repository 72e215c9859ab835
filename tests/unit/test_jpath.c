/*
 * test_jpath.c - SageMaker's JSONPath subset for batch-transform filters.
 *
 * Each case is an expression, the record's field names, and the indexes it
 * picks (Python's slice rules) or the error class it gives.
 */
#include "mlpipe/jpath.h"
#include "testutil.h"

static const char *const names[] = { "id", "price", "mileage", "make", "prediction" };
#define N 5

static const struct {
	const char *expr;
	const char *want;	/* picked indexes, space-separated; or "usage" / "data" */
} cases[] = {
	{ "$", "0 1 2 3 4" },
	{ "$[*]", "0 1 2 3 4" },
	{ "$[1:]", "1 2 3 4" },
	{ "$[:2]", "0 1" },
	{ "$[1:3]", "1 2" },
	{ "$[-2:]", "3 4" },
	{ "$[1:-1]", "1 2 3" },
	{ "$[3:1]", "" },
	{ "$[0:99]", "0 1 2 3 4" },
	{ "$[0,-1]", "0 4" },
	{ "$[ 0 , 2:4 ]", "0 2 3" },
	{ "$[4,0]", "4 0" },
	{ "$['id','prediction']", "0 4" },
	{ "$[\"make\"]", "3" },
	{ "$.mileage", "2" },
	{ "$[5]", "data" },
	{ "$[-6]", "data" },
	{ "$['nope']", "data" },
	{ "$.nope", "data" },
	{ "foo", "usage" },
	{ "$[", "usage" },
	{ "$[1:x]", "usage" },
	{ "$['id'", "usage" },
	{ "$.", "usage" },
	{ "$[0]x", "usage" },
	{ "$[0][1]", "usage" },
	{ "$.a.b", "usage" },		/* parses, but is not a flat selection */
	{ "$.features[1:]", "usage" },
};

START_TEST(test_select_table)
{
	struct ml_jpath p;
	struct ml_err err = ML_ERR_INIT;
	size_t out[64], n = 0;
	char got[256] = "";
	const char *want = cases[_i].want;
	int rc = ml_jpath_parse(cases[_i].expr, &p, &err);
	if (rc == 0) {
		ck_assert_uint_le(ml_jpath_max_select(&p, N), 64);
		rc = ml_jpath_select(&p, names, N, out, &n, &err);
	}
	if (!strcmp(want, "usage") || !strcmp(want, "data")) {
		ck_assert_msg(rc < 0, "%s: picked fields, wanted an error", cases[_i].expr);
		ck_assert_msg(err.class == (!strcmp(want, "usage") ? ML_ERR_USAGE : ML_ERR_DATA), "%s: %s",
			      cases[_i].expr, err.msg);
		ck_assert_msg(strstr(err.msg, "JSONPath '") != NULL, "%s: message %s", cases[_i].expr, err.msg);
	} else {
		ck_assert_msg(rc == 0, "%s: %s", cases[_i].expr, err.msg);
		for (size_t i = 0; i < n; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu", i ? " " : "", out[i]);
		ck_assert_str_eq(got, want);
	}
	ml_jpath_release(&p);
}
END_TEST

START_TEST(test_nested_is_parsed_but_not_flat)
{
	struct ml_jpath p;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_jpath_parse("$.a.b", &p, &err), 0);
	ck_assert_uint_eq(p.nmembers, 2);
	ck_assert_str_eq(p.members[1], "b");
	ck_assert(!ml_jpath_is_flat(&p));
	ck_assert(!ml_jpath_is_all(&p));
	ml_jpath_release(&p);
	ck_assert_int_eq(ml_jpath_parse("  $  ", &p, &err), 0);
	ck_assert(ml_jpath_is_all(&p) && ml_jpath_is_flat(&p));
	ml_jpath_release(&p);
}
END_TEST

START_TEST(test_message_names_the_place)
{
	struct ml_jpath p;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_jpath_parse("$[1:x]", &p, &err), -1);
	ck_assert_str_eq(err.msg, "JSONPath '$[1:x]': expected the end of a slice at character 5 "
				  "(supported: $, $[1:], $[0,-1], $['a','b'], $.a.b)");
	ml_jpath_release(&p);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("jpath");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_select_table, 0, sizeof cases / sizeof cases[0]);
	tcase_add_test(tc, test_nested_is_parsed_but_not_flat);
	tcase_add_test(tc, test_message_names_the_place);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
