/*
 * uri.h - byte streams addressed by URI.
 *
 * Every path a tool takes is a URI: "-" (stdin/stdout), a plain path,
 * "file:///abs/path" or "file:rel/path", or "<scheme>://..." which is handed
 * to the store plugin registered for that scheme (s3:// comes from the
 * store-s3 plugin).  Readers and writers of the record stream and of
 * artifacts see only these two stream types.
 *
 *     struct ml_istream *in = ml_open_read("cars.csv", &err);
 *     ssize_t n = ml_istream_read(in, buf, sizeof buf, &err);   // 0 at EOF
 *     ml_istream_close(in);
 *
 *     struct ml_ostream *out = ml_open_write("model.json", ML_WRITE_ATOMIC, &err);
 *     ml_ostream_write(out, p, n, &err);
 *     ml_ostream_close(out, 1, &err);   // 1: commit (rename into place)
 *                                       // 0: abort (temp file removed)
 */
#ifndef MLPIPE_URI_H
#define MLPIPE_URI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* An input stream.  Backends fill the ops; users call the functions below. */
struct ml_istream {
	ssize_t (*read)(struct ml_istream *s, void *buf, size_t n, struct ml_err *err);
	void (*close)(struct ml_istream *s);
	char *name;		/* for messages: "cars.csv", "<stdin>", "s3://b/k" */
	int fd;			/* local file descriptor, or -1 */
	void *ctx;		/* backend state */
};

enum ml_write_mode {
	ML_WRITE_TRUNCATE = 0,	/* create or truncate in place (data streams) */
	ML_WRITE_ATOMIC = 1,	/* temp file beside the target, fsync, rename on commit */
	ML_WRITE_APPEND = 2,	/* append (NDJSON logs, notifications) */
};

struct ml_ostream {
	int (*write)(struct ml_ostream *s, const void *buf, size_t n, struct ml_err *err);
	/* commit = 0 discards what an atomic stream wrote. */
	int (*close)(struct ml_ostream *s, int commit, struct ml_err *err);
	char *name;
	int fd;
	void *ctx;
};

/* Open for reading: "-" is stdin (never closed by ml_istream_close). */
struct ml_istream *ml_open_read(const char *uri, struct ml_err *err);
/* Open for writing: "-" is stdout (flushed, never closed). */
struct ml_ostream *ml_open_write(const char *uri, enum ml_write_mode mode, struct ml_err *err);

/* Read up to n bytes; 0 at end of input; -1 on error (EINTR retried). */
ssize_t ml_istream_read(struct ml_istream *s, void *buf, size_t n, struct ml_err *err);
void ml_istream_close(struct ml_istream *s);
/* Read the whole stream into a NUL-terminated buffer of at most cap bytes. */
char *ml_istream_slurp(struct ml_istream *s, size_t cap, size_t *len, struct ml_err *err);

/* Bytes in memory as a stream (borrowed: data must outlive the stream). */
struct ml_istream *ml_istream_mem(const void *data, size_t len, const char *name, struct ml_err *err);

/* Write all n bytes or fail (short writes and EINTR are retried). */
int ml_ostream_write(struct ml_ostream *s, const void *buf, size_t n, struct ml_err *err);
int ml_ostream_close(struct ml_ostream *s, int commit, struct ml_err *err);

/* Whole-file helpers: read a small document, write one atomically. */
char *ml_read_all(const char *uri, size_t cap, size_t *len, struct ml_err *err);
int ml_write_all_atomic(const char *uri, const void *data, size_t len, struct ml_err *err);

/*
 * A directory to write into: a local one is made if missing (an error if a
 * file is there); a store's prefix ("s3://bucket/baseline/") needs nothing,
 * since object keys have no folders, but its store plugin must load.
 */
int ml_ensure_dir(const char *path, struct ml_err *err);

/*
 * "DIR/NAME" into buf, one '/' between them however many DIR ends with:
 * "s3://b/baseline/" + "statistics.json" is "s3://b/baseline/statistics.json".
 * -1 (usage error) if it does not fit.
 */
int ml_uri_join(char *buf, size_t bufsz, const char *dir, const char *name, struct ml_err *err);
/* 1 for a URI handed to a store plugin (s3://...), 0 for "-", paths and file:. */
int ml_uri_is_remote(const char *uri);
/*
 * Call fn once per object URI under a store prefix, in the store's (lexical)
 * order; fn returning nonzero stops the listing with that value.
 */
int ml_uri_list(const char *prefix, int (*fn)(const char *uri, void *arg), void *arg, struct ml_err *err);

/*
 * What a store's listing says of one object (S3's ListObjectsV2 gives the
 * length and the ETag of each key); borrowed for the callback's duration.
 */
struct ml_store_object {
	uint32_t size;		/* sizeof the struct the store filled: fields are only appended */
	const char *uri;
	uint64_t bytes;		/* the object's length, or ML_OBJECT_BYTES_UNKNOWN */
	const char *etag;	/* as the store gives it (S3: quoted hex), or NULL */
};
#define ML_OBJECT_BYTES_UNKNOWN UINT64_MAX

/*
 * ml_uri_list() with each object's length and ETag.  A store plugin without
 * the list_objects op is listed with list(): lengths unknown, no ETags.
 */
int ml_uri_list_objects(const char *prefix, int (*fn)(const struct ml_store_object *o, void *arg), void *arg,
			struct ml_err *err);
/*
 * The length and ETag of one object (etag "" when the store gives none),
 * from a listing of its own key: no request beyond one LIST page.  An
 * object that is not there is ML_ERR_NOINPUT.
 */
int ml_uri_object_info(const char *uri, uint64_t *bytes, char *etag, size_t etagsz, struct ml_err *err);
/* 1 when err says the file or object is not there (ENOENT, S3 NoSuchKey). */
int ml_err_not_found(const struct ml_err *err);

/*
 * URI parsing.  ml_uri_scheme() copies the scheme ("s3", "file") into buf
 * and returns 1, or returns 0 for "-" and plain paths.  A Windows-looking
 * "C:" or a path containing '/' before ':' is a plain path.
 */
int ml_uri_scheme(const char *uri, char *buf, size_t bufsz);
/* The local path of "-"/plain/"file:" URIs, or NULL for remote schemes. */
const char *ml_uri_local_path(const char *uri);

/*
 * Store backends for other schemes register themselves here (the plugin
 * loader does it for store plugins).  Ops are borrowed for the process's
 * life.
 */
struct ml_store_ops;
int ml_uri_register_store(const char *scheme, const struct ml_store_ops *ops, struct ml_err *err);

#endif
