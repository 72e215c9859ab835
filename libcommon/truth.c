/* truth.c - ground truth joined to predictions on a key (see truth.h). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mlpipe/buf.h"
#include "mlpipe/capture_read.h"
#include "mlpipe/dict.h"
#include "mlpipe/log.h"
#include "mlpipe/num.h"
#include "mlpipe/truth.h"

/* Keys held at most: a hash table of a quarter-billion labels is already ~10 GB. */
#define MAX_KEYS ((size_t)1 << 28)
/* Characters of a key quoted in a message. */
#define KEY_SHOWN 80

struct entry {
	double label;
	double pred;		/* NaN until a prediction joins */
	uint64_t line;		/* where the ground truth was, for duplicate messages */
};

struct ml_truth {
	struct ml_dict *keys;	/* key -> index into e */
	struct entry *e;
	size_t alloc;
	struct ml_truth_stats st;
};

/* One ground-truth record's key and label, however the file spells them. */
struct truth_rec {
	const char *key, *label;
	size_t key_len, label_len;
	long key_col, label_col;	/* for messages */
	double label_num;		/* a JSON number label (label NULL) */
	int has_num;
};

void ml_truth_free(struct ml_truth *t)
{
	if (!t)
		return;
	ml_dict_free(t->keys);
	free(t->e);
	free(t);
}

static int reject(struct ml_reader *r, const struct ml_record *rec, long col, struct ml_err *err, const char *fmt,
		  ...) __attribute__((format(printf, 5, 6)));
static int reject(struct ml_reader *r, const struct ml_record *rec, long col, struct ml_err *err, const char *fmt,
		  ...)
{
	struct ml_err why = ML_ERR_INIT;
	va_list ap;
	va_start(ap, fmt);
	ml_err_setv(&why, ML_ERR_DATA, fmt, ap);
	va_end(ap);
	return ml_reader_reject(r, rec, col, &why, err);
}

static int store(struct ml_truth *t, const char *key, size_t len, double label, uint64_t line, struct ml_err *err)
{
	int32_t id = ml_dict_intern(t->keys, key, len, err);
	if (id < 0)
		return ml_err_prefix(err, "ground truth");
	if ((size_t)id >= t->alloc) {
		size_t n = t->alloc ? t->alloc * 2 : 1024;
		struct entry *e = ml_realloc_array(t->e, n, sizeof *e, err);
		if (!e)
			return -1;
		t->e = e;
		t->alloc = n;
	}
	t->e[id] = (struct entry){ label, NAN, line };
	t->st.truth++;
	return 0;
}

static int add_truth(struct ml_truth *t, struct ml_reader *r, const struct ml_record *rec, const struct truth_rec *tr,
		     struct ml_err *err)
{
	double label = tr->label_num;
	if (!tr->key || !tr->key_len)
		return reject(r, rec, tr->key_col, err, "ground truth without a key");
	if (!tr->has_num) {
		enum ml_num_status s = tr->label ? ml_parse_double(tr->label, tr->label_len, &label) : ML_NUM_MISSING;
		if (s == ML_NUM_MISSING) {
			t->st.truth_unlabelled++;
			return 0;
		}
		if (s != ML_NUM_OK)
			return reject(r, rec, tr->label_col, err, "expected a number as the label, got \"%.*s\"",
				      (int)(tr->label_len < KEY_SHOWN ? tr->label_len : KEY_SHOWN), tr->label);
	}
	int32_t id = ml_dict_find(t->keys, tr->key, tr->key_len);
	if (id >= 0)
		return reject(r, rec, tr->key_col, err, "key \"%.*s\" is in the ground truth twice (first on line %llu)",
			      (int)(tr->key_len < KEY_SHOWN ? tr->key_len : KEY_SHOWN), tr->key,
			      (unsigned long long)t->e[id].line);
	return store(t, tr->key, tr->key_len, label, rec->line, err);
}

