/*
 * test_registry.c - the model registry's references and names, and the
 * checks on what it reads: a hand-made (or hostile) index.json or pointer
 * is refused with a data error naming what is wrong, a missing name,
 * version or pointer is "absent", and a model file whose bytes changed is
 * refused.  Registration itself is tested through ml-model in
 * tests/cli/test_registry.sh (it needs the algorithm plugins).
 */
#include <sys/stat.h>

#include "mlpipe/artifact.h"
#include "mlpipe/registry.h"
#include "testutil.h"

#define SHA_A "9e0e568ec2f94ee06afdb51e839fa33270cb5581a815f245989ee016d1b3919d"

START_TEST(test_parse_ref)
{
	static const struct {
		const char *text;
		const char *name;
		enum ml_registry_sel sel;
		long version;
	} ok[] = {
		{ "price", "price", ML_REGISTRY_LATEST, 0 },
		{ "price@latest", "price", ML_REGISTRY_LATEST, 0 },
		{ "price@best", "price", ML_REGISTRY_BEST, 0 },
		{ "price@3", "price", ML_REGISTRY_VERSION, 3 },
		{ "used-cars_v2.1@12", "used-cars_v2.1", ML_REGISTRY_VERSION, 12 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct ml_err err = ML_ERR_INIT;
		struct ml_registry_ref ref;
		ck_assert_msg(ml_registry_parse_ref(ok[i].text, &ref, &err) == 0, "%s: %s", ok[i].text, err.msg);
		ck_assert_str_eq(ref.name, ok[i].name);
		ck_assert_int_eq(ref.sel, ok[i].sel);
		if (ok[i].sel == ML_REGISTRY_VERSION)
			ck_assert_int_eq(ref.version, ok[i].version);
	}
	static const char *const bad[] = {
		"", "@best", "price@", "price@0", "price@-1", "price@3x", "price@worst", "price@1@2",
		"../price", "a/b", ".hidden", "-x", "price@99999999999999999999", "sp ace",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ml_err err = ML_ERR_INIT;
		struct ml_registry_ref ref;
		ck_assert_msg(ml_registry_parse_ref(bad[i], &ref, &err) < 0, "\"%s\" accepted", bad[i]);
		ck_assert_int_eq(err.class, ML_ERR_USAGE);
	}
	char longname[200];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	struct ml_registry_ref ref;
	ck_assert_int_lt(ml_registry_parse_ref(longname, &ref, NULL), 0);
}
END_TEST

/* dir/price/<file> as an artifact (valid digest), from JSON text. */
static void save(const char *file, const char *format, const char *json)
{
	char path[4096];
	json_error_t je;
	json_t *doc = json_loads(json, 0, &je);
	ck_assert_msg(doc != NULL, "%s: %s", file, je.text);
	snprintf(path, sizeof path, "%s/price", test_dir());
	mkdir(path, 0777);
	snprintf(path, sizeof path, "%s/price/%s", test_dir(), file);
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_artifact_save(doc, format, 1, path, &err) == 0, "%s", err.msg);
	json_decref(doc);
}

static void save_index(const char *versions)
{
	char json[4096];
	snprintf(json, sizeof json, "{\"name\": \"price\", \"versions\": %s}", versions);
	save("index.json", ML_REGISTRY_INDEX_FORMAT, json);
}

static void save_pointer(const char *which, long version, const char *sha)
{
	char json[512];
	snprintf(json, sizeof json, "{\"name\": \"price\", \"version\": %ld, \"model_sha256\": \"%s\"}", version, sha);
	save(which, ML_REGISTRY_POINTER_FORMAT, json);
}

#define ENTRY(v, sha, files) "{\"version\": " #v ", \"sha256\": \"" sha "\", \"files\": " files "}"

/* resolve price@best in the scratch registry: returns the result, err filled. */
static int resolve(const char *text, json_t **entry, struct ml_err *err)
{
	struct ml_registry_ref ref;
	ck_assert_int_eq(ml_registry_parse_ref(text, &ref, NULL), 0);
	*entry = NULL;
	return ml_registry_resolve(test_dir(), &ref, entry, err);
}

START_TEST(test_resolve)
{
	struct ml_err err = ML_ERR_INIT;
	json_t *e;
	save_index("[" ENTRY(1, SHA_A, "{\"model.json\": \"" SHA_A "\"}") ", " ENTRY(
		2, SHA_A, "{\"model.json\": \"" SHA_A "\"}") "]");
	save_pointer("latest", 2, SHA_A);
	save_pointer("best", 1, SHA_A);
	ck_assert_int_eq(resolve("price@best", &e, &err), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "version")), 1);
	ck_assert(json_is_true(json_object_get(e, "best")));
	ck_assert(json_is_false(json_object_get(e, "latest")));
	ck_assert_str_eq(json_string_value(json_object_get(e, "name")), "price");
	char uri[4200];
	snprintf(uri, sizeof uri, "%s/price/1/model.json", test_dir());
	ck_assert_str_eq(json_string_value(json_object_get(e, "uri")), uri);
	json_decref(e);
	ck_assert_int_eq(resolve("price", &e, &err), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "version")), 2);
	json_decref(e);

	ck_assert_int_eq(resolve("price@3", &e, &err), 0);
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "has no version 3"));
	ck_assert_ptr_null(e);
	ml_err_clear(&err);
	ck_assert_int_eq(resolve("other", &e, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "no model named \"other\""));

	/* The model file is missing: verified_uri fails, fetch too. */
	json_t *entry = NULL;
	ck_assert_int_eq(resolve("price@1", &entry, &err), 1);
	ml_err_clear(&err);
	ck_assert_ptr_null(ml_registry_verified_uri(entry, &err));
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	/* A file whose bytes differ from the recorded SHA-256. */
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/price/1", test_dir());
	mkdir(dir, 0777);
	test_write_file(dir, "model.json", "{}\n", 3);
	ml_err_clear(&err);
	ck_assert_ptr_null(ml_registry_verified_uri(entry, &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_ptr_nonnull(strstr(err.msg, "SHA-256 mismatch"));
	/* The right bytes. */
	char sha[ML_SHA256_HEX];
	ck_assert_int_eq(ml_sha256_hex("{}\n", 3, sha, NULL), 0);
	json_object_set_new(entry, "sha256", json_string(sha));
	char *ok = ml_registry_verified_uri(entry, &err);
	ck_assert_ptr_nonnull(ok);
	free(ok);
	json_decref(entry);
}
END_TEST

START_TEST(test_no_best_pointer)
{
	struct ml_err err = ML_ERR_INIT;
	json_t *e;
	save_index("[" ENTRY(1, SHA_A, "{\"model.json\": \"" SHA_A "\"}") "]");
	save_pointer("latest", 1, SHA_A);
	ck_assert_int_eq(resolve("price@best", &e, &err), 0);
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "has no best version"));
}
END_TEST

