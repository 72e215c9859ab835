/*
 * uri.c - byte streams addressed by URI: stdin/stdout, local files (written
 * atomically when asked) and store plugins for every other scheme.
 */
#define _GNU_SOURCE	/* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlpipe/buf.h"
#include "mlpipe/plugin.h"
#include "mlpipe/uri.h"

/* ---- parsing ---- */

static int is_scheme_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

int ml_uri_scheme(const char *uri, char *buf, size_t bufsz)
{
	size_t n = 0;
	while (uri[n] && is_scheme_char(uri[n], n == 0))
		n++;
	/* "C:" is a drive letter, and "dir/x:y" a path, not a scheme. */
	if (uri[n] != ':' || n < 2 || n >= bufsz)
		return 0;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((uri[i] >= 'A' && uri[i] <= 'Z') ? uri[i] - 'A' + 'a' : uri[i]);
	buf[n] = '\0';
	return 1;
}

const char *ml_uri_local_path(const char *uri)
{
	char scheme[32];
	if (!ml_uri_scheme(uri, scheme, sizeof scheme))
		return uri;
	if (strcmp(scheme, "file") != 0)
		return NULL;
	const char *p = uri + 5;
	if (strncmp(p, "//localhost/", 12) == 0)
		return p + 11;
	if (strncmp(p, "///", 3) == 0)
		return p + 2;
	if (strncmp(p, "//", 2) == 0)
		return NULL;	/* file://host/path names another machine */
	return p;
}

/* ---- store registry ---- */

#define MAX_STORES 16

static struct {
	char scheme[32];
	const struct ml_store_ops *ops;
} stores[MAX_STORES];
static size_t nstores;

int ml_uri_register_store(const char *scheme, const struct ml_store_ops *ops, struct ml_err *err)
{
	if (strlen(scheme) >= sizeof stores[0].scheme)
		return ml_err_set(err, ML_ERR_USAGE, "URI scheme \"%s\" is too long", scheme);
	for (size_t i = 0; i < nstores; i++) {
		if (strcmp(stores[i].scheme, scheme) == 0) {
			stores[i].ops = ops;
			return 0;
		}
	}
	if (nstores == MAX_STORES)
		return ml_err_set(err, ML_ERR_INTERNAL, "too many store backends");
	snprintf(stores[nstores].scheme, sizeof stores[nstores].scheme, "%s", scheme);
	stores[nstores++].ops = ops;
	return 0;
}

static const struct ml_store_ops *store_for(const char *scheme)
{
	for (size_t i = 0; i < nstores; i++)
		if (strcmp(stores[i].scheme, scheme) == 0)
			return stores[i].ops;
	return NULL;
}

/* The store for a remote URI, loading its plugin on first use. */
static const struct ml_store_ops *remote_store(const char *uri, struct ml_err *err)
{
	char scheme[32];
	if (!ml_uri_scheme(uri, scheme, sizeof scheme)) {
		ml_err_set(err, ML_ERR_USAGE, "%s: not a URI", uri);
		return NULL;
	}
	const struct ml_store_ops *ops = store_for(scheme);
	if (!ops && ml_plugin_load_store_for_scheme(scheme, err) == 0)
		ops = store_for(scheme);
	if (ops)
		return ops;
	if (err && err->class == ML_ERR_NONE)
		ml_err_set(err, ML_ERR_UNAVAILABLE, "no store plugin for \"%s://\" URIs", scheme);
	return NULL;
}

/* ---- local files ---- */

struct file_sink {
	char *target;		/* final path of an atomic write */
	char *temp;		/* temp path while writing, or NULL */
	int owns_fd;		/* 0 for stdout */
};

static ssize_t fd_read(struct ml_istream *s, void *buf, size_t n, struct ml_err *err)
{
	for (;;) {
		ssize_t got = read(s->fd, buf, n);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return ml_err_errno(err, errno, "%s: read failed", s->name);
	}
}

static void fd_close_read(struct ml_istream *s)
{
	if (s->fd > STDERR_FILENO)
		close(s->fd);
}

static struct ml_istream *istream_new(const char *name, int fd, struct ml_err *err)
{
	struct ml_istream *s = ml_calloc(1, sizeof *s, err);
	if (!s)
		return NULL;
	if (!(s->name = ml_strdup(name, err))) {
		free(s);
		return NULL;
	}
	s->fd = fd;
	s->read = fd_read;
	s->close = fd_close_read;
	return s;
}

static struct ml_istream *open_local_read(const char *uri, const char *path, struct ml_err *err)
{
	if (strcmp(path, "-") == 0)
		return istream_new("<stdin>", STDIN_FILENO, err);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ml_err_errno(err, errno, "%s: cannot open", uri);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		ml_err_set(err, ML_ERR_NOINPUT, "%s: is a directory, expected a file", uri);
		return NULL;
	}
	struct ml_istream *s = istream_new(uri, fd, err);
	if (!s)
		close(fd);
	return s;
}

