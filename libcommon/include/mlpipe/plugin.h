/*
 * plugin.h - the plugin ABI and loader (DESIGN.md section 4).
 *
 * A plugin is a shared object named ml-<kind>-<name>.so (for example
 * ml-algo-gbtree.so, ml-store-s3.so, ml-notify-smtp.so) that exports one
 * symbol, ml_plugin_entry(), returning a pointer to a const struct ml_plugin.
 * The loader checks abi, size and kind before it calls anything.
 *
 * Writing one:
 *
 *     static const struct ml_store_ops s3_ops = { .size = sizeof s3_ops, ... };
 *     static const struct ml_plugin plugin = {
 *             .abi = ML_PLUGIN_ABI, .size = sizeof plugin,
 *             .kind = ML_PLUGIN_STORE, .name = "s3", .version = "1.0.0",
 *             .description = "Amazon S3 and S3-compatible stores",
 *             .ops.store = &s3_ops,
 *     };
 *     ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void) { return &plugin; }
 *
 * Versioning: fields are only ever appended to these structs; size says how
 * many the plugin knows.  A NULL function slot means "not supported".  A
 * change that is not an append bumps ML_PLUGIN_ABI.
 *
 * Search path, first match wins: --plugin-dir DIR (repeatable), the
 * MLPIPE_PLUGIN_PATH colon-separated list, <dir of executable>/../lib/mlpipe/plugins
 * (so a build tree works uninstalled), and the installed LIBDIR.  Never the
 * current directory; relative directories are refused.  A candidate must be a
 * regular file (not a symlink to elsewhere... lstat) that is not group- or
 * world-writable.
 */
#ifndef MLPIPE_PLUGIN_H
#define MLPIPE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define ML_PLUGIN_ABI 1
#define ML_PLUGIN_EXPORT __attribute__((visibility("default")))

enum ml_plugin_kind {
	ML_PLUGIN_ALGORITHM = 1,	/* file prefix "ml-algo-" */
	ML_PLUGIN_STORE = 2,		/* "ml-store-" */
	ML_PLUGIN_NOTIFIER = 3,		/* "ml-notify-" */
	ML_PLUGIN_COMBINER = 4,		/* "ml-combine-" */
};

struct json_t;

/* Host services handed to a plugin at init (append-only, like sqlite3ext.h). */
struct ml_host {
	uint32_t size;
	void (*log)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	int verbosity;
	const char *progname;
	/* An event record for the tool's log (one JSON object, borrowed): NDJSON
	 * on stderr or a line of text, as the tool's --log-format says. */
	void (*event)(const struct json_t *event);
	/* Progress of long work, drawn as the tool's progress line. */
	void (*progress)(const char *label, uint64_t done, uint64_t total, const char *unit);
};

/* Whether a host handed to a plugin has a member (hosts only ever grow). */
#define ML_HOST_HAS(host, member) \
	((host) && (host)->size >= offsetof(struct ml_host, member) + sizeof((host)->member) && (host)->member)

/* ---- kind-specific operation tables (each starts with its size) ---- */

struct ml_istream;
struct ml_ostream;
struct ml_store_object;
struct ml_matrix;
struct json_t;
/* json_t is jansson's typedef of struct json_t. */

/*
 * A training set handed over a chunk at a time, as often as the algorithm
 * asks: how ml-train passes data larger than its --buffer-size (spooled to
 * a temporary file) to an algorithm that can train in passes.
 */
struct ml_rows {
	uint32_t size;
	size_t nfeatures;
	uint64_t nrows;
	/* One pass: fn gets every chunk in order (x: rows x nfeatures, row-major;
	 * y: the labels), borrowed for the call; fn returning -1 stops it. */
	int (*pass)(struct ml_rows *rows, int (*fn)(const struct ml_matrix *x, const double *y, void *arg,
						    struct ml_err *err),
		    void *arg, struct ml_err *err);
	/* The same in an order of chunks shuffled from seed (a chunk's rows keep
	 * theirs), or NULL: for SGD over data that may be sorted. */
	int (*shuffled_pass)(struct ml_rows *rows, uint64_t seed,
			     int (*fn)(const struct ml_matrix *x, const double *y, void *arg, struct ml_err *err),
			     void *arg, struct ml_err *err);
};

/* algorithm: defined fully by the algorithm issues; only appended to. */
struct ml_algo_ops {
	uint32_t size;
	/* Train on a dense matrix; params is a JSON object of hyperparameters. */
	int (*train)(const struct ml_matrix *x, const double *y, const struct ml_matrix *vx,
		     const double *vy, const struct json_t *params, struct json_t **model,
		     struct ml_err *err);
	/* Parse a model document into an opaque predictor. */
	void *(*load)(const struct json_t *model, struct ml_err *err);
	/* out[i] = prediction for row i of x; called from several threads at once. */
	int (*predict)(const void *predictor, const struct ml_matrix *x, double *out,
		       struct ml_err *err);
	void (*free)(void *predictor);
	/* Train in passes over rows (valid may be NULL); NULL: the plugin needs the data in memory. */
	int (*train_rows)(struct ml_rows *train, struct ml_rows *valid, const struct json_t *params,
			  struct json_t **model, struct ml_err *err);
};

