/*
 * truth.h - ground truth arriving separately from the predictions, joined
 * to them on a key (ml-drift --ground-truth FILE --join-on COL), the way
 * SageMaker Model Monitor's model-quality job merges its ground-truth
 * records with captured predictions on inferenceId (else eventId).
 *
 * The ground truth is read whole into a hash table key -> label, so memory
 * grows with the ground truth, never with the predictions streamed past
 * it: each key keeps its label and at most one prediction.
 *
 *     struct ml_truth *t = ml_truth_load(uri, "id", "price", &ro, &err);
 *     ml_truth_join(t, predictions_reader, "id", "prediction", &err);
 *     ml_truth_pairs(t, &pairs, &err);        // quality.h metrics
 *     ml_truth_stats(t, &st);                 // how many had no ground truth
 *     ml_truth_free(t);
 *
 * The ground truth is CSV or NDJSON with the key and label columns, or
 * SageMaker's ground-truth records (NDJSON without the key column):
 *
 *     {"groundTruthData": {"data": "1.5", "encoding": "CSV"},
 *      "eventMetadata": {"eventId": "aaaa-bbbb"}, "eventVersion": "0"}
 *
 * whose key is eventMetadata.inferenceId, else eventId, and whose label is
 * groundTruthData.data (CSV text or a JSON number).
 *
 * Keys are compared as text: "17" in CSV and 17 in NDJSON match; 17.0
 * does not match 17.  Bad ground truth goes through ml_reader_reject()
 * (file:line:column; skipped under --on-error skip): an empty key, a label
 * that is not a number, a key given twice.  A record with an empty label is
 * not ground truth yet: counted, left out.
 */
#ifndef MLPIPE_TRUTH_H
#define MLPIPE_TRUTH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "quality.h"
#include "stream.h"

struct ml_truth;

/*
 * Read the ground truth at uri (key and label: its column names).  Of ro,
 * on_error, the delimiter and the limits apply; the format is detected, a
 * CSV has a header, and rejected records are not kept (only reported).
 */
struct ml_truth *ml_truth_load(const char *uri, const char *key, const char *label,
			       const struct ml_reader_opts *ro, struct ml_err *err);
void ml_truth_free(struct ml_truth *t);

/*
 * One prediction for key[0..len) (key NULL or empty: a row without a key;
 * prediction NaN: a row without a prediction, counted and left out):
 * returns 1 when it found its ground truth, 0 when there is none, -1 with
 * err (ML_ERR_DATA) when the key already has a prediction.
 */
int ml_truth_add(struct ml_truth *t, const char *key, size_t len, double prediction, struct ml_err *err);

/*
 * Every record of r (CSV or NDJSON): its key and prediction columns (a
 * column r lacks is an error).  A record without a prediction (empty,
 * null) is counted and skipped; one that is not a number, or predicts a
 * key twice, is handed to ml_reader_reject().
 */
int ml_truth_join(struct ml_truth *t, struct ml_reader *r, const char *key, const char *prediction,
		  struct ml_err *err);

/*
 * The same over CSV, NDJSON or data-capture records (capture_read.h): a
 * capture record's prediction is its endpointOutput and its key is its
 * eventMetadata.inferenceId, else eventId, whatever key says.
 */
int ml_truth_join_any(struct ml_truth *t, struct ml_reader *r, const char *key, const char *prediction,
		      struct ml_err *err);

/* The joined (label, prediction) pairs, in the ground truth's order; p is reset first. */
int ml_truth_pairs(const struct ml_truth *t, struct ml_pairs *p, struct ml_err *err);

struct ml_truth_stats {
	uint64_t truth;			/* ground-truth keys with a label */
	uint64_t truth_unlabelled;	/* ground-truth records with an empty label, left out */
	uint64_t predictions;		/* prediction rows with a prediction */
	uint64_t matched;		/* of them, joined with their ground truth */
	uint64_t no_truth;		/* of them, whose key has no ground truth (or is empty) */
	uint64_t no_prediction;		/* rows whose prediction is empty: skipped */
};
void ml_truth_stats(const struct ml_truth *t, struct ml_truth_stats *st);

/*
 * All of it for a filter: load o->truth, join r's predictions, the pairs in
 * *p and the counts in *st.  Predictions without ground truth are a warning
 * with their count; none joined at all is an error (no metrics to judge).
 */
struct ml_truth_join_opts {
	const char *truth;	/* the ground truth's URI */
	const char *key;	/* its key column, and the predictions' */
	const char *label;	/* its label column */
	const char *prediction;	/* the predictions' column */
};
int ml_truth_join_file(const struct ml_truth_join_opts *o, struct ml_reader *r, const struct ml_reader_opts *ro,
		       struct ml_pairs *p, struct ml_truth_stats *st, struct ml_err *err);

#endif
