/*
 * capture_read.h - rows out of data-capture files (SageMaker's JSON Lines,
 * as ml-score --capture and SageMaker endpoints write them; see capture.h):
 *
 *     {"captureData": {"endpointInput":  {"observedContentType": "text/csv",
 *                                         "mode": "INPUT", "data": "...",
 *                                         "encoding": "CSV"},
 *                      "endpointOutput": {... "mode": "OUTPUT" ...}},
 *      "eventMetadata": {"eventId": "...", "inferenceTime": "..."},
 *      "eventVersion": "0"}
 *
 * A capture file is an NDJSON stream, so the one reader (stream.h) reads
 * it, with its limits, file:line messages and --on-error policy; this module
 * decodes each record's endpointInput into rows of named columns:
 *
 *   encoding   CSV, JSON, or BASE64 of the observedContentType's text
 *   text/csv   one row per line, no header; fields in the order of
 *              opts.positions (RFC 4180 quoting)
 *   JSON       (application/json, application/jsonlines: one value per line)
 *              an object is a row by key; an array of scalars a row by
 *              position; an array of arrays or objects, or {"instances": [...]}
 *              ({"inputs": ...} too), several rows; an instance
 *              {"features": [...]} a row by position
 *
 * endpointOutput, when opts.output_col names a column, gives that column one
 * value per row: a CSV line's first field, or a JSON number, an array of
 * them, {"predictions": [...]}, or objects whose "score", "prediction" or
 * "predicted_label" member holds the value.
 *
 *     struct ml_capture_dec *dec = ml_capture_dec_new(&opts, &err);
 *     if (ml_capture_detect(r))
 *             rc = ml_capture_read(dec, r, on_row, ctx, &err);
 *     ml_capture_dec_free(dec);
 */
#ifndef MLPIPE_CAPTURE_READ_H
#define MLPIPE_CAPTURE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "err.h"
#include "stream.h"

struct ml_capture_read_opts {
	const char *const *names;	/* the columns rows are decoded into (borrowed) */
	size_t ncols;
	const size_t *positions;	/* CSV field / JSON array item i -> column positions[i];
					   NULL: 0 .. ncols-1 skipping output_col */
	size_t npositions;
	long output_col;		/* column filled from endpointOutput, or -1 */
	int event_id;			/* keep each record's id for ml_capture_event_id() */
	int ignore_extra;		/* CSV fields, JSON array items past the positions: ignored,
					   not an error (when only endpointOutput matters) */
};

struct ml_capture_dec;

/* opts is copied (names and positions stay borrowed). */
struct ml_capture_dec *ml_capture_dec_new(const struct ml_capture_read_opts *opts, struct ml_err *err);
void ml_capture_dec_free(struct ml_capture_dec *dec);

/*
 * Called once per decoded row with ncols fields indexed by column: the text
 * of the value (a JSON number as its shortest round-trip text), or flags
 * ML_FIELD_ABSENT when the row has no value.  Borrowed until it returns.
 */
typedef int (*ml_capture_row_fn)(void *arg, const struct ml_field *fields, struct ml_err *err);

/* Does r (just opened) read capture records: NDJSON with "captureData"? */
int ml_capture_detect(const struct ml_reader *r);

/*
 * Decode every record of r.  A record that cannot be decoded (no
 * endpointInput, bad base64, a CSV row with the wrong number of fields, ...)
 * is handed to ml_reader_reject(): an error naming file:line, or skipped
 * with a warning under --on-error skip.  Returns 0 or -1.
 */
int ml_capture_read(struct ml_capture_dec *dec, struct ml_reader *r, ml_capture_row_fn fn, void *arg,
		    struct ml_err *err);

/* Decode one capture record's JSON text (the whole line). */
int ml_capture_decode(struct ml_capture_dec *dec, const char *json, size_t len, ml_capture_row_fn fn,
		      void *arg, struct ml_err *err);

/*
 * With opts.event_id, during a row callback: the record's
 * eventMetadata.inferenceId, or its eventId when it has none (the key
 * SageMaker joins ground truth on); NULL when it has neither.  Borrowed,
 * not NUL-terminated.
 */
const char *ml_capture_event_id(const struct ml_capture_dec *dec, size_t *len);

/* What has been decoded so far. */
struct ml_capture_stats {
	uint64_t records, rows;
	size_t extra_fields;	/* most fields a row had beyond the named columns, or JSON keys not named */
};
void ml_capture_stats(const struct ml_capture_dec *dec, struct ml_capture_stats *st);
/* Has any row had column i (a key present, or a position filled)? */
int ml_capture_seen(const struct ml_capture_dec *dec, size_t i);

/*
 * Append the capture files under dir (SageMaker's DIR/YYYY/MM/DD/HH/NAME.jsonl,
 * or any depth), in lexical order of their paths, which is time order for
 * hourly folders.  Empty files (a writer's new hour) are left out.  0 files
 * is not an error.
 */
int ml_capture_list_dir(const char *dir, struct ml_strlist *out, struct ml_err *err);

#endif
