/*
 * capture.h - data capture in SageMaker's JSON Lines format.
 *
 * Every captured inference is one line:
 *
 *     {"captureData":{
 *        "endpointInput": {"observedContentType":"text/csv","mode":"INPUT",
 *                          "data":"20105,Buick,sedan,6,4,1,0,0","encoding":"CSV"},
 *        "endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT",
 *                          "data":"22661.05","encoding":"CSV"}},
 *      "eventMetadata":{"eventId":"<uuid4>","inferenceTime":"2026-11-25T14:05:09Z"},
 *                       (and "inferenceId" when the client gave one)
 *      "eventVersion":"0"}
 *
 * in hourly files DIR/YYYY/MM/DD/HH/<MM-SS-mmm>-<random>.jsonl (UTC, the
 * hour of the inference).  Encoding follows the content type: CSV for
 * text/csv, JSON for application/json and application/jsonlines, BASE64 for
 * anything else or for data that is not UTF-8.
 *
 * Each line is written with one write() to a file opened O_APPEND, so a
 * crash (even kill -9) loses no completed record and never leaves half a
 * line; ml_capture_close() also fsyncs.  Safe to call from several threads.
 *
 * DIR may be a store's prefix (s3://bucket/capture/): the hourly files are
 * then written to a spool folder ($TMPDIR/mlpipe-capture.XXXXXX) and each
 * is uploaded as one object, DIR/YYYY/MM/DD/HH/<name>.jsonl, when the hour
 * changes (in the recording thread, under the lock) and at close, then
 * removed.  An upload that fails at an hour's change is tried again at the
 * next one and at close; a file still not uploaded at close is an error
 * naming the spool folder, where it stays.
 *
 *     struct ml_capture *c = ml_capture_open("capture/", 100.0, &err);
 *     if (ml_capture_sampled(c))
 *             ml_capture_record(c, "text/csv", in, in_len, "text/csv", out, out_len, &err);
 *     ml_capture_close(c, &err);
 */
#ifndef MLPIPE_CAPTURE_H
#define MLPIPE_CAPTURE_H

#include <stddef.h>

#include "err.h"

struct ml_capture;

/* A local directory (made if missing) or a store prefix; percent of inferences kept, 0..100. */
struct ml_capture *ml_capture_open(const char *dir, double percent, struct ml_err *err);
/* Should the next inference be captured?  (Random, at the sampling percentage.) */
int ml_capture_sampled(struct ml_capture *c);
int ml_capture_record(struct ml_capture *c, const char *in_type, const char *in, size_t in_len,
		      const char *out_type, const char *out, size_t out_len, struct ml_err *err);
/* The same with eventMetadata.inferenceId (the client's X-Amzn-SageMaker-Inference-Id), if not NULL. */
int ml_capture_record_id(struct ml_capture *c, const char *inference_id, const char *in_type, const char *in,
			 size_t in_len, const char *out_type, const char *out, size_t out_len, struct ml_err *err);
/* Records written so far. */
unsigned long long ml_capture_count(const struct ml_capture *c);
/* fsync and close the current file (into a store: upload what is spooled); frees c. */
int ml_capture_close(struct ml_capture *c, struct ml_err *err);

/* A random (version 4) UUID, 36 characters and a NUL. */
void ml_uuid4(char out[37]);

#endif
