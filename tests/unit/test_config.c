/* test_config.c - YAML config to JSON: shapes, strings, and what is refused. */
#include "mlpipe/config.h"
#include "testutil.h"

/* Compact, key-sorted JSON of what parsing yaml gives, for comparison. */
static char *parse_to_json(const char *yaml, size_t len)
{
	struct ml_err err = ML_ERR_INIT;
	json_t *root = ml_config_parse_yaml(yaml, len, "cfg.yaml", &err);
	ck_assert_msg(root != NULL, "parse failed: %s", err.msg);
	ck_assert_int_eq(err.class, ML_ERR_NONE);
	char *s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(root);
	ck_assert_ptr_nonnull(s);
	return s;
}

static const struct {
	const char *yaml;
	const char *json;
} good_cases[] = {
	/* nested sections, block and flow sequences */
	{ "train:\n"
	  "  algorithm: gbtree\n"
	  "  num_round: 100\n"
	  "  eta: 0.1\n"
	  "notify:\n"
	  "  to: [ \"smtp://localhost:2525\", \"file:///var/log/ml.jsonl\" ]\n",
	  "{\"notify\":{\"to\":[\"smtp://localhost:2525\",\"file:///var/log/ml.jsonl\"]},"
	  "\"train\":{\"algorithm\":\"gbtree\",\"eta\":\"0.1\",\"num_round\":\"100\"}}" },
	{ "preprocess:\n  drop:\n    - id\n    - vin\n  nested:\n    - [a, b]\n    - {k: v}\n",
	  "{\"preprocess\":{\"drop\":[\"id\",\"vin\"],\"nested\":[[\"a\",\"b\"],{\"k\":\"v\"}]}}" },
	/* numbers and booleans stay strings, like hyperparameters.json */
	{ "train: {num_round: 100, eta: 1e-3, big: 0x1F, on: true, off: no}\n",
	  "{\"train\":{\"big\":\"0x1F\",\"eta\":\"1e-3\",\"num_round\":\"100\",\"off\":\"no\","
	  "\"on\":\"true\"}}" },
	/* quoted strings: escapes, doubled quotes, quoted null words */
	{ "a: '100'\nb: \"tab\\there\"\nc: 'it''s'\nd: \"~\"\ne: ''\nf: 'null'\n",
	  "{\"a\":\"100\",\"b\":\"tab\\there\",\"c\":\"it's\",\"d\":\"~\",\"e\":\"\",\"f\":\"null\"}" },
	/* null: ~, null, empty value */
	{ "a: ~\nb:\nc: null\nd: NULL\ne: [~, x, ]\n",
	  "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":[null,\"x\"]}" },
	/* block scalars keep their text */
	{ "notify:\n  body: |\n    line 1\n    line 2\n",
	  "{\"notify\":{\"body\":\"line 1\\nline 2\\n\"}}" },
	/* standard tags are accepted and change nothing */
	{ "a: !!str 1\nb: !!int 2\nc: !!null ~\nd: !!seq [x]\ne: !!map {k: v}\nf: ! 3\n",
	  "{\"a\":\"1\",\"b\":\"2\",\"c\":null,\"d\":[\"x\"],\"e\":{\"k\":\"v\"},\"f\":\"3\"}" },
	/* unicode is kept as is (UTF-8 in, UTF-8 out) */
	{ "notify:\n  subject: Zürich — 東京 ✓\n  q: \"\\u00e9\"\n",
	  "{\"notify\":{\"q\":\"\xc3\xa9\",\"subject\":\"Zürich — 東京 ✓\"}}" },
	/* an explicit document with directives and an end marker */
	{ "%YAML 1.1\n---\ntrain: {eta: 0.3}\n...\n", "{\"train\":{\"eta\":\"0.3\"}}" },
	/* empty documents are an empty config */
	{ "", "{}" },
	{ "# nothing configured yet\n\n", "{}" },
	{ "---\n", "{}" },
	{ "~\n", "{}" },
	{ "{}\n", "{}" },
};

START_TEST(test_good)
{
	char *got = parse_to_json(good_cases[_i].yaml, strlen(good_cases[_i].yaml));
	ck_assert_str_eq(got, good_cases[_i].json);
	free(got);
}
END_TEST

static const struct {
	const char *yaml;
	const char *msg;
} bad_cases[] = {
	{ "- a\n- b\n",
	  "cfg.yaml: the top level must be a mapping of sections (preprocess:, train:, ...)" },
	{ "just text\n",
	  "cfg.yaml: the top level must be a mapping of sections (preprocess:, train:, ...)" },
	{ "train:\n  eta: 0.1\nscore:\n  model: *m\n", "cfg.yaml:4:10: YAML aliases are not supported" },
	{ "*m\n", "cfg.yaml:1:1: YAML aliases are not supported" },
	{ "a: 1\n*k : 2\n", "cfg.yaml:2:1: YAML aliases are not supported" },
	{ "base: &b {eta: 0.1}\ntrain: *b\n", "cfg.yaml:1:7: YAML anchors are not supported (&b)" },
	{ "&k a: 1\n", "cfg.yaml:1:1: YAML anchors are not supported (&k)" },
	{ "train:\n  eta: 0.1\n  eta: 0.2\n", "cfg.yaml:3:3: duplicate key \"eta\"" },
	{ "train: {eta: 1}\n'train': {}\n", "cfg.yaml:2:1: duplicate key \"train\"" },
	{ "? [a, b]\n: x\n", "cfg.yaml:1:3: mapping keys must be scalars" },
	{ "\"a\\0b\": 1\n", "cfg.yaml:1:1: mapping key contains a NUL character" },
	{ "a: !!binary aGk=\n", "cfg.yaml:1:4: unsupported tag \"!!binary\"" },
	{ "a: !custom x\n", "cfg.yaml:1:4: unsupported tag \"!custom\"" },
	{ "a: !!map x\n", "cfg.yaml:1:4: unsupported tag \"!!map\"" },
	{ "a: 1\n---\nb: 2\n", "cfg.yaml:2:1: multiple YAML documents are not supported" },
	{ "a: 1\n...\n---\n", "cfg.yaml:3:1: multiple YAML documents are not supported" },
	/* syntax errors: name:line:column: problem (context) */
	{ "train:\n  eta: 0.1\n  a: b: c\n",
	  "cfg.yaml:3:7: mapping values are not allowed in this context" },
	{ "train:\n\teta: 0.1\n",
	  "cfg.yaml:2:1: found character that cannot start any token "
	  "(while scanning for the next token)" },
	{ "a: \"open\n", "cfg.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar)" },
	{ "a: [1, 2\n", "cfg.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence)" },
	/* bad UTF-8 is found by the reader, which gives only an offset */
	{ "a: ok\nbé: \xff\n", "cfg.yaml:2:5: invalid leading UTF-8 octet" },
};

START_TEST(test_bad)
{
	struct ml_err err = ML_ERR_INIT;
	const char *yaml = bad_cases[_i].yaml;
	json_t *root = ml_config_parse_yaml(yaml, strlen(yaml), "cfg.yaml", &err);
	ck_assert_ptr_null(root);
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	ck_assert_int_eq(ml_exit_code(&err), 78);
	ck_assert_str_eq(err.msg, bad_cases[_i].msg);
}
END_TEST

/* "a: " then n nested flow sequences around a scalar. */
static char *nested(int n)
{
	char *s = malloc(3 + 2 * (size_t)n + 3);
	ck_assert_ptr_nonnull(s);
	char *p = s;
	memcpy(p, "a: ", 3);
	p += 3;
	for (int i = 0; i < n; i++)
		*p++ = '[';
	*p++ = 'x';
	for (int i = 0; i < n; i++)
		*p++ = ']';
	memcpy(p, "\n", 2);
	return s;
}

START_TEST(test_depth_limit)
{
	struct ml_err err = ML_ERR_INIT;

	/* The top mapping plus 63 sequences is the most allowed. */
	char *ok = nested(63);
	json_t *root = ml_config_parse_yaml(ok, strlen(ok), "cfg.yaml", &err);
	ck_assert_msg(root != NULL, "%s", err.msg);
	json_t *v = json_object_get(root, "a");
	for (int i = 0; i < 63; i++)
		v = json_array_get(v, 0);
	ck_assert_str_eq(json_string_value(v), "x");
	json_decref(root);
	free(ok);

	char *deep = nested(64);
	ck_assert_ptr_null(ml_config_parse_yaml(deep, strlen(deep), "cfg.yaml", &err));
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	ck_assert_str_eq(err.msg, "cfg.yaml:1:67: nesting deeper than 64 levels");
	free(deep);

	/* Far deeper input stops at the limit too, without recursing further. */
	char *huge = nested(100000);
	ck_assert_ptr_null(ml_config_parse_yaml(huge, strlen(huge), "cfg.yaml", &err));
	ck_assert_str_eq(err.msg, "cfg.yaml:1:67: nesting deeper than 64 levels");
	free(huge);
}
END_TEST

START_TEST(test_length_is_respected)
{
	/* Only len bytes are read: the second section is past the end. */
	const char *text = "train: {eta: 0.1}\nscore: {}\n";
	char *got = parse_to_json(text, 18);
	ck_assert_str_eq(got, "{\"train\":{\"eta\":\"0.1\"}}");
	free(got);
}
END_TEST

START_TEST(test_null_err_and_name)
{
	/* err may be NULL; a NULL name still gives a usable message. */
	ck_assert_ptr_null(ml_config_parse_yaml("- x\n", 4, "cfg.yaml", NULL));
	struct ml_err err = ML_ERR_INIT;
	ck_assert_ptr_null(ml_config_parse_yaml("a: *x\n", 6, NULL, &err));
	ck_assert_str_eq(err.msg, "<config>:1:4: YAML aliases are not supported");
}
END_TEST

START_TEST(test_load_file)
{
	/* Work in a scratch directory so messages name "pipeline.yaml" as given. */
	const char *dir = test_tmpdir();
	ck_assert_int_eq(chdir(dir), 0);
	const char yaml[] = "train:\n  num_round: 100\n  eta: 0.1\n";
	test_write_file(".", "pipeline.yaml", yaml, sizeof yaml - 1);

	struct ml_err err = ML_ERR_INIT;
	json_t *root = ml_config_load_yaml("pipeline.yaml", &err);
	ck_assert_msg(root != NULL, "%s", err.msg);
	json_t *train = json_object_get(root, "train");
	ck_assert_str_eq(json_string_value(json_object_get(train, "num_round")), "100");
	ck_assert_str_eq(json_string_value(json_object_get(train, "eta")), "0.1");
	json_decref(root);

	const char bad[] = "train:\n  eta: 1\n  eta: 2\n";
	test_write_file(".", "dup.yaml", bad, sizeof bad - 1);
	ck_assert_ptr_null(ml_config_load_yaml("dup.yaml", &err));
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	ck_assert_str_eq(err.msg, "dup.yaml:3:3: duplicate key \"eta\"");

	unlink("pipeline.yaml");
	unlink("dup.yaml");
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(dir);
}
END_TEST

START_TEST(test_load_missing_file)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_ptr_null(ml_config_load_yaml("/nonexistent/mlpipe/pipeline.yaml", &err));
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	ck_assert_int_eq(ml_exit_code(&err), 66);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/mlpipe/pipeline.yaml"));
}
END_TEST