static int fd_write(struct ml_ostream *s, const void *buf, size_t n, struct ml_err *err)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t put = write(s->fd, p, n);
		if (put < 0) {
			if (errno == EINTR)
				continue;
			return ml_err_errno(err, errno, "%s: write failed", s->name);
		}
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* Make a rename durable: fsync the directory that holds the new name. */
static int fsync_parent(const char *path, struct ml_err *err)
{
	char *copy = ml_strdup(path, err);
	if (!copy)
		return -1;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (fd >= 0) {
		if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
			rc = ml_err_errno(err, errno, "%s: fsync of its directory failed", path);
		close(fd);
	}
	free(copy);
	return rc;
}

static int commit_atomic(struct ml_ostream *s, struct file_sink *f, struct ml_err *err)
{
	if (fsync(s->fd) < 0 && errno != EINVAL)
		return ml_err_errno(err, errno, "%s: fsync failed", s->name);
	if (close(s->fd) < 0) {
		s->fd = -1;
		return ml_err_errno(err, errno, "%s: close failed", s->name);
	}
	s->fd = -1;
	if (rename(f->temp, f->target) < 0)
		return ml_err_errno(err, errno, "%s: cannot rename %s into place", s->name, f->temp);
	free(f->temp);
	f->temp = NULL;
	return fsync_parent(f->target, err);
}

static int fd_close_write(struct ml_ostream *s, int commit, struct ml_err *err)
{
	struct file_sink *f = s->ctx;
	int rc = 0;
	if (f->temp && commit) {
		rc = commit_atomic(s, f, err);
	} else if (f->owns_fd && close(s->fd) < 0 && commit) {
		rc = ml_err_errno(err, errno, "%s: close failed", s->name);
	}
	if (f->temp) {
		if (s->fd >= 0 && f->owns_fd)
			close(s->fd);
		unlink(f->temp);
	}
	free(f->temp);
	free(f->target);
	free(f);
	return rc;
}

static struct ml_ostream *ostream_new(const char *name, int fd, struct file_sink *f,
				      struct ml_err *err)
{
	struct ml_ostream *s = ml_calloc(1, sizeof *s, err);
	if (!s)
		return NULL;
	if (!(s->name = ml_strdup(name, err))) {
		free(s);
		return NULL;
	}
	s->fd = fd;
	s->ctx = f;
	s->write = fd_write;
	s->close = fd_close_write;
	return s;
}

/* mkstemp gives 0600; give the file what open(0666) would have. */
static void chmod_like_open(int fd)
{
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
}

static int open_temp_beside(const char *path, struct file_sink *f, struct ml_err *err)
{
	struct ml_buf b;
	ml_buf_init(&b, PATH_MAX);
	const char *slash = strrchr(path, '/');
	int rc;
	if (slash)
		rc = ml_buf_printf(&b, "%.*s.%s.tmp-XXXXXX", (int)(slash - path + 1), path, slash + 1);
	else
		rc = ml_buf_printf(&b, ".%s.tmp-XXXXXX", path);
	if (rc < 0) {
		ml_buf_release(&b);
		return ml_err_set(err, ML_ERR_USAGE, "%s: path too long", path);
	}
	f->temp = ml_buf_detach(&b);
	int fd = mkostemp(f->temp, O_CLOEXEC);
	if (fd < 0) {
		ml_err_errno(err, errno, "%s: cannot create a temporary file beside it", path);
		free(f->temp);
		f->temp = NULL;
		return -1;
	}
	chmod_like_open(fd);
	return fd;
}

/*
 * Where an atomic write renames its temp file: the path itself, or for a
 * symlink the file it points to (the link stays a link).  Returns 1 when
 * the target exists and is not a regular file (a FIFO, /dev/stdout, a
 * device): such a target is written in place, since renaming over it would
 * replace it.  -1 on error.
 */
static int atomic_target(const char *path, char **target, struct ml_err *err)
{
	struct stat st, lst;
	*target = NULL;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return 1;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && (*target = realpath(path, NULL)))
		return 0;
	*target = ml_strdup(path, err);
	return *target ? 0 : -1;
}

static int open_plain(const char *uri, const char *path, enum ml_write_mode mode,
		      struct ml_err *err)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == ML_WRITE_APPEND ? O_APPEND : O_TRUNC);
	int fd = open(path, flags, 0666);
	if (fd < 0)
		ml_err_errno(err, errno, "%s: cannot open for writing", uri);
	return fd;
}