/* SageMaker's record: key from eventMetadata, label from groundTruthData.data. */
static int sagemaker_truth(struct ml_truth *t, struct ml_reader *r, const struct ml_record *rec, long data_col,
			   long meta_col, struct ml_err *err)
{
	const struct ml_field *fd = (size_t)data_col < rec->nfields ? &rec->fields[data_col] : NULL;
	const struct ml_field *fm = meta_col >= 0 && (size_t)meta_col < rec->nfields ? &rec->fields[meta_col] : NULL;
	json_t *gt = fd && (fd->flags & ML_FIELD_JSON_NESTED) ? json_loadb(fd->ptr, fd->len, 0, NULL) : NULL;
	json_t *meta = fm && (fm->flags & ML_FIELD_JSON_NESTED) ? json_loadb(fm->ptr, fm->len, 0, NULL) : NULL;
	const json_t *id = json_object_get(meta, "inferenceId"), *data = json_object_get(gt, "data");
	if (!json_is_string(id) || !json_string_length(id))
		id = json_object_get(meta, "eventId");
	struct truth_rec tr = { .key = json_string_value(id), .key_len = json_string_length(id),
				.key_col = meta_col >= 0 ? meta_col : data_col, .label_col = data_col };
	int rc;
	if (!json_is_object(gt)) {
		rc = reject(r, rec, data_col, err, "\"groundTruthData\" is not an object");
	} else {
		if (json_is_number(data)) {
			tr.label_num = json_number_value(data);
			tr.has_num = 1;
		} else if (json_is_string(data)) {	/* CSV: the first field */
			tr.label = json_string_value(data);
			tr.label_len = strcspn(tr.label, ",\r\n");
		}
		rc = add_truth(t, r, rec, &tr, err);
	}
	json_decref(gt);
	json_decref(meta);
	return rc;
}

