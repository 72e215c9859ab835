/* bookmark.c - what was already read of growing local files and of store objects (see bookmark.h). */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mlpipe/artifact.h"
#include "mlpipe/bookmark.h"
#include "mlpipe/buf.h"
#include "mlpipe/uri.h"

#define FORMAT "mlpipe.bookmark"
#define CHUNK 65536
#define MAX_HEADER ((size_t)64 << 20)

struct ml_bookmark {
	char *path;
	json_t *files;		/* absolute path -> {size, mtime_ns, inode, consumed} */
	json_t *objects;	/* store URI -> {size, etag} */
	int lock_fd;		/* PATH.lock, flock()ed while the bookmark is in use; -1 in a store */
};

void ml_bookmark_free(struct ml_bookmark *bm)
{
	if (!bm)
		return;
	if (bm->lock_fd >= 0)
		close(bm->lock_fd);	/* releases the lock */
	free(bm->path);
	json_decref(bm->files);
	json_decref(bm->objects);
	free(bm);
}

static int entry_ok(const json_t *e)
{
	static const char *const keys[] = { "size", "mtime_ns", "inode", "consumed" };
	if (!json_is_object(e))
		return 0;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const json_t *v = json_object_get(e, keys[i]);
		if (!json_is_integer(v) || (json_integer_value(v) < 0 && strcmp(keys[i], "mtime_ns")))
			return 0;
	}
	return json_integer_value(json_object_get(e, "consumed")) <= json_integer_value(json_object_get(e, "size"));
}

/* An object's entry: "size" (when the store said) and "etag" (when it gave one). */
static int object_entry_ok(const json_t *e)
{
	const json_t *size = json_object_get(e, "size"), *etag = json_object_get(e, "etag");
	return json_is_object(e) && (!size || (json_is_integer(size) && json_integer_value(size) >= 0)) &&
	       (!etag || json_is_string(etag));
}

