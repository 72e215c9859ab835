/* test_schema.c - schema building, its JSON form and validation of untrusted JSON. */
#include "mlpipe/schema.h"
#include "testutil.h"

START_TEST(test_round_trip)
{
	struct ml_schema s, t;
	struct ml_err err = ML_ERR_INIT;
	ml_schema_init(&s);
	ck_assert_int_eq(ml_schema_add(&s, "price", ML_TYPE_NUMERIC, ML_ROLE_TARGET, &err), 0);
	ck_assert_int_eq(ml_schema_add(&s, "make", ML_TYPE_CATEGORICAL, ML_ROLE_FEATURE, &err), 0);
	ck_assert_int_eq(ml_schema_add(&s, "make", ML_TYPE_TEXT, ML_ROLE_FEATURE, &err), -1);
	ck_assert_str_eq(err.msg, "column \"make\" is defined twice");
	json_t *j = ml_schema_to_json(&s);
	char *text = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(text, "[{\"name\":\"price\",\"type\":\"numeric\",\"role\":\"target\"},"
			       "{\"name\":\"make\",\"type\":\"categorical\",\"role\":\"feature\"}]");
	free(text);
	ck_assert_int_eq(ml_schema_from_json(&t, j, "model.json", &err), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_int_eq(t.cols[1].type, ML_TYPE_CATEGORICAL);
	ck_assert_int_eq(ml_schema_find(&t, "price"), 0);
	ck_assert_int_eq(ml_schema_find(&t, "nope"), -1);
	json_decref(j);
	ml_schema_release(&s);
	ml_schema_release(&t);
}
END_TEST

static const struct {
	const char *json;
	const char *msg;
} bad_schemas[] = {
	{ "{}", "model.json: the schema must be an array of columns" },
	{ "[1]", "model.json: schema column 0 needs a \"name\" and a \"type\" string" },
	{ "[{\"name\":\"a\"}]", "model.json: schema column 0 needs a \"name\" and a \"type\" string" },
	{ "[{\"name\":\"a\",\"type\":\"float\"}]",
	  "model.json: schema column \"a\": unknown type \"float\" (numeric, categorical or text)" },
	{ "[{\"name\":\"a\",\"type\":\"text\",\"role\":\"boss\"}]",
	  "model.json: schema column \"a\": unknown role \"boss\" (feature, target, id, passthrough or ignore)" },
	{ "[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"a\",\"type\":\"text\"}]",
	  "model.json: column \"a\" is defined twice" },
};

START_TEST(test_untrusted_json)
{
	struct ml_schema s;
	struct ml_err err = ML_ERR_INIT;
	json_t *j = json_loads(bad_schemas[_i].json, 0, NULL);
	ck_assert_int_eq(ml_schema_from_json(&s, j, "model.json", &err), -1);
	ck_assert_str_eq(err.msg, bad_schemas[_i].msg);
	ck_assert_uint_eq(s.n, 0);
	json_decref(j);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_round_trip);
	tcase_add_loop_test(tc, test_untrusted_json, 0, sizeof bad_schemas / sizeof bad_schemas[0]);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