static int read_truth(struct ml_truth *t, struct ml_reader *r, const char *uri, const char *key, const char *label,
		      struct ml_err *err)
{
	long kcol = ml_reader_find_column(r, key), lcol = ml_reader_find_column(r, label);
	long data_col = kcol < 0 ? ml_reader_find_column(r, "groundTruthData") : -1;
	long meta_col = ml_reader_find_column(r, "eventMetadata");
	if (data_col < 0 && (kcol < 0 || lcol < 0))
		return ml_err_set(err, ML_ERR_DATA, "%s: no column \"%s\" in the ground truth", uri, kcol < 0 ? key : label);
	struct ml_record rec;
	int rc;
	while ((rc = ml_reader_next(r, &rec, err)) > 0) {
		if (data_col >= 0) {
			if (sagemaker_truth(t, r, &rec, data_col, meta_col, err) < 0)
				return -1;
			continue;
		}
		const struct ml_field *k = (size_t)kcol < rec.nfields ? &rec.fields[kcol] : NULL;
		const struct ml_field *l = (size_t)lcol < rec.nfields ? &rec.fields[lcol] : NULL;
		struct truth_rec tr = { .key_col = kcol, .label_col = lcol };
		if (k && !(k->flags & ML_FIELD_ABSENT)) {
			tr.key = k->ptr;
			tr.key_len = k->len;
		}
		if (l && !(l->flags & ML_FIELD_ABSENT)) {
			tr.label = l->ptr;
			tr.label_len = l->len;
		}
		if (add_truth(t, r, &rec, &tr, err) < 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

struct ml_truth *ml_truth_load(const char *uri, const char *key, const char *label, const struct ml_reader_opts *ro,
			       struct ml_err *err)
{
	struct ml_truth *t = ml_calloc(1, sizeof *t, err);
	struct ml_reader *r = NULL;
	struct ml_reader_opts o = *ro;	/* its own format, a header naming its columns, rejects not kept */
	o.format = ML_FMT_AUTO;
	o.header = 1;
	o.rejects = NULL;
	if (!t || !(t->keys = ml_dict_new(MAX_KEYS, err)) || !(r = ml_reader_open(&uri, 1, &o, err)) ||
	    read_truth(t, r, uri, key, label, err) < 0) {
		ml_reader_close(r);
		ml_truth_free(t);
		return NULL;
	}
	ml_reader_close(r);
	return t;
}

int ml_truth_add(struct ml_truth *t, const char *key, size_t len, double prediction, struct ml_err *err)
{
	int32_t id = key && len ? ml_dict_find(t->keys, key, len) : -1;
	if (id >= 0 && !isnan(t->e[id].pred))
		return ml_err_set(err, ML_ERR_DATA, "key \"%.*s\" has a prediction already",
				  (int)(len < KEY_SHOWN ? len : KEY_SHOWN), key);
	if (isnan(prediction)) {
		t->st.no_prediction++;
		return 0;
	}
	t->st.predictions++;
	if (id < 0) {
		t->st.no_truth++;
		return 0;
	}
	t->e[id].pred = prediction;
	t->st.matched++;
	return 1;
}

int ml_truth_join(struct ml_truth *t, struct ml_reader *r, const char *key, const char *prediction,
		  struct ml_err *err)
{
	long kcol = ml_reader_find_column(r, key), pcol = ml_reader_find_column(r, prediction);
	if (kcol < 0 || pcol < 0)
		return ml_err_set(err, ML_ERR_DATA, "the predictions have no column \"%s\"", kcol < 0 ? key : prediction);
	struct ml_record rec;
	int rc;
	while ((rc = ml_reader_next(r, &rec, err)) > 0) {
		const struct ml_field *k = (size_t)kcol < rec.nfields ? &rec.fields[kcol] : NULL;
		const struct ml_field *p = (size_t)pcol < rec.nfields ? &rec.fields[pcol] : NULL;
		double pred = NAN;
		enum ml_num_status s = p && !(p->flags & ML_FIELD_ABSENT) ? ml_parse_double(p->ptr, p->len, &pred)
									    : ML_NUM_MISSING;
		struct ml_err why = ML_ERR_INIT;
		if (s != ML_NUM_OK && s != ML_NUM_MISSING)
			ml_err_set(&why, ML_ERR_DATA, "expected a number in column \"%s\", got \"%.*s\"", prediction,
				   (int)(p->len < KEY_SHOWN ? p->len : KEY_SHOWN), p->ptr);
		else if (k && !(k->flags & ML_FIELD_ABSENT))
			ml_truth_add(t, k->ptr, k->len, pred, &why);
		else
			ml_truth_add(t, NULL, 0, pred, &why);
		long bad = s == ML_NUM_OK ? kcol : pcol;
		if (why.class != ML_ERR_NONE && ml_reader_reject(r, &rec, bad, &why, err) < 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

struct capture_join {
	struct ml_truth *t;
	struct ml_capture_dec *dec;
};

/* A capture row: its prediction (endpointOutput) under its record's inferenceId or eventId. */
static int capture_prediction(void *arg, const struct ml_field *f, struct ml_err *err)
{
	struct capture_join *j = arg;
	size_t len;
	const char *key = ml_capture_event_id(j->dec, &len);
	double pred = NAN;
	enum ml_num_status s = f->flags & ML_FIELD_ABSENT ? ML_NUM_MISSING : ml_parse_double(f->ptr, f->len, &pred);
	if (s != ML_NUM_OK && s != ML_NUM_MISSING)
		return ml_err_set(err, ML_ERR_DATA, "endpointOutput: expected a number, got \"%.*s\"",
				  (int)(f->len < KEY_SHOWN ? f->len : KEY_SHOWN), f->ptr);
	return ml_truth_add(j->t, key, len, pred, err) < 0 ? -1 : 0;
}

int ml_truth_join_any(struct ml_truth *t, struct ml_reader *r, const char *key, const char *prediction,
		      struct ml_err *err)
{
	if (!ml_capture_detect(r))
		return ml_truth_join(t, r, key, prediction, err);
	const char *names[] = { prediction };
	struct ml_capture_read_opts co = { .names = names, .ncols = 1, .output_col = 0, .event_id = 1,
					   .ignore_extra = 1 };
	struct capture_join j = { t, ml_capture_dec_new(&co, err) };
	int rc = j.dec ? ml_capture_read(j.dec, r, capture_prediction, &j, err) : -1;
	ml_capture_dec_free(j.dec);
	return rc;
}

int ml_truth_join_file(const struct ml_truth_join_opts *o, struct ml_reader *r, const struct ml_reader_opts *ro,
		       struct ml_pairs *p, struct ml_truth_stats *st, struct ml_err *err)
{
	struct ml_truth *t = ml_truth_load(o->truth, o->key, o->label, ro, err);
	int rc = -1;
	memset(p, 0, sizeof *p);
	if (!t || ml_truth_join_any(t, r, o->key, o->prediction, err) < 0 || ml_truth_pairs(t, p, err) < 0)
		goto out;
	ml_truth_stats(t, st);
	if (st->no_truth)	/* never dropped silently */
		ml_warn("%llu of %llu predictions have no ground truth in %s (joined on %s): left out of the metrics",
			(unsigned long long)st->no_truth, (unsigned long long)st->predictions, o->truth, o->key);
	ml_info("%llu predictions joined with %llu ground-truth labels; %llu rows without a prediction",
		(unsigned long long)st->matched, (unsigned long long)st->truth, (unsigned long long)st->no_prediction);
	if (p->n == 0)
		ml_err_set(err, ML_ERR_DATA, "no prediction has ground truth in %s (joined on %s)", o->truth, o->key);
	else
		rc = 0;
out:
	if (rc < 0)
		ml_pairs_release(p);
	ml_truth_free(t);
	return rc;
}

int ml_truth_pairs(const struct ml_truth *t, struct ml_pairs *p, struct ml_err *err)
{
	memset(p, 0, sizeof *p);
	size_t n = ml_dict_size(t->keys);
	for (size_t i = 0; i < n; i++)
		if (!isnan(t->e[i].pred) && ml_pairs_add(p, t->e[i].label, t->e[i].pred, err) < 0) {
			ml_pairs_release(p);
			return -1;
		}
	return 0;
}

void ml_truth_stats(const struct ml_truth *t, struct ml_truth_stats *st)
{
	*st = t->st;
}