/* One run at a time: a second one would read the same data and race the first's save. */
static int lock_local(struct ml_bookmark *bm, struct ml_err *err)
{
	char lock[4200];
	snprintf(lock, sizeof lock, "%s.lock", bm->path);
	if ((bm->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return ml_err_errno(err, errno, "%s", lock);
	if (flock(bm->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return ml_err_set(err, ML_ERR_TEMPFAIL, "%s: another run is using this bookmark (%s is locked)", bm->path,
				  lock);
	return ml_err_errno(err, errno, "%s", lock);
}

/* The bookmark's document, or NULL with *missing set when there is none yet (no file, no object). */
static json_t *read_doc(const char *path, int *missing, struct ml_err *err)
{
	struct ml_err e = ML_ERR_INIT;
	json_t *doc = ml_json_load(path, &e);
	*missing = !doc && ml_err_not_found(&e);
	if (!doc && !*missing)
		*err = e;
	return doc;
}

/* A new reference to the member key of doc (an object, or {} when absent), each entry checked by ok. */
static json_t *entries(const json_t *doc, const char *path, const char *key, int (*ok)(const json_t *e),
		       struct ml_err *err)
{
	json_t *m = json_object_get(doc, key), *e;
	const char *name;
	if (m && !json_is_object(m)) {
		ml_err_set(err, ML_ERR_DATA, "%s: \"%s\" is not an object", path, key);
		return NULL;
	}
	json_object_foreach(m, name, e) {
		if (!ok(e)) {
			ml_err_set(err, ML_ERR_DATA, "%s: the entry of %s is malformed", path, name);
			return NULL;
		}
	}
	if (!(m = m ? json_incref(m) : json_object()))
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return m;
}

static int parse_doc(struct ml_bookmark *bm, const json_t *doc, struct ml_err *err)
{
	const char *format = json_string_value(json_object_get(doc, "format"));
	char name[64];
	int major;
	if (!format || ml_format_parse(format, name, sizeof name, &major) < 0 || strcmp(name, FORMAT))
		return ml_err_set(err, ML_ERR_DATA, "%s: not a bookmark (\"format\" is not \"%s/1\")", bm->path, FORMAT);
	if (major > 1)
		return ml_err_set(err, ML_ERR_DATA, "%s: written by a newer mlpipe (%s, this one reads %s/1)", bm->path,
				  format, FORMAT);
	if (!json_is_object(json_object_get(doc, "files")))
		return ml_err_set(err, ML_ERR_DATA, "%s: \"files\" is not an object", bm->path);
	if (!(bm->files = entries(doc, bm->path, "files", entry_ok, err)) ||
	    !(bm->objects = entries(doc, bm->path, "objects", object_entry_ok, err)))
		return -1;
	return 0;
}

struct ml_bookmark *ml_bookmark_load(const char *path, struct ml_err *err)
{
	struct ml_bookmark *bm = ml_calloc(1, sizeof *bm, err);
	int missing = 0;
	json_t *doc = NULL;
	if (!bm)
		return NULL;
	bm->lock_fd = -1;
	if (!(bm->path = ml_strdup(path, err)) || (!ml_uri_is_remote(path) && lock_local(bm, err) < 0))
		goto fail;
	if (!(doc = read_doc(path, &missing, err)) && !missing)
		goto fail;
	if (doc ? parse_doc(bm, doc, err) < 0 : !(bm->files = json_object()) || !(bm->objects = json_object())) {
		if (!doc)
			ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	json_decref(doc);
	return bm;
fail:
	json_decref(doc);
	ml_bookmark_free(bm);
	return NULL;
}

static uint64_t member(const json_t *e, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(e, key));
}

/* Offset just after the last newline in [from, size), or from if there is none. */
static int last_newline(int fd, uint64_t from, uint64_t size, uint64_t *to, const char *path, struct ml_err *err)
{
	char buf[CHUNK];
	uint64_t end = size;
	while (end > from) {
		uint64_t begin = end - from > CHUNK ? end - CHUNK : from;
		ssize_t n = pread(fd, buf, (size_t)(end - begin), (off_t)begin);
		if (n < 0)
			return ml_err_errno(err, errno, "%s", path);
		if ((uint64_t)n != end - begin)
			return ml_err_set(err, ML_ERR_IO, "%s: shrank while being read", path);
		for (ssize_t i = n; i > 0; i--)
			if (buf[i - 1] == '\n') {
				*to = begin + (uint64_t)i;
				return 0;
			}
		end = begin;
	}
	*to = from;
	return 0;
}

int ml_bookmark_plan(const struct ml_bookmark *bm, const char *path, struct ml_bookmark_span *sp,
		     struct ml_err *err)
{
	memset(sp, 0, sizeof *sp);
	char abs[PATH_MAX];
	if (!realpath(path, abs))
		return ml_err_errno(err, errno, "%s", path);
	if (strlen(abs) >= sizeof sp->path)
		return ml_err_set(err, ML_ERR_USAGE, "%s: path too long", path);
	strcpy(sp->path, abs);
	int fd = open(abs, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return ml_err_errno(err, e, "%s", path);
	}
	sp->size = (uint64_t)st.st_size;
	sp->ino = (uint64_t)st.st_ino;
	sp->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	const json_t *e = json_object_get(bm->files, abs);
	if (e) {
		if (member(e, "inode") == sp->ino && member(e, "consumed") <= sp->size)
			sp->from = member(e, "consumed");
		else
			sp->restarted = 1;
	}
	int rc = S_ISREG(st.st_mode) ? last_newline(fd, sp->from, sp->size, &sp->to, path, err)
				     : ml_err_set(err, ML_ERR_USAGE, "%s: --bookmark needs regular files", path);
	close(fd);
	return rc;
}

int ml_bookmark_plan_object(const struct ml_bookmark *bm, const struct ml_store_object *o, struct ml_bookmark_span *sp,
			    struct ml_err *err)
{
	memset(sp, 0, sizeof *sp);
	if (strlen(o->uri) >= sizeof sp->path || (o->etag && strlen(o->etag) >= sizeof sp->etag))
		return ml_err_set(err, ML_ERR_USAGE, "%s: URI or ETag too long", o->uri);
	strcpy(sp->path, o->uri);
	strcpy(sp->etag, o->etag ? o->etag : "");
	sp->object = 1;
	sp->size = sp->to = o->bytes;
	const json_t *e = json_object_get(bm->objects, o->uri);
	const json_t *size = json_object_get(e, "size");
	const char *etag = json_string_value(json_object_get(e, "etag"));
	int same = e && (!size || o->bytes == ML_OBJECT_BYTES_UNKNOWN || (uint64_t)json_integer_value(size) == o->bytes) &&
		   (!etag || !o->etag || !strcmp(etag, o->etag));
	sp->restarted = e && !same;
	sp->from = same ? sp->to : 0;
	return 0;
}

static int object_done(struct ml_bookmark *bm, const struct ml_bookmark_span *sp, struct ml_err *err)
{
	json_t *e = json_object();
	int bad = !e;
	if (!bad && sp->size != ML_OBJECT_BYTES_UNKNOWN)
		bad = json_object_set_new(e, "size", json_integer((json_int_t)sp->size)) < 0;
	if (!bad && sp->etag[0])
		bad = json_object_set_new(e, "etag", json_string(sp->etag)) < 0;
	if (bad) {
		json_decref(e);
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	}
	if (json_object_set_new(bm->objects, sp->path, e) < 0)	/* e is freed on failure */
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return 0;
}

int ml_bookmark_done(struct ml_bookmark *bm, const struct ml_bookmark_span *sp, struct ml_err *err)
{
	if (sp->object)
		return object_done(bm, sp, err);
	json_t *e = json_pack("{s:I, s:I, s:I, s:I}", "size", (json_int_t)sp->size, "mtime_ns", (json_int_t)sp->mtime_ns,
			      "inode", (json_int_t)sp->ino, "consumed", (json_int_t)sp->to);
	if (!e || json_object_set_new(bm->files, sp->path, e) < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return 0;
}

int ml_bookmark_save(struct ml_bookmark *bm, struct ml_err *err)
{
	char now[32];
	ml_utc_now_iso8601(now);
	json_t *doc = json_pack("{s:s, s:s, s:O, s:O*}", "format", FORMAT "/1", "updated", now, "files", bm->files,
				"objects", json_object_size(bm->objects) ? bm->objects : NULL);
	if (!doc)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	int rc = ml_json_save(doc, bm->path, 17, err);
	json_decref(doc);
	return rc;
}

/* ---- feeding a tail of a file through a pipe ---- */

struct ml_tail {
	char *path;
	uint64_t from, to;
	int with_header;
	int rfd, wfd;
	char uri[32];
	pthread_t thread;
	struct ml_err err;
	int rc;
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *feed(void *arg)
{
	struct ml_tail *t = arg;
	char buf[CHUNK];
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);
	t->rc = -1;
	if (fd < 0) {
		ml_err_errno(&t->err, errno, "%s", t->path);
		goto out;
	}
	if (t->with_header) {
		size_t total = 0;
		for (;;) {
			ssize_t n = pread(fd, buf, sizeof buf, (off_t)total);
			if (n <= 0) {
				ml_err_set(&t->err, ML_ERR_DATA, "%s: no header line", t->path);
				goto out;
			}
			char *nl = memchr(buf, '\n', (size_t)n);
			size_t len = nl ? (size_t)(nl - buf) + 1 : (size_t)n;
			if (write_all(t->wfd, buf, len) < 0)
				goto out_reader_gone;
			total += len;
			if (nl)
				break;
			if (total > MAX_HEADER) {
				ml_err_set(&t->err, ML_ERR_DATA, "%s: header line longer than 64 MiB", t->path);
				goto out;
			}
		}
	}
	for (uint64_t off = t->from; off < t->to;) {
		size_t want = t->to - off > sizeof buf ? sizeof buf : (size_t)(t->to - off);
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ml_err_set(&t->err, ML_ERR_IO, "%s: shrank while being read", t->path);
			goto out;
		}
		if (write_all(t->wfd, buf, (size_t)n) < 0)
			goto out_reader_gone;
		off += (uint64_t)n;
	}
	t->rc = 0;
	goto out;
out_reader_gone:
	t->rc = 0;	/* the reader stopped early: its error is the one to report */
out:
	if (fd >= 0)
		close(fd);
	close(t->wfd);
	t->wfd = -1;
	return NULL;
}

struct ml_tail *ml_tail_open(const char *path, uint64_t from, uint64_t to, int with_header, struct ml_err *err)
{
	struct ml_tail *t = ml_calloc(1, sizeof *t, err);
	int fds[2];
	if (!t)
		return NULL;
	if (!(t->path = ml_strdup(path, err)))
		goto fail;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		ml_err_errno(err, errno, "pipe");
		goto fail;
	}
	t->rfd = fds[0];
	t->wfd = fds[1];
	t->from = from;
	t->to = to;
	t->with_header = with_header;
	snprintf(t->uri, sizeof t->uri, "/dev/fd/%d", t->rfd);
	/* The feeder must see EPIPE, not die of SIGPIPE, if the reader stops early: it inherits this mask. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(&t->thread, NULL, feed, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		ml_err_errno(err, rc, "starting a thread");
		close(t->rfd);
		close(t->wfd);
		goto fail;
	}
	return t;
fail:
	free(t->path);
	free(t);
	return NULL;
}

const char *ml_tail_uri(const struct ml_tail *t)
{
	return t->uri;
}

int ml_tail_close(struct ml_tail *t, struct ml_err *err)
{
	if (!t)
		return 0;
	close(t->rfd);
	pthread_join(t->thread, NULL);
	int rc = t->rc;
	if (rc < 0 && err)
		*err = t->err;
	free(t->path);
	free(t);
	return rc;
}
