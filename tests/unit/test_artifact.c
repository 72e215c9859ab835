/* test_artifact.c - format stamps, SHA-256 over canonical JSON, load checks. */
#include <math.h>
#include <stdint.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/uri.h"
#include "testutil.h"

static char *path_in(const char *dir, const char *name)
{
	static char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

/* Rewrite the file with one substring replaced (a person or an attacker editing it). */
static void edit_file(const char *path, const char *from, const char *to)
{
	struct ml_err err = ML_ERR_INIT;
	size_t len;
	char *text = ml_read_all(path, 1 << 20, &len, &err);
	ck_assert_ptr_nonnull(text);
	char *at = strstr(text, from);
	ck_assert_msg(at != NULL, "no \"%s\" in %s", from, text);
	char out[1 << 16];
	int n = snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	ck_assert_int_eq(ml_write_all_atomic(path, out, (size_t)n, &err), 0);
	free(text);
}

START_TEST(test_sha256_known_vector)
{
	char hex[ML_SHA256_HEX];
	ck_assert_int_eq(ml_sha256_hex("abc", 3, hex, NULL), 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_format_parse)
{
	char name[64];
	int major;
	ck_assert_int_eq(ml_format_parse("mlpipe.model/1", name, sizeof name, &major), 0);
	ck_assert_str_eq(name, "mlpipe.model");
	ck_assert_int_eq(major, 1);
	ck_assert_int_eq(ml_format_parse("mlpipe.model", name, sizeof name, &major), -1);
	ck_assert_int_eq(ml_format_parse("/1", name, sizeof name, &major), -1);
	ck_assert_int_eq(ml_format_parse("x/01", name, sizeof name, &major), -1);
	ck_assert_int_eq(ml_format_parse("x/1a", name, sizeof name, &major), -1);
	ck_assert_int_eq(ml_format_parse("x/99999999999", name, sizeof name, &major), -1);
}
END_TEST

START_TEST(test_save_load_round_trip)
{
	struct ml_err err = ML_ERR_INIT;
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	char *path = path_in(test_tmpdir(), "recipe.json");
	json_t *doc = json_pack("{s:f, s:[i,i], s:s}", "mean", 0.1 + 0.2, "n", 1, 2, "name", "caf\xc3\xa9");
	ck_assert_int_eq(ml_artifact_save(doc, "mlpipe.recipe", 1, path, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "created")), "2023-11-14T22:13:20Z");
	json_decref(doc);

	int major = 0;
	json_t *back = ml_artifact_load(path, "mlpipe.recipe", 1, 1, &major, &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	ck_assert_int_eq(major, 1);
	/* 17 digits: the double comes back bit for bit. */
	ck_assert(json_real_value(json_object_get(back, "mean")) == 0.1 + 0.2);
	ck_assert_str_eq(json_string_value(json_object_get(back, "format")), "mlpipe.recipe/1");
	json_decref(back);
}
END_TEST

START_TEST(test_reindented_file_still_verifies)
{
	struct ml_err err = ML_ERR_INIT;
	char *path = path_in(test_tmpdir(), "a.json");
	json_t *doc = json_pack("{s:i}", "k", 1);
	ml_artifact_save(doc, "mlpipe.test", 1, path, &err);
	json_decref(doc);
	edit_file(path, "\n  \"k\"", "\n\n        \"k\"");
	json_t *back = ml_artifact_load(path, "mlpipe.test", 1, 1, NULL, &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	json_decref(back);
}
END_TEST

START_TEST(test_tampered_file_refused)
{
	struct ml_err err = ML_ERR_INIT;
	char *path = path_in(test_tmpdir(), "model.json");
	json_t *doc = json_pack("{s:f}", "threshold", 0.5);
	ml_artifact_save(doc, "mlpipe.model", 1, path, &err);
	json_decref(doc);
	edit_file(path, "0.5", "0.6");
	ck_assert_ptr_null(ml_artifact_load(path, "mlpipe.model", 1, 0, NULL, &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_int_eq(ml_exit_code(&err), 65);
	ck_assert_ptr_nonnull(strstr(err.msg, "SHA-256 mismatch"));
	ck_assert_ptr_nonnull(strstr(err.msg, "model.json"));
}
END_TEST

START_TEST(test_newer_and_wrong_format_refused)
{
	struct ml_err err = ML_ERR_INIT;
	char *dir = test_tmpdir();
	char *path = path_in(dir, "m.json");
	json_t *doc = json_object();
	ml_artifact_save(doc, "mlpipe.model", 2, path, &err);
	json_decref(doc);
	ck_assert_ptr_null(ml_artifact_load(path, "mlpipe.model", 1, 0, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "written by a newer mlpipe"));
	ck_assert_ptr_null(ml_artifact_load(path, "mlpipe.recipe", 2, 0, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "is a \"mlpipe.model/2\" document, expected mlpipe.recipe/2"));
}
END_TEST

START_TEST(test_malformed_json_has_position)
{
	struct ml_err err = ML_ERR_INIT;
	char *dir = test_tmpdir();
	const char *path = test_write_file(dir, "bad.json", "{\n  \"format\": \"mlpipe.model/1\",\n  oops\n}", 40);
	ck_assert_ptr_null(ml_artifact_load(path, "mlpipe.model", 1, 0, NULL, &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(strstr(err.msg, "bad.json:3:") != NULL, "%s", err.msg);

	path = test_write_file(dir, "dup.json", "{\"format\":\"x/1\",\"format\":\"x/1\"}", 32);
	ck_assert_ptr_null(ml_artifact_load(path, "x", 1, 0, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "duplicate"));

	path = test_write_file(dir, "list.json", "[1]", 3);
	ck_assert_ptr_null(ml_artifact_load(path, "x", 1, 0, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "expected a JSON object"));

	path = test_write_file(dir, "trunc.json", "{\"format\":\"x/1\",", 16);
	ck_assert_ptr_null(ml_artifact_load(path, "x", 1, 0, NULL, &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
}
END_TEST

START_TEST(test_digest_required)
{
	struct ml_err err = ML_ERR_INIT;
	char *dir = test_tmpdir();
	const char *path = test_write_file(dir, "hand.json", "{\"format\":\"x/1\"}", 16);
	json_t *doc = ml_artifact_load(path, "x", 1, 0, NULL, &err);
	ck_assert_ptr_nonnull(doc);	/* hand-written: accepted when not required */
	json_decref(doc);
	ck_assert_ptr_null(ml_artifact_load(path, "x", 1, 1, NULL, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "no \"sha256\""));
}
END_TEST


/* ---- the canonical text is json_dumps' (digests of files written before stay valid) ---- */

static uint64_t canon_state = 0x9e3779b97f4a7c15u;
static uint64_t canon_rnd(void)
{
	canon_state ^= canon_state << 13;
	canon_state ^= canon_state >> 7;
	canon_state ^= canon_state << 17;
	return canon_state;
}

/* Reals of every kind a model holds, and some no model does. */
static double random_real(void)
{
	uint64_t r = canon_rnd();
	double v;
	switch (r % 6) {
	case 0:
		memcpy(&v, &r, sizeof v);	/* any bit pattern */
		return isfinite(v) ? v : 0.5;
	case 1:
		return (double)(float)((double)(r >> 11) / 9007199254740992.0);	/* a float threshold */
	case 2:
		return ldexp((double)(r >> 11), (int)(canon_rnd() % 140) - 120);
	case 3:
		return (double)(r % 100000) / pow(10, (double)(canon_rnd() % 8));	/* short decimals, integers */
	case 4:
		return (r & 1 ? -1 : 1) * pow(10, (double)((int)(canon_rnd() % 40) - 20));	/* powers of ten */
	default:
		return -(double)(r >> 11) / 3;
	}
}

static json_t *random_value(int depth)
{
	static const char *const texts[] = { "", "plain", "quote \" and \\ backslash", "tab\tnew\nline\r\b\f",
					     "ctl \x01\x1f", "utf-8 \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80", "/slash" };
	uint64_t r = canon_rnd() % (depth > 3 ? 5 : 7);
	switch (r) {
	case 0:
		return json_real(random_real());
	case 1:
		return json_integer((json_int_t)canon_rnd() >> (canon_rnd() % 64));
	case 2:
		return json_string(texts[canon_rnd() % (sizeof texts / sizeof *texts)]);
	case 3:
		return canon_rnd() & 1 ? json_true() : canon_rnd() & 1 ? json_false() : json_null();
	case 4:
		return json_real(random_real());
	case 5: {
		json_t *a = json_array();
		for (uint64_t i = canon_rnd() % 40; i > 0; i--)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		char key[32];
		for (uint64_t i = canon_rnd() % 12; i > 0; i--) {
			snprintf(key, sizeof key, "%s%llu", canon_rnd() & 1 ? "k" : "sha256_", (unsigned long long)(canon_rnd() % 50));
			json_object_set_new(o, key, random_value(depth + 1));
		}
		return o;
	}
	}
}

START_TEST(test_canonical_is_json_dumps)
{
	for (int n = 0; n < 2000; n++) {
		json_t *doc = json_object();
		json_object_set_new(doc, "sha256", json_string("left out at the top"));
		json_object_set_new(doc, "body", random_value(0));
		json_object_set_new(doc, "B", random_value(0));
		json_object_set_new(doc, "a", random_value(2));
		struct ml_buf got;
		ml_buf_init(&got, (size_t)1 << 30);
		ck_assert_int_eq(ml_artifact_canonical(doc, &got), 0);
		json_object_del(doc, "sha256");
		char *want = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
		ck_assert_uint_eq(got.len, strlen(want));
		ck_assert_msg(!memcmp(got.data, want, got.len), "document %d:\n%.*s\nwant\n%s", n, (int)got.len, got.data,
			      want);
		free(want);
		ml_buf_release(&got);
		json_decref(doc);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("artifact");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_sha256_known_vector);
	tcase_add_test(tc, test_format_parse);
	tcase_add_test(tc, test_save_load_round_trip);
	tcase_add_test(tc, test_reindented_file_still_verifies);
	tcase_add_test(tc, test_tampered_file_refused);
	tcase_add_test(tc, test_newer_and_wrong_format_refused);
	tcase_add_test(tc, test_malformed_json_has_position);
	tcase_add_test(tc, test_digest_required);
	tcase_add_test(tc, test_canonical_is_json_dumps);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
