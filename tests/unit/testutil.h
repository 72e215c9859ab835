/*
 * testutil.h - shared scaffolding for the Check unit tests.
 *
 * Each tests/unit/test_<module>.c builds one Suite and ends with
 * ML_TEST_MAIN(make_suite).  tests/run.sh reads Check's summary line
 * ("100%: Checks: N, Failures: F, Errors: E") from every binary.
 */
#ifndef MLPIPE_TESTUTIL_H
#define MLPIPE_TESTUTIL_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR for one test; removed by the caller's rm -rf. */
static inline char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	static char path[4096];
	snprintf(path, sizeof path, "%s/mlpipe-test-XXXXXX", base);
	if (!mkdtemp(path))
		ck_abort_msg("mkdtemp failed");
	return path;
}

/* Write text to dir/name and return the full path (static buffer). */
static inline const char *test_write_file(const char *dir, const char *name, const char *data,
					  size_t len)
{
	static char path[4096];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert(n > 0 && (size_t)n < sizeof path);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/*
 * A checked fixture: each test runs in a fresh scratch directory (so
 * messages name plain "in.csv"), removed afterwards.  test_dir() is it.
 */
static inline char **test_dir_slot(void)
{
	static char *dir;
	return &dir;
}

static inline const char *test_dir(void)
{
	return *test_dir_slot();
}

static inline void test_scratch_setup(void)
{
	*test_dir_slot() = test_tmpdir();
	ck_assert_int_eq(chdir(test_dir()), 0);
}

static inline void test_scratch_teardown(void)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir());
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * Capturing stderr: fd 2 points at a file in the scratch directory between
 * test_capture_stderr() and test_captured_stderr(), which restores it and
 * returns what was written (static buffer).  test_restore_stderr() in a
 * teardown puts the real stderr back if a test failed in between.
 */
static inline int *test_stderr_fds(void)
{
	static int fds[2] = { -1, -1 };	/* the real stderr, the capture file */
	return fds;
}

static inline void test_restore_stderr(void)
{
	int *fds = test_stderr_fds();
	fflush(stderr);
	if (fds[0] >= 0) {
		dup2(fds[0], 2);
		close(fds[0]);
	}
	if (fds[1] >= 0)
		close(fds[1]);
	fds[0] = fds[1] = -1;
}

static inline void test_capture_stderr(void)
{
	int *fds = test_stderr_fds();
	char path[4200];
	snprintf(path, sizeof path, "%s/stderr.txt", test_dir());
	fflush(stderr);
	fds[1] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fds[1], 0);
	fds[0] = dup(2);
	ck_assert_int_ge(fds[0], 0);
	ck_assert_int_eq(dup2(fds[1], 2), 2);
}

static inline const char *test_captured_stderr(void)
{
	static char text[8192];
	int capture = dup(test_stderr_fds()[1]);
	test_restore_stderr();
	ck_assert_int_ge(capture, 0);
	ck_assert_int_eq(lseek(capture, 0, SEEK_SET), 0);
	ssize_t n = read(capture, text, sizeof text - 1);
	close(capture);
	ck_assert_int_ge(n, 0);
	text[n] = '\0';
	return text;
}

#define ML_TEST_MAIN(make_suite)                                                      \
	int main(void)                                                                \
	{                                                                             \
		SRunner *sr = srunner_create(make_suite());                           \
		srunner_run_all(sr, CK_NORMAL);                                       \
		int failed = srunner_ntests_failed(sr);                               \
		srunner_free(sr);                                                     \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                          \
	}

#endif
