/*
 * test_truth.c - ground truth joined to predictions: CSV, NDJSON and
 * SageMaker ground-truth records, keys without labels or predictions, and
 * the duplicate keys that are errors; capture records keyed by inferenceId,
 * else eventId.
 */
#include <math.h>

#include "mlpipe/capture_read.h"
#include "mlpipe/truth.h"
#include "testutil.h"

static struct ml_truth *load(const char *name, const char *text, struct ml_err *err)
{
	struct ml_reader_opts ro;
	ml_reader_opts_init(&ro);
	test_write_file(test_dir(), name, text, strlen(text));
	return ml_truth_load(name, "id", "y", &ro, err);
}

static struct ml_reader *open_text(const char *name, const char *text, struct ml_err *err)
{
	struct ml_reader_opts ro;
	ml_reader_opts_init(&ro);
	test_write_file(test_dir(), name, text, strlen(text));
	return ml_reader_open(&name, 1, &ro, err);
}

static const struct {
	const char *name, *truth;
	uint64_t labels, empty;
} formats[] = {
	{ "gt.csv", "id,y\na,1\nb,2\nc,\nd,4\n", 3, 1 },
	{ "gt.ndjson", "{\"y\":1,\"id\":\"a\"}\n{\"id\":\"b\",\"y\":2}\n{\"id\":\"c\",\"y\":null}\n{\"id\":\"d\",\"y\":4}\n", 3,
	  1 },
	{ "sm.jsonl",
	  "{\"groundTruthData\":{\"data\":\"1\",\"encoding\":\"CSV\"},\"eventMetadata\":{\"eventId\":\"a\"}}\n"
	  "{\"groundTruthData\":{\"data\":2,\"encoding\":\"JSON\"},\"eventMetadata\":{\"eventId\":\"x\",\"inferenceId\":\"b\"}}\n"
	  "{\"groundTruthData\":{\"data\":\"4\",\"encoding\":\"CSV\"},\"eventMetadata\":{\"eventId\":\"d\"}}\n",
	  3, 0 },
};

START_TEST(test_join)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_truth *t = load(formats[_i].name, formats[_i].truth, &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	/* a joins, b joins, c has no label, e has no truth, f has no prediction, the last has no key */
	struct ml_reader *r = open_text("p.csv", "id,p\na,1.5\nb,2\nc,3\ne,9\nf,\n,7\n", &err);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(ml_truth_join(t, r, "id", "p", &err), 0);
	ml_reader_close(r);
	struct ml_pairs p;
	ck_assert_int_eq(ml_truth_pairs(t, &p, &err), 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert(p.label[0] == 1 && p.pred[0] == 1.5 && p.label[1] == 2 && p.pred[1] == 2);
	struct ml_truth_stats st;
	ml_truth_stats(t, &st);
	ck_assert_uint_eq(st.truth, formats[_i].labels);
	ck_assert_uint_eq(st.truth_unlabelled, formats[_i].empty);
	ck_assert_uint_eq(st.predictions, 5);
	ck_assert_uint_eq(st.matched, 2);
	ck_assert_uint_eq(st.no_truth, 3);
	ck_assert_uint_eq(st.no_prediction, 1);
	ml_pairs_release(&p);
	ml_truth_free(t);
}
END_TEST

START_TEST(test_duplicates)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_ptr_null(load("dup.csv", "id,y\na,1\nb,2\na,3\n", &err));
	ck_assert_str_eq(err.msg, "dup.csv:4:1: key \"a\" is in the ground truth twice (first on line 2)");
	ml_err_clear(&err);
	ck_assert_ptr_null(load("bad.csv", "id,y\na,x1\n", &err));
	ck_assert_str_eq(err.msg, "bad.csv:2:3: expected a number as the label, got \"x1\"");
	ml_err_clear(&err);
	ck_assert_ptr_null(load("nokey.csv", "id,y\n,1\n", &err));
	ck_assert_str_eq(err.msg, "nokey.csv:2:1: ground truth without a key");
	ml_err_clear(&err);

	struct ml_truth *t = load("gt.csv", "id,y\na,1\n", &err);
	ck_assert_ptr_nonnull(t);
	struct ml_reader *r = open_text("p.csv", "id,p\na,1\nb,2\na,3\n", &err);
	ck_assert_int_eq(ml_truth_join(t, r, "id", "p", &err), -1);
	ck_assert_str_eq(err.msg, "p.csv:4:1: key \"a\" has a prediction already");
	ml_reader_close(r);
	ml_err_clear(&err);
	r = open_text("q.csv", "id,q\na,1\n", &err);
	ck_assert_int_eq(ml_truth_join(t, r, "id", "p", &err), -1);
	ck_assert_str_eq(err.msg, "the predictions have no column \"p\"");
	ml_reader_close(r);
	ml_truth_free(t);
}
END_TEST

/* The capture key: inferenceId, else eventId. */
static int note_key(void *arg, const struct ml_field *f, struct ml_err *err)
{
	void **a = arg;
	size_t len;
	const char *key = ml_capture_event_id(a[0], &len);
	(void)f;
	(void)err;
	strncat(a[1], key ? key : "-", key ? len : 1);
	strcat(a[1], ";");
	return 0;
}

START_TEST(test_capture_key)
{
	struct ml_err err = ML_ERR_INIT;
	const char *names[] = { "p" };
	struct ml_capture_read_opts o = { names, 1, NULL, 0, 0, 1, 1 };
	struct ml_capture_dec *dec = ml_capture_dec_new(&o, &err);
	char keys[256] = "";
	void *arg[2] = { dec, keys };
	static const char *const recs[] = {
		"{\"captureData\":{\"endpointInput\":{\"observedContentType\":\"text/csv\",\"data\":\"1,2,3\\n\","
		"\"encoding\":\"CSV\"}},\"eventMetadata\":{\"eventId\":\"e1\",\"inferenceId\":\"i1\"}}",
		"{\"captureData\":{\"endpointInput\":{\"observedContentType\":\"text/csv\",\"data\":\"1\\n\","
		"\"encoding\":\"CSV\"}},\"eventMetadata\":{\"eventId\":\"e2\"}}",
		"{\"captureData\":{\"endpointInput\":{\"observedContentType\":\"application/json\",\"data\":\"[1,2]\","
		"\"encoding\":\"JSON\"}}}",
	};
	for (size_t i = 0; i < sizeof recs / sizeof *recs; i++)
		ck_assert_msg(ml_capture_decode(dec, recs[i], strlen(recs[i]), note_key, arg, &err) == 0, "%s",
			      err.msg);
	ck_assert_str_eq(keys, "i1;e2;-;");
	ml_capture_dec_free(dec);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("truth");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_add_loop_test(tc, test_join, 0, sizeof formats / sizeof *formats);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_capture_key);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
