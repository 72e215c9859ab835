/*
 * registry.h - the model registry: versioned model artifacts by name, with
 * "latest" and "best" pointers (the seed's Parameter Store).
 *
 * A registry is a local directory or a store URI prefix (s3://bucket/models):
 *
 *     REGISTRY/<name>/index.json              mlpipe.registry-index/1: every version
 *                                             with its sha256, bytes, created,
 *                                             status, algorithm, metrics, files
 *     REGISTRY/<name>/latest                  mlpipe.registry-pointer/1: {version,
 *     REGISTRY/<name>/best                      model_sha256, ...}
 *     REGISTRY/<name>/<version>/model.json    the model, byte for byte as pushed
 *     REGISTRY/<name>/<version>/baseline/...  optional: ml-baseline's files
 *
 * Versions are 1, 2, 3, ... and never change once registered.  The
 * "sha256" of a version (and of each of its files) is the SHA-256 of the
 * file's bytes, as sha256sum prints it; fetching checks it.
 *
 * A registration writes, in this order, each file atomically (temp file,
 * fsync, rename): the version's files, index.json, latest, best.  So a
 * crash at any point leaves every file whole, index.json names only
 * versions whose files are complete, and a pointer names only a version in
 * index.json.  A version directory left by a crash before its index entry
 * is not part of the registry; the next registration of that name reuses
 * its number (a local one is removed first).  Registrations of one name in
 * a local registry are serialised by flock() on <name>/.lock; an s3://
 * registry has no lock: one writer at a time per name.
 *
 *     struct ml_registry_ref ref;
 *     ml_registry_parse_ref("price@best", &ref, &err);
 *     json_t *entry = NULL;
 *     int found = ml_registry_resolve("models/", &ref, &entry, &err);   // 1, 0 (absent) or -1
 */
#ifndef MLPIPE_REGISTRY_H
#define MLPIPE_REGISTRY_H

#include <jansson.h>

#include "err.h"

#define ML_REGISTRY_INDEX_FORMAT "mlpipe.registry-index"
#define ML_REGISTRY_POINTER_FORMAT "mlpipe.registry-pointer"
#define ML_REGISTRY_MAJOR 1
#define ML_REGISTRY_NAME_MAX 128

enum ml_registry_sel {
	ML_REGISTRY_LATEST = 0,
	ML_REGISTRY_BEST,
	ML_REGISTRY_VERSION,
};

/* NAME, NAME@latest, NAME@best or NAME@VERSION (NAME alone means latest). */
struct ml_registry_ref {
	char name[ML_REGISTRY_NAME_MAX];
	enum ml_registry_sel sel;
	long version;		/* ML_REGISTRY_VERSION */
};

/* A name is 1-127 of A-Z a-z 0-9 . _ - and does not start with '.' or '-'. */
int ml_registry_check_name(const char *name, struct ml_err *err);
int ml_registry_parse_ref(const char *text, struct ml_registry_ref *ref, struct ml_err *err);

enum ml_registry_best {
	ML_REGISTRY_BEST_IF_NONE = 0,	/* the first version of a name becomes its best */
	ML_REGISTRY_BEST_ALWAYS,	/* it beat the best: move best */
};

struct ml_registry_push {
	const char *name;
	const char *model_uri;		/* copy this model file's bytes ... */
	json_t *model_doc;		/* ... or save this model artifact (borrowed) */
	const char *baseline_dir;	/* optional local directory: its regular files go to baseline/ */
	const char *status;		/* "registered" (default) or "accepted" (passed a gate) */
	const char *source;		/* where the model came from, for people (optional) */
	const json_t *gate;		/* optional: the gate's decision, kept in the index (borrowed) */
	enum ml_registry_best best;
	/* With ML_REGISTRY_BEST_ALWAYS: the best version the model was compared
	 * with (0: there was none).  If best has moved since, nothing is
	 * written and the push fails with TEMPFAIL (compare again). */
	long beaten;
};

/*
 * Register a model as the next version of p->name and move "latest" (and
 * "best" as p->best says).  Returns a new reference to a summary:
 * {"name", "version", "sha256", "uri", "latest": true, "best": bool}.
 */
json_t *ml_registry_push(const char *registry, const struct ml_registry_push *p, struct ml_err *err);

/*
 * Find the version a reference names.  Returns 1 and *entry (a new reference:
 * the index entry plus "name", "uri" of model.json, "latest" and "best"
 * booleans), 0 when the name, pointer or version does not exist (err says
 * which, class NOINPUT), -1 on error (a damaged index or pointer: DATA).
 */
int ml_registry_resolve(const char *registry, const struct ml_registry_ref *ref, json_t **entry,
			struct ml_err *err);

/* The index document of a name (new reference); NULL with class NOINPUT when absent. */
json_t *ml_registry_index(const char *registry, const char *name, struct ml_err *err);

/*
 * The names in a registry, sorted, each as {"name", "versions", "latest",
 * "best"} (a new array).  A local directory that does not exist is an error
 * (NOINPUT); an s3:// prefix with no objects is an empty registry.
 */
json_t *ml_registry_names(const char *registry, struct ml_err *err);

/* Make VERSION the best of name; returns the same summary as push. */
json_t *ml_registry_promote(const char *registry, const char *name, long version, struct ml_err *err);

/*
 * Read the model a reference names and check its SHA-256 (DATA on a
 * mismatch); write it to out ("-": standard output) and, if baseline_out is
 * not NULL, its baseline files into that directory (each checked too).
 * *entry as for resolve (may be NULL).
 */
int ml_registry_fetch(const char *registry, const struct ml_registry_ref *ref, const char *out,
		      const char *baseline_out, json_t **entry, struct ml_err *err);

/*
 * Check the SHA-256 of the model a resolved entry names and return the
 * URI to load it from (a new string), for ml_model_load().
 */
char *ml_registry_verified_uri(const json_t *entry, struct ml_err *err);

#endif