static struct ml_ostream *open_local_write(const char *uri, const char *path,
					   enum ml_write_mode mode, struct ml_err *err)
{
	struct file_sink *f = ml_calloc(1, sizeof *f, err);
	if (!f)
		return NULL;
	int fd, in_place = 1;
	const char *name = uri;
	if (strcmp(path, "-") == 0) {
		name = "<stdout>";
		fd = STDOUT_FILENO;
		in_place = 0;
	} else if (mode == ML_WRITE_ATOMIC && (in_place = atomic_target(path, &f->target, err)) < 0) {
		goto fail;
	}
	if (in_place == 0 && f->target)
		fd = open_temp_beside(f->target, f, err);
	else if (in_place)
		fd = open_plain(uri, path, mode, err);
	if (fd < 0)
		goto fail;
	f->owns_fd = fd != STDOUT_FILENO;
	struct ml_ostream *s = ostream_new(name, fd, f, err);
	if (s)
		return s;
	if (f->owns_fd)
		close(fd);
	if (f->temp)
		unlink(f->temp);
fail:
	free(f->temp);
	free(f->target);
	free(f);
	return NULL;
}

/* ---- memory ---- */

struct mem_source {
	const char *data;
	size_t len, pos;
};

static ssize_t mem_read(struct ml_istream *s, void *buf, size_t n, struct ml_err *err)
{
	(void)err;
	struct mem_source *m = s->ctx;
	size_t left = m->len - m->pos;
	if (n > left)
		n = left;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static void mem_close(struct ml_istream *s)
{
	free(s->ctx);
}

struct ml_istream *ml_istream_mem(const void *data, size_t len, const char *name, struct ml_err *err)
{
	struct ml_istream *s = istream_new(name, -1, err);
	struct mem_source *m = s ? ml_calloc(1, sizeof *m, err) : NULL;
	if (!m) {
		ml_istream_close(s);
		return NULL;
	}
	m->data = data;
	m->len = len;
	s->ctx = m;
	s->read = mem_read;
	s->close = mem_close;
	return s;
}

/* ---- public API ---- */

struct ml_istream *ml_open_read(const char *uri, struct ml_err *err)
{
	const char *path = ml_uri_local_path(uri);
	if (path)
		return open_local_read(uri, path, err);
	const struct ml_store_ops *ops = remote_store(uri, err);
	if (!ops)
		return NULL;
	if (!ops->open_read) {
		ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: this store cannot be read", uri);
		return NULL;
	}
	return ops->open_read(uri, err);
}

struct ml_ostream *ml_open_write(const char *uri, enum ml_write_mode mode, struct ml_err *err)
{
	const char *path = ml_uri_local_path(uri);
	if (path)
		return open_local_write(uri, path, mode, err);
	const struct ml_store_ops *ops = remote_store(uri, err);
	if (!ops)
		return NULL;
	if (!ops->open_write) {
		ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: this store cannot be written", uri);
		return NULL;
	}
	return ops->open_write(uri, (int)mode, err);
}

ssize_t ml_istream_read(struct ml_istream *s, void *buf, size_t n, struct ml_err *err)
{
	return s->read(s, buf, n, err);
}

void ml_istream_close(struct ml_istream *s)
{
	if (!s)
		return;
	if (s->close)
		s->close(s);
	free(s->name);
	free(s);
}

int ml_ostream_write(struct ml_ostream *s, const void *buf, size_t n, struct ml_err *err)
{
	return n ? s->write(s, buf, n, err) : 0;
}

int ml_ostream_close(struct ml_ostream *s, int commit, struct ml_err *err)
{
	if (!s)
		return 0;
	int rc = s->close ? s->close(s, commit, err) : 0;
	free(s->name);
	free(s);
	return rc;
}

/* Past the cap, one more byte tells "exactly cap bytes" from "too big". */
static int at_end(struct ml_istream *s, struct ml_err *err)
{
	char probe;
	ssize_t more = ml_istream_read(s, &probe, 1, err);
	return more < 0 ? -1 : more == 0;
}

char *ml_istream_slurp(struct ml_istream *s, size_t cap, size_t *len, struct ml_err *err)
{
	struct ml_buf b;
	ml_buf_init(&b, cap);
	for (;;) {
		/* reads grow with what was read: a 2 MB model in a handful of reads and reallocs */
		size_t room = cap - b.len, want = b.len > 65536 ? b.len : 65536, chunk = room < want ? room : want;
		if (chunk == 0) {
			int end = at_end(s, err);
			if (end < 0)
				goto fail;
			if (!end) {
				ml_err_set(err, ML_ERR_DATA, "%s: larger than the limit of %zu bytes",
					   s->name, cap);
				goto fail;
			}
			break;
		}
		if (ml_buf_grow(&b, chunk) < 0) {
			ml_err_set(err, ML_ERR_INTERNAL, "out of memory reading %s", s->name);
			goto fail;
		}
		ssize_t got = ml_istream_read(s, b.data + b.len, chunk, err);
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		b.len += (size_t)got;
	}
	if (b.data)
		b.data[b.len] = '\0';
	if (len)
		*len = b.len;
	char *data = ml_buf_detach(&b);
	if (!data)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory reading %s", s->name);
	return data;
fail:
	ml_buf_release(&b);
	return NULL;
}

char *ml_read_all(const char *uri, size_t cap, size_t *len, struct ml_err *err)
{
	struct ml_istream *s = ml_open_read(uri, err);
	if (!s)
		return NULL;
	char *data = ml_istream_slurp(s, cap, len, err);
	ml_istream_close(s);
	return data;
}

int ml_write_all_atomic(const char *uri, const void *data, size_t len, struct ml_err *err)
{
	struct ml_ostream *s = ml_open_write(uri, ML_WRITE_ATOMIC, err);
	if (!s)
		return -1;
	int ok = ml_ostream_write(s, data, len, err) == 0;
	int rc = ml_ostream_close(s, ok, ok ? err : NULL);
	return ok ? rc : -1;
}

int ml_ensure_dir(const char *path, struct ml_err *err)
{
	const char *local = ml_uri_local_path(path);
	if (!local)	/* a store's prefix: keys need no folder, but the store must exist */
		return remote_store(path, err) ? 0 : -1;
	path = local;
	struct stat st;
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : ml_err_set(err, ML_ERR_USAGE, "%s: not a directory", path);
	if (mkdir(path, 0777) < 0)
		return ml_err_errno(err, errno, "%s: cannot create the directory", path);
	return 0;
}

int ml_uri_is_remote(const char *uri)
{
	return ml_uri_local_path(uri) == NULL;
}

int ml_uri_join(char *buf, size_t bufsz, const char *dir, const char *name, struct ml_err *err)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	const char *sep = n && dir[n - 1] == '/' ? "" : "/";	/* "/" itself */
	int len = snprintf(buf, bufsz, "%.*s%s%s", (int)n, dir, sep, name);
	if (len < 0 || (size_t)len >= bufsz)
		return ml_err_set(err, ML_ERR_USAGE, "%s/%s: path too long", dir, name);
	return 0;
}