/* Dotted paths into a loaded config, as ml-model config reads pipeline keys. */
START_TEST(test_get)
{
	static const char yaml[] = "pipeline:\n"
				   "  model_name: price\n"
				   "  registry: /srv/models\n"
				   "  unset:\n"
				   "  to: [a, b]\n"
				   "  deep: {x: {y: z}}\n"
				   "train: {eta: 0.1}\n";
	struct ml_err err = ML_ERR_INIT;
	json_t *doc = ml_config_parse_yaml(yaml, sizeof yaml - 1, "p.yaml", &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(ml_config_get(doc, "pipeline.registry")), "/srv/models");
	ck_assert_str_eq(json_string_value(ml_config_get(doc, "pipeline.model-name")), "price");
	ck_assert_str_eq(json_string_value(ml_config_get(doc, "train.eta")), "0.1");
	ck_assert_str_eq(json_string_value(ml_config_get(doc, "pipeline.deep.x.y")), "z");
	ck_assert_int_eq(json_array_size(ml_config_get(doc, "pipeline.to")), 2);
	ck_assert(json_is_object(ml_config_get(doc, "pipeline")));
	ck_assert_ptr_null(ml_config_get(doc, "pipeline.unset"));	/* null is unset */
	ck_assert_ptr_null(ml_config_get(doc, "pipeline.missing"));
	ck_assert_ptr_null(ml_config_get(doc, "pipeline.registry.x"));	/* below a scalar */
	ck_assert_ptr_null(ml_config_get(doc, "pipeline..registry"));
	ck_assert_ptr_null(ml_config_get(doc, "pipeline."));
	ck_assert_ptr_null(ml_config_get(doc, ""));
	ck_assert_ptr_null(ml_config_get(doc, "pipe"));			/* no prefix match */
	json_decref(doc);

	char name[64];
	ck_assert_int_eq(ml_config_env_name(name, sizeof name, "pipeline.model-name"), 0);
	ck_assert_str_eq(name, "MLPIPE_PIPELINE_MODEL_NAME");
	ck_assert_int_eq(ml_config_env_name(name, 10, "pipeline.registry"), -1);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_good, 0, sizeof good_cases / sizeof good_cases[0]);
	tcase_add_loop_test(tc, test_bad, 0, sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_length_is_respected);
	tcase_add_test(tc, test_null_err_and_name);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_get);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
