/*
 * bookmark.h - incremental runs over growing inputs (like AWS Glue's job
 * bookmarks): remember which local files were read and how far, so the next
 * run reads only new files and the bytes appended since.
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
 * The caller saves the bookmark only after its run succeeded (atomically:
 * temp file and rename), so a run that fails or is killed leaves the old one
 * and the next run reads the same data again.
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
 * Read the bookmark at path; a missing file is an empty bookmark.  The file
 * PATH.lock is created and locked (flock) until ml_bookmark_free(): a second
 * run on the same bookmark meanwhile fails with ML_ERR_TEMPFAIL.
 */
struct ml_bookmark *ml_bookmark_load(const char *path, struct ml_err *err);
void ml_bookmark_free(struct ml_bookmark *bm);

struct ml_bookmark_span {
	char path[4096];	/* absolute */
	uint64_t from, to;	/* bytes to read: [from, to); to == from: nothing new */
	uint64_t size, ino;
	int64_t mtime_ns;
	int restarted;		/* replaced or truncated since the last run: read from 0 */
};

/* What is new in the local file path. */
int ml_bookmark_plan(const struct ml_bookmark *bm, const char *path, struct ml_bookmark_span *sp,
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