int ml_uri_list(const char *prefix, int (*fn)(const char *uri, void *arg), void *arg, struct ml_err *err)
{
	const struct ml_store_ops *ops = remote_store(prefix, err);
	if (!ops)
		return -1;
	if (ops->size < offsetof(struct ml_store_ops, list) + sizeof ops->list || !ops->list)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: this store cannot list objects", prefix);
	return ops->list(prefix, fn, arg, err);
}

/* ---- listing with lengths and ETags ---- */

struct uri_only {
	int (*fn)(const struct ml_store_object *o, void *arg);
	void *arg;
};

/* A store that lists URIs only: the object with its length unknown. */
static int object_of_uri(const char *uri, void *arg)
{
	const struct uri_only *u = arg;
	const struct ml_store_object o = { sizeof o, uri, ML_OBJECT_BYTES_UNKNOWN, NULL };
	return u->fn(&o, u->arg);
}

int ml_uri_list_objects(const char *prefix, int (*fn)(const struct ml_store_object *o, void *arg), void *arg,
			struct ml_err *err)
{
	const struct ml_store_ops *ops = remote_store(prefix, err);
	if (!ops)
		return -1;
	if (ops->size >= offsetof(struct ml_store_ops, list_objects) + sizeof ops->list_objects && ops->list_objects)
		return ops->list_objects(prefix, fn, arg, err);
	struct uri_only u = { fn, arg };
	return ml_uri_list(prefix, object_of_uri, &u, err);
}

struct object_info {
	const char *uri;
	uint64_t *bytes;
	char *etag;
	size_t etagsz;
};

static int object_info_match(const struct ml_store_object *o, void *arg)
{
	const struct object_info *want = arg;
	if (strcmp(o->uri, want->uri))
		return 0;	/* another key under the same prefix ("a.jsonl" lists "a.jsonl.1" too) */
	*want->bytes = o->bytes;
	snprintf(want->etag, want->etagsz, "%s", o->etag ? o->etag : "");
	return 1;
}

int ml_uri_object_info(const char *uri, uint64_t *bytes, char *etag, size_t etagsz, struct ml_err *err)
{
	struct object_info want = { uri, bytes, etag, etagsz };
	int rc = ml_uri_list_objects(uri, object_info_match, &want, err);
	if (rc < 0)
		return -1;
	return rc == 1 ? 0 : ml_err_set(err, ML_ERR_NOINPUT, "%s: no such object", uri);
}

int ml_err_not_found(const struct ml_err *err)
{
	return err->class == ML_ERR_NOINPUT &&
	       (strstr(err->msg, strerror(ENOENT)) || strstr(err->msg, ": NoSuchKey:") || strstr(err->msg, "HTTP 404 from"));
}
