/* test_uri.c - URI parsing, local streams, atomic writes, store dispatch. */
#include <dirent.h>
#include <sys/stat.h>

#include "mlpipe/uri.h"
#include "testutil.h"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

START_TEST(test_scheme)
{
	char s[32];
	ck_assert_int_eq(ml_uri_scheme("s3://bucket/key", s, sizeof s), 1);
	ck_assert_str_eq(s, "s3");
	ck_assert_int_eq(ml_uri_scheme("FILE:///tmp/x", s, sizeof s), 1);
	ck_assert_str_eq(s, "file");
	ck_assert_int_eq(ml_uri_scheme("-", s, sizeof s), 0);
	ck_assert_int_eq(ml_uri_scheme("cars.csv", s, sizeof s), 0);
	ck_assert_int_eq(ml_uri_scheme("C:\\data.csv", s, sizeof s), 0);
	ck_assert_int_eq(ml_uri_scheme("dir/a:b.csv", s, sizeof s), 0);
	ck_assert_int_eq(ml_uri_scheme("./s3:x", s, sizeof s), 0);
}
END_TEST

START_TEST(test_local_path)
{
	ck_assert_str_eq(ml_uri_local_path("-"), "-");
	ck_assert_str_eq(ml_uri_local_path("a/b.csv"), "a/b.csv");
	ck_assert_str_eq(ml_uri_local_path("file:///tmp/x.csv"), "/tmp/x.csv");
	ck_assert_str_eq(ml_uri_local_path("file://localhost/tmp/x.csv"), "/tmp/x.csv");
	ck_assert_str_eq(ml_uri_local_path("file:rel/x.csv"), "rel/x.csv");
	ck_assert_ptr_null(ml_uri_local_path("file://otherhost/x"));
	ck_assert_ptr_null(ml_uri_local_path("s3://b/k"));
}
END_TEST

START_TEST(test_atomic_commit_and_abort)
{
	struct ml_err err = ML_ERR_INIT;
	char *dir = test_tmpdir();
	char path[4200];
	snprintf(path, sizeof path, "%s/model.json", dir);

	struct ml_ostream *out = ml_open_write(path, ML_WRITE_ATOMIC, &err);
	ck_assert_msg(out != NULL, "%s", err.msg);
	ck_assert_int_eq(ml_ostream_write(out, "hello", 5, &err), 0);
	ck_assert_int_eq(access(path, F_OK), -1);	/* invisible until commit */
	ck_assert_int_eq(ml_ostream_close(out, 1, &err), 0);
	size_t len;
	char *text = ml_read_all(path, 100, &len, &err);
	ck_assert_str_eq(text, "hello");
	free(text);

	out = ml_open_write(path, ML_WRITE_ATOMIC, &err);
	ml_ostream_write(out, "half", 4, &err);
	ck_assert_int_eq(ml_ostream_close(out, 0, &err), 0);
	text = ml_read_all(path, 100, &len, &err);
	ck_assert_str_eq(text, "hello");	/* abort kept the old content */
	free(text);
	ck_assert_int_eq(count_entries(dir), 1);	/* and no temp file is left */

	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_ne(st.st_mode & 0444, 0);		/* readable, not mkstemp's 0600 */
	ck_assert_int_ne(st.st_mode & 0044, 0);
}
END_TEST

START_TEST(test_append_and_truncate)
{
	struct ml_err err = ML_ERR_INIT;
	char *dir = test_tmpdir();
	char path[4200];
	snprintf(path, sizeof path, "file://%s/log.jsonl", dir);
	for (int i = 0; i < 2; i++) {
		struct ml_ostream *out = ml_open_write(path, ML_WRITE_APPEND, &err);
		ck_assert_msg(out != NULL, "%s", err.msg);
		ml_ostream_write(out, "x\n", 2, &err);
		ck_assert_int_eq(ml_ostream_close(out, 1, &err), 0);
	}
	char *text = ml_read_all(path, 100, NULL, &err);
	ck_assert_str_eq(text, "x\nx\n");
	free(text);
	ck_assert_int_eq(ml_write_all_atomic(path, "y", 1, &err), 0);
	struct ml_ostream *out = ml_open_write(path, ML_WRITE_TRUNCATE, &err);
	ml_ostream_write(out, "z", 1, &err);
	ml_ostream_close(out, 1, &err);
	text = ml_read_all(path, 100, NULL, &err);
	ck_assert_str_eq(text, "z");
	free(text);
}
END_TEST

