/*
 * test_bookmark.c - incremental reading: new files read whole, appended
 * complete lines only, replaced and truncated files again from the start,
 * the bookmark round-trips through its file and refuses malformed ones, and
 * a tail of a file comes through the pipe with the header line first.
 */
#include <sys/stat.h>

#include "mlpipe/bookmark.h"
#include "mlpipe/uri.h"
#include "testutil.h"

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "ab");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_plan)
{
	char *dir = test_tmpdir();
	char bmpath[4200], data[4200], cmd[22000];
	snprintf(bmpath, sizeof bmpath, "%s/bm.json", dir);
	snprintf(data, sizeof data, "%s/d.csv", dir);
	struct ml_err err = ML_ERR_INIT;
	struct ml_bookmark *bm = ml_bookmark_load(bmpath, &err);
	ck_assert_ptr_nonnull(bm);
	struct ml_bookmark_span sp;

	append(data, "a,b\n1,2\n3,");	/* a half-written last line */
	ck_assert_int_eq(ml_bookmark_plan(bm, data, &sp, &err), 0);
	ck_assert_uint_eq(sp.from, 0);
	ck_assert_uint_eq(sp.to, 8);
	ck_assert_uint_eq(sp.size, 10);
	ck_assert_int_eq(ml_bookmark_done(bm, &sp, &err), 0);
	ck_assert_int_eq(ml_bookmark_save(bm, &err), 0);
	ml_bookmark_free(bm);

	bm = ml_bookmark_load(bmpath, &err);	/* round trip through the file */
	ck_assert_ptr_nonnull(bm);
	ck_assert_int_eq(ml_bookmark_plan(bm, data, &sp, &err), 0);
	ck_assert_uint_eq(sp.from, 8);
	ck_assert_uint_eq(sp.to, 8);		/* nothing new: the line is not finished */
	append(data, "4\n5,6\n");
	ck_assert_int_eq(ml_bookmark_plan(bm, data, &sp, &err), 0);
	ck_assert_uint_eq(sp.from, 8);
	ck_assert_uint_eq(sp.to, 16);
	ck_assert(!sp.restarted);

	/* The tail through a pipe, under the header line. */
	struct ml_tail *t = ml_tail_open(data, sp.from, sp.to, 1, &err);
	ck_assert_ptr_nonnull(t);
	size_t len;
	char *got = ml_read_all(ml_tail_uri(t), 1 << 20, &len, &err);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "a,b\n3,4\n5,6\n");
	free(got);
	ck_assert_int_eq(ml_tail_close(t, &err), 0);
	ck_assert_int_eq(ml_bookmark_done(bm, &sp, &err), 0);

	/* Truncated, then replaced by another file: read from the start. */
	ck_assert_int_eq(truncate(data, 4), 0);
	ck_assert_int_eq(ml_bookmark_plan(bm, data, &sp, &err), 0);
	ck_assert(sp.restarted);
	ck_assert_uint_eq(sp.from, 0);
	ck_assert_uint_eq(sp.to, 4);
	snprintf(cmd, sizeof cmd, "cp %s %s.new && printf '1,1\\n2,2\\n3,3\\n4,4\\n' >> %s.new && mv %s.new %s", data, data,
		 data, data, data);
	ck_assert_int_eq(ml_bookmark_done(bm, &sp, &err), 0);
	ck_assert_int_eq(system(cmd), 0);	/* longer, but another inode */
	ck_assert_int_eq(ml_bookmark_plan(bm, data, &sp, &err), 0);
	ck_assert(sp.restarted);
	ck_assert_uint_eq(sp.from, 0);
	ck_assert_uint_eq(sp.to, 20);
	ml_bookmark_free(bm);

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_tail_reader_stops_early)
{
	char *dir = test_tmpdir();
	char data[4200], cmd[4300];
	snprintf(data, sizeof data, "%s/big", dir);
	FILE *f = fopen(data, "wb");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200000; i++)
		fputs("0123456789\n", f);
	ck_assert_int_eq(fclose(f), 0);
	struct ml_err err = ML_ERR_INIT;
	struct ml_tail *t = ml_tail_open(data, 11, 2200000, 0, &err);
	ck_assert_ptr_nonnull(t);
	struct ml_istream *in = ml_open_read(ml_tail_uri(t), &err);
	ck_assert_ptr_nonnull(in);
	char buf[16];
	ck_assert_int_eq(ml_istream_read(in, buf, 11, &err), 11);
	ml_istream_close(in);
	ck_assert_int_eq(ml_tail_close(t, &err), 0);	/* the feeder sees EPIPE, no SIGPIPE */
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_load_refuses)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "{\"format\": \"mlpipe.model/1\", \"files\": {}}", "not a bookmark" },
		{ "{\"format\": \"mlpipe.bookmark/2\", \"files\": {}}", "newer mlpipe" },
		{ "{\"format\": \"mlpipe.bookmark/1\", \"files\": []}", "\"files\" is not an object" },
		{ "{\"format\": \"mlpipe.bookmark/1\", \"files\": {\"/x\": {\"size\": 1, \"mtime_ns\": 0, \"inode\": 1, "
		  "\"consumed\": 5}}}",
		  "entry of /x is malformed" },
		{ "{\"format\": \"mlpipe.bookmark/1\", \"files\": {\"/x\": {\"size\": 1}}}", "malformed" },
		{ "{\"format\": \"mlpipe.bookmark/1\", \"files\": {}, \"objects\": []}", "\"objects\" is not an object" },
		{ "{\"format\": \"mlpipe.bookmark/1\", \"files\": {}, \"objects\": {\"s3://b/k\": {\"size\": -1}}}",
		  "entry of s3://b/k is malformed" },
		{ "[1", "" },
	};
	char *dir = test_tmpdir();
	char cmd[4300];
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct ml_err err = ML_ERR_INIT;
		const char *p = test_write_file(dir, "bm", cases[i].text, strlen(cases[i].text));
		struct ml_bookmark *bm = ml_bookmark_load(p, &err);
		ck_assert_msg(!bm, "case %zu loaded", i);
		ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Store objects: read whole when new or replaced (length or ETag changed), else not again. */
