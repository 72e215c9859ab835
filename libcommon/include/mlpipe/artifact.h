/*
 * artifact.h - JSON documents that carry a format name/version and a SHA-256.
 *
 * Recipes, models, baselines and reports are JSON objects (jansson) with:
 *
 *     "format": "mlpipe.model/1"      name and major version
 *     "sha256": "<64 hex>"            of the canonical content, see below
 *     "created": "2026-11-24T21:10:00Z"
 *
 * The digest covers the document serialised canonically (sorted keys,
 * compact, with the "sha256" member removed), so a person may re-indent the
 * file without breaking it, but any change of content is caught on load.
 * Writes are atomic (temp file in the same directory, fsync, rename), so a
 * crash never leaves half a model.  A loaded artifact is untrusted input:
 * callers validate every field they use.
 */
#ifndef MLPIPE_ARTIFACT_H
#define MLPIPE_ARTIFACT_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

#define ML_SHA256_HEX 65	/* 64 hex digits and NUL */

/* Hex SHA-256 (OpenSSL EVP) of data[0..len). */
int ml_sha256_hex(const void *data, size_t len, char out[ML_SHA256_HEX], struct ml_err *err);

/* The digest an artifact's "sha256" field must hold: the SHA-256 of its canonical text. */
int ml_artifact_digest(const json_t *doc, char out[ML_SHA256_HEX], struct ml_err *err);
/*
 * The canonical text, appended to out: compact, keys sorted, reals as
 * "%.17g", the top-level "sha256" left out (json_dumps' text with those
 * flags, as jansson 2.14 writes it).
 */
struct ml_buf;
int ml_artifact_canonical(const json_t *doc, struct ml_buf *out);

/*
 * Stamp doc with "format": "<name>/<major>", "created" (UTC, ISO 8601) unless
 * present, and "sha256"; then write it pretty-printed, atomically, to uri.
 * doc is modified in place (borrowed, not consumed).
 */
int ml_artifact_save(json_t *doc, const char *name, int major, const char *uri,
		     struct ml_err *err);

/*
 * Read and check an artifact: valid JSON object (errors give line:column),
 * "format" is name with a major version <= max_major (a newer one is refused
 * with "written by a newer mlpipe"), and a present "sha256" matches.  Missing
 * "sha256" is accepted (hand-written files) unless require_digest.  Returns a
 * new reference, and the major version found in *major if not NULL.
 */
json_t *ml_artifact_load(const char *uri, const char *name, int max_major, int require_digest,
			 int *major, struct ml_err *err);

/*
 * Write doc indented, with a final newline, atomically; precision is the
 * significant digits of reals (17: exact, for artifacts; 15: for reports).
 */
int ml_json_save(const json_t *doc, const char *uri, int precision, struct ml_err *err);

/* Any JSON document (hyperparameters.json, ...): errors give file:line:column. */
json_t *ml_json_load(const char *uri, struct ml_err *err);

/* Split "mlpipe.model/1" into name and major; -1 if malformed. */
int ml_format_parse(const char *format, char *name, size_t namesz, int *major);

/* Current time as "YYYY-MM-DDTHH:MM:SSZ". */
void ml_utc_now_iso8601(char out[32]);

#endif