START_TEST(test_read_errors)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_ptr_null(ml_open_read("/nonexistent/cars.csv", &err));
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/cars.csv: cannot open"));
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));

	char *dir = test_tmpdir();
	ck_assert_ptr_null(ml_open_read(dir, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "is a directory"));

	ck_assert_ptr_null(ml_open_write("/nonexistent/dir/out.csv", ML_WRITE_ATOMIC, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/dir/out.csv"));
}
END_TEST

START_TEST(test_slurp_cap)
{
	struct ml_err err = ML_ERR_INIT;
	char *dir = test_tmpdir();
	const char *path = test_write_file(dir, "ten", "0123456789", 10);
	size_t len = 0;
	char *text = ml_read_all(path, 10, &len, &err);
	ck_assert_msg(text != NULL, "%s", err.msg);	/* exactly the cap fits */
	ck_assert_uint_eq(len, 10);
	free(text);
	ck_assert_ptr_null(ml_read_all(path, 9, &len, &err));
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than the limit of 9 bytes"));
	path = test_write_file(dir, "empty", "", 0);
	text = ml_read_all(path, 10, &len, &err);
	ck_assert_str_eq(text, "");
	ck_assert_uint_eq(len, 0);
	free(text);
}
END_TEST

START_TEST(test_unknown_scheme)
{
	struct ml_err err = ML_ERR_INIT;
	setenv("MLPIPE_PLUGIN_PATH", "/nonexistent", 1);
	ck_assert_ptr_null(ml_open_read("gopher://host/x", &err));
	ck_assert_int_eq(err.class, ML_ERR_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(err.msg, "gopher://"));
}
END_TEST

START_TEST(test_join)
{
	static const struct {
		const char *dir, *name, *want;
	} cases[] = {
		{ "s3://b/baseline/", "statistics.json", "s3://b/baseline/statistics.json" },
		{ "s3://b/baseline", "statistics.json", "s3://b/baseline/statistics.json" },
		{ "s3://b/baseline//", "x.json", "s3://b/baseline/x.json" },
		{ "out", "constraint_violations.json", "out/constraint_violations.json" },
		{ "/", "x", "/x" },
		{ ".", "x", "./x" },
	};
	char buf[64];
	struct ml_err err = ML_ERR_INIT;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_int_eq(ml_uri_join(buf, sizeof buf, cases[i].dir, cases[i].name, &err), 0);
		ck_assert_str_eq(buf, cases[i].want);
	}
	ck_assert_int_eq(ml_uri_join(buf, 8, "s3://b/long", "name", &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_int_eq(ml_uri_is_remote("s3://b/k"), 1);
	ck_assert_int_eq(ml_uri_is_remote("file:///tmp/x"), 0);
	ck_assert_int_eq(ml_uri_is_remote("dir/x:y"), 0);
	ck_assert_int_eq(ml_uri_is_remote("-"), 0);
}
END_TEST

START_TEST(test_ensure_dir_unknown_store)
{
	struct ml_err err = ML_ERR_INIT;
	/* A prefix needs no folder, but its store must exist: nothing is made locally. */
	ck_assert_int_eq(ml_ensure_dir("nosuchscheme://b/p/", &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_UNAVAILABLE);
	ck_assert_int_eq(access("nosuchscheme:", F_OK), -1);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("uri");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_scheme);
	tcase_add_test(tc, test_local_path);
	tcase_add_test(tc, test_atomic_commit_and_abort);
	tcase_add_test(tc, test_append_and_truncate);
	tcase_add_test(tc, test_read_errors);
	tcase_add_test(tc, test_slurp_cap);
	tcase_add_test(tc, test_unknown_scheme);
	tcase_add_test(tc, test_join);
	tcase_add_test(tc, test_ensure_dir_unknown_store);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