/* Each damaged registry is refused as bad data, with a message naming the problem. */
START_TEST(test_hostile)
{
	static const struct {
		const char *versions;
		long best;
		const char *best_sha;
		const char *want;
	} cases[] = {
		{ "[" ENTRY(2, SHA_A, "{}") ", " ENTRY(1, SHA_A, "{}") "]", 1, SHA_A, "must be a whole number above 2" },
		{ "[" ENTRY(1, SHA_A, "{}") ", " ENTRY(1, SHA_A, "{}") "]", 1, SHA_A, "above 1" },
		{ "[" ENTRY(0, SHA_A, "{}") "]", 1, SHA_A, "above 0" },
		{ "[" ENTRY(1, "abc", "{}") "]", 1, SHA_A, "not 64 hex digits" },
		{ "[" ENTRY(1, SHA_A, "[]") "]", 1, SHA_A, "\"files\" is not an object" },
		{ "[" ENTRY(1, SHA_A, "{\"../../etc/passwd\": \"" SHA_A "\"}") "]", 1, SHA_A, "bad file entry" },
		{ "[" ENTRY(1, SHA_A, "{\"/abs\": \"" SHA_A "\"}") "]", 1, SHA_A, "bad file entry" },
		{ "[" ENTRY(1, SHA_A, "{\"baseline//x\": \"" SHA_A "\"}") "]", 1, SHA_A, "bad file entry" },
		{ "[" ENTRY(1, SHA_A, "{\"model.json\": 1}") "]", 1, SHA_A, "bad file entry" },
		{ "{}", 1, SHA_A, "\"versions\" is not an array" },
		{ "[" ENTRY(1, SHA_A, "{}") "]", 7, SHA_A, "names version 7, which is not in" },
		{ "[" ENTRY(1, SHA_A, "{}") "]", 1, "0000000000000000000000000000000000000000000000000000000000000000",
		  "model_sha256 differs" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ml_err err = ML_ERR_INIT;
		json_t *e;
		save_index(cases[i].versions);
		save_pointer("latest", 1, SHA_A);
		save_pointer("best", cases[i].best, cases[i].best_sha);
		ck_assert_msg(resolve("price@1", &e, &err) < 0, "case %zu accepted", i);
		ck_assert_int_eq(err.class, ML_ERR_DATA);
		ck_assert_msg(strstr(err.msg, cases[i].want) != NULL, "case %zu: %s", i, err.msg);
	}
	/* An index whose name is another model's. */
	struct ml_err err = ML_ERR_INIT;
	json_t *e;
	save("index.json", ML_REGISTRY_INDEX_FORMAT, "{\"name\": \"other\", \"versions\": []}");
	ck_assert_int_lt(resolve("price", &e, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not \"price\""));
	/* An index edited by hand: its digest no longer matches. */
	char path[4200];
	snprintf(path, sizeof path, "%s/price", test_dir());
	static const char edited[] = "{\"format\": \"mlpipe.registry-index/1\", \"name\": \"price\", \"versions\": [], "
				     "\"sha256\": \"" SHA_A "\"}";
	test_write_file(path, "index.json", edited, strlen(edited));
	ml_err_clear(&err);
	ck_assert_int_lt(resolve("price", &e, &err), 0);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
}
END_TEST

START_TEST(test_names)
{
	struct ml_err err = ML_ERR_INIT;
	save_index("[" ENTRY(1, SHA_A, "{\"model.json\": \"" SHA_A "\"}") "]");
	save_pointer("latest", 1, SHA_A);
	save_pointer("best", 1, SHA_A);
	char path[4200];
	snprintf(path, sizeof path, "%s/not-a-model", test_dir());	/* no index.json: not a name */
	mkdir(path, 0777);
	json_t *names = ml_registry_names(test_dir(), &err);
	ck_assert_msg(names != NULL, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(names), 1);
	char *text = json_dumps(json_array_get(names, 0), JSON_COMPACT);
	ck_assert_str_eq(text, "{\"name\":\"price\",\"versions\":1,\"latest\":1,\"best\":1}");
	free(text);
	json_decref(names);
	snprintf(path, sizeof path, "%s/nowhere", test_dir());
	ck_assert_ptr_null(ml_registry_names(path, &err));
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	ck_assert_ptr_null(ml_registry_names("-", &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("refs");
	tcase_add_test(tc, test_parse_ref);
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_no_best_pointer);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