START_TEST(test_objects)
{
	char *dir = test_tmpdir();
	char bmpath[4200], cmd[4300];
	snprintf(bmpath, sizeof bmpath, "%s/bm.json", dir);
	struct ml_err err = ML_ERR_INIT;
	struct ml_bookmark *bm = ml_bookmark_load(bmpath, &err);
	ck_assert_ptr_nonnull(bm);
	struct ml_bookmark_span sp;
	struct ml_store_object a = { sizeof a, "s3://b/cap/a.jsonl", 10, "\"e1\"" };
	struct ml_store_object u = { sizeof u, "s3://b/cap/u.jsonl", ML_OBJECT_BYTES_UNKNOWN, NULL };
	ck_assert_int_eq(ml_bookmark_plan_object(bm, &a, &sp, &err), 0);
	ck_assert(sp.object && !sp.restarted);
	ck_assert_uint_eq(sp.from, 0);
	ck_assert_uint_eq(sp.to, 10);
	ck_assert_int_eq(ml_bookmark_done(bm, &sp, &err), 0);
	ck_assert_int_eq(ml_bookmark_plan_object(bm, &u, &sp, &err), 0);
	ck_assert(sp.to != sp.from);
	ck_assert_int_eq(ml_bookmark_done(bm, &sp, &err), 0);
	ck_assert_int_eq(ml_bookmark_save(bm, &err), 0);
	ml_bookmark_free(bm);

	bm = ml_bookmark_load(bmpath, &err);	/* round trip */
	ck_assert_ptr_nonnull(bm);
	ck_assert_int_eq(ml_bookmark_plan_object(bm, &a, &sp, &err), 0);
	ck_assert_uint_eq(sp.to, sp.from);	/* read before */
	ck_assert_int_eq(ml_bookmark_plan_object(bm, &u, &sp, &err), 0);
	ck_assert_uint_eq(sp.to, sp.from);	/* the URI alone, when the store says no more */
	a.etag = "\"e2\"";			/* replaced with the same length */
	ck_assert_int_eq(ml_bookmark_plan_object(bm, &a, &sp, &err), 0);
	ck_assert(sp.restarted);
	ck_assert_uint_eq(sp.from, 0);
	a.etag = "\"e1\"";
	a.bytes = 11;
	ck_assert_int_eq(ml_bookmark_plan_object(bm, &a, &sp, &err), 0);
	ck_assert(sp.restarted);
	ck_assert_uint_eq(sp.to, 11);
	ml_bookmark_free(bm);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("bookmark");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_tail_reader_stops_early);
	tcase_add_test(tc, test_load_refuses);
	tcase_add_test(tc, test_objects);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