/* store: one URI scheme. */
struct ml_store_ops {
	uint32_t size;
	struct ml_istream *(*open_read)(const char *uri, struct ml_err *err);
	/* The object becomes visible only on close(commit = 1). */
	struct ml_ostream *(*open_write)(const char *uri, int mode, struct ml_err *err);
	/* Call fn once per object URI under prefix, in lexical order. */
	int (*list)(const char *prefix, int (*fn)(const char *uri, void *arg), void *arg,
		    struct ml_err *err);
	int (*remove)(const char *uri, struct ml_err *err);
	/* list with each object's length and ETag (uri.h); NULL: list only. */
	int (*list_objects)(const char *prefix, int (*fn)(const struct ml_store_object *o, void *arg), void *arg,
			    struct ml_err *err);
};

/* One message for a notifier: what ml-notify made of an event. */
struct ml_notice {
	uint32_t size;
	const char *destination;	/* the --to URI */
	const char *subject;		/* may be NULL */
	const char *body;		/* text for people */
	const char *json;		/* the event as JSON text, or NULL for plain text */
	const char *from;		/* e-mail sender, or NULL */
	const char *const *rcpt;	/* e-mail recipients, NULL-terminated, or NULL */
	const char *const *headers;	/* "Name: value" for webhooks, NULL-terminated, or NULL */
	long timeout_ms;
};

/* notifier: one destination scheme. */
struct ml_notify_ops {
	uint32_t size;
	/* Deliver a message (subject may be NULL) to a destination URI. */
	int (*send)(const char *destination, const char *subject, const char *body,
		    const char *content_type, struct ml_err *err);
	/* Deliver a notice; errors are TEMPFAIL when a retry later may work. */
	int (*deliver)(const struct ml_notice *notice, struct ml_err *err);
};

/* combiner: several models' predictions into one. */
struct ml_combine_ops {
	uint32_t size;
	/* out[i] = f(preds[0][i], ..., preds[nmodels-1][i]) for i < nrows. */
	int (*combine)(size_t nmodels, size_t nrows, const double *const *preds, double *out,
		       struct ml_err *err);
};

struct ml_plugin {
	uint32_t abi;			/* ML_PLUGIN_ABI the plugin was built with */
	uint32_t size;			/* sizeof(struct ml_plugin) the plugin knows */
	uint32_t kind;			/* enum ml_plugin_kind */
	const char *name;		/* "gbtree", "s3", ... must match the file name */
	const char *version;		/* plugin's own version, "1.2.0" */
	const char *description;	/* one line for --list-plugins */
	int (*init)(const struct ml_host *host, struct ml_err *err);	/* may be NULL */
	void (*fini)(void);						/* may be NULL */
	union {
		const struct ml_algo_ops *algo;
		const struct ml_store_ops *store;
		const struct ml_notify_ops *notify;
		const struct ml_combine_ops *combine;
	} ops;
};

typedef const struct ml_plugin *(*ml_plugin_entry_fn)(void);
#define ML_PLUGIN_ENTRY_SYMBOL "ml_plugin_entry"

/* What every plugin defines (declared here so plugins build with -Wmissing-prototypes). */
ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void);

/* "algo", "store", "notify", "combine"; NULL for an unknown kind. */
const char *ml_plugin_kind_prefix(enum ml_plugin_kind kind);

/* ---- the loader ---- */

/*
 * Add a trusted directory to the search path (--plugin-dir): added
 * directories come before the environment's and the installed ones, in the
 * order they were added.
 */
int ml_plugin_add_dir(const char *dir, struct ml_err *err);

/*
 * Find, check and initialise the plugin of that kind and name.  A loaded
 * plugin stays loaded until ml_plugin_unload_all(); loading it again returns
 * the same pointer.  Built-in plugins registered with ml_plugin_register_builtin()
 * are found before the search path (unit tests run without dlopen).
 */
const struct ml_plugin *ml_plugin_load(enum ml_plugin_kind kind, const char *name,
				       struct ml_err *err);

/* Make a compiled-in plugin available under its kind and name. */
int ml_plugin_register_builtin(const struct ml_plugin *p, struct ml_err *err);

/*
 * --list-plugins: every candidate in the search path, one per line, as
 *   "<kind>\t<name>\t<version>\t<path>\tok|refused: <reason>"
 * Returns the number of usable plugins.
 */
int ml_plugin_list(FILE *out);

/* Load the store plugin for a URI scheme, registering it with uri.h. */
int ml_plugin_load_store_for_scheme(const char *scheme, struct ml_err *err);

/* The search path as used now, NULL-terminated, for messages and tests. */
const char *const *ml_plugin_search_path(void);

/* Call fini and dlclose every plugin, and forget built-ins and added
 * directories (so tests start clean). */
void ml_plugin_unload_all(void);

#endif
