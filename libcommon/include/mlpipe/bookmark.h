/*
 * bookmark.h - incremental runs over growing inputs (like AWS Glue's job
 * bookmarks): remember which local files were read and how far, and which
 * store objects were read, so the next run reads only new files and objects
 * and the bytes appended to files since.
 *
 * The bookmark is a small JSON document ("format": "mlpipe.bookmark/1")
 * with one entry per file: its absolute path, size, mtime, inode and the
 * bytes consumed.  A file is new when the bookmark has no entry for it; a
 * file with the same inode and at least the consumed size is read from the
 * consumed offset (appended bytes); a file with another inode or a smaller
 * size was replaced or truncated, and is read again from the start.  Only
 * complete lines are taken: bytes after the last newline stay for the next
 * run, as a writer may be in the middle of them.
 *
 * Objects in a store (s3://...) are immutable: an object is new when the
 * bookmark has no entry for its URI, or when its length or ETag (as the
 * store's listing gives them, see ml_uri_list_objects) differ from the
 * entry's -- it was replaced, and is read whole again; otherwise it was
 * read.  There is no tail of an object.  A store that lists no lengths or
 * ETags leaves only the URI to compare.
 *
 * The caller saves the bookmark only after its run succeeded (atomically:
 * temp file and rename; in a store, one PUT, which S3 makes visible whole or
 * not at all), so a run that fails or is killed leaves the old one and the
 * next run reads the same data again.
 *
 * The bookmark itself may be a local file or an object (s3://...; a missing
 * object is an empty bookmark).  Either may track local files and store
 * objects (the files by this machine's absolute paths).
 *
 *     struct ml_bookmark *bm = ml_bookmark_load("drift.bookmark", &err);
 *     struct ml_bookmark_span sp;
 *     ml_bookmark_plan(bm, "data.csv", &sp, &err);     // sp.from .. sp.to
 *     if (sp.to > sp.from) { read it (ml_tail_open) ...; ml_bookmark_done(bm, &sp, &err); }
 *     ml_bookmark_save(bm, &err);                      // after success only
 *     ml_bookmark_free(bm);
 */
#ifndef MLPIPE_BOOKMARK_H
#define MLPIPE_BOOKMARK_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct ml_bookmark;

/*
 * Read the bookmark at path (a file or a store URI); a missing one is an
 * empty bookmark.  For a local file, PATH.lock is created and locked (flock)
 * until ml_bookmark_free(): a second run on the same bookmark meanwhile fails
 * with ML_ERR_TEMPFAIL.  A store has no lock: one run at a time per bookmark
 * object is the caller's to ensure (one cron job), or the later save wins.
 */
struct ml_bookmark *ml_bookmark_load(const char *path, struct ml_err *err);
void ml_bookmark_free(struct ml_bookmark *bm);

struct ml_bookmark_span {
	char path[4096];	/* absolute, or the object's URI */
	uint64_t from, to;	/* bytes to read: [from, to); to == from: nothing new */
	uint64_t size, ino;
	int64_t mtime_ns;
	int restarted;		/* replaced or truncated since the last run: read from 0 */
	int object;		/* a store object: [0, size) when new, else size..size */
	char etag[256];		/* the object's ETag, or "" */
};

/* What is new in the local file path. */
int ml_bookmark_plan(const struct ml_bookmark *bm, const char *path, struct ml_bookmark_span *sp,
		     struct ml_err *err);
/*
 * Whether the store object o (from ml_uri_list_objects or ml_uri_object_info)
 * is new: then sp says [0, o->bytes), the whole object (o->bytes may be
 * ML_OBJECT_BYTES_UNKNOWN), and restarted when it replaced one read before.
 */
struct ml_store_object;
int ml_bookmark_plan_object(const struct ml_bookmark *bm, const struct ml_store_object *o, struct ml_bookmark_span *sp,
			    struct ml_err *err);
/* Record the span as consumed (in memory until ml_bookmark_save). */
int ml_bookmark_done(struct ml_bookmark *bm, const struct ml_bookmark_span *sp, struct ml_err *err);
/* Write the bookmark atomically to the path it was loaded from. */
int ml_bookmark_save(struct ml_bookmark *bm, struct ml_err *err);

/*
 * A readable URI ("/dev/fd/N", a pipe) giving the bytes [from, to) of path,
 * preceded by its first line when with_header (a CSV header for a tail of
 * the file); a thread feeds the pipe.  ml_tail_close() after the reader has
 * closed the URI: 0, or -1 if feeding failed.
 */
struct ml_tail;
struct ml_tail *ml_tail_open(const char *path, uint64_t from, uint64_t to, int with_header, struct ml_err *err);
const char *ml_tail_uri(const struct ml_tail *t);
int ml_tail_close(struct ml_tail *t, struct ml_err *err);

#endif
