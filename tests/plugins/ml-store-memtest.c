/*
 * ml-store-memtest.c - a store for "memtest://" URIs kept in memory, so
 * test_plugin.c can drive uri.c through a real dlopen()ed store plugin.
 *
 * Objects live in a table sorted by URI until fini().  As with a real store,
 * a write becomes visible only when its stream is closed with commit = 1.
 * Streams are allocated with malloc() because uri.c frees the struct and its
 * name after calling our close().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/buf.h"
#include "mlpipe/plugin.h"
#include "mlpipe/uri.h"

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void);

#define OBJECT_CAP (16u << 20)

struct object {
	char *uri;
	char *data;		/* always allocated, even when empty */
	size_t len;
};

static struct object *objects;
static size_t nobjects;

/* Where uri is in the table, or where it would go; *found says which. */
static size_t find(const char *uri, int *found)
{
	size_t lo = 0, hi = nobjects;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(objects[mid].uri, uri);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

/* Store data (taken over) under uri, replacing what was there. */
static int put(const char *uri, char *data, size_t len, struct ml_err *err)
{
	int found;
	size_t i = find(uri, &found);
	if (found) {
		free(objects[i].data);
		objects[i].data = data;
		objects[i].len = len;
		return 0;
	}
	struct object *grown = realloc(objects, (nobjects + 1) * sizeof *grown);
	char *key = strdup(uri);
	if (grown)
		objects = grown;
	if (!grown || !key) {
		free(key);
		free(data);
		return ml_err_set(err, ML_ERR_INTERNAL, "%s: out of memory", uri);
	}
	memmove(objects + i + 1, objects + i, (nobjects - i) * sizeof *objects);
	objects[i] = (struct object){ key, data, len };
	nobjects++;
	return 0;
}

/* ---- reading: a snapshot, so a later write does not change an open stream ---- */

struct reader {
	char *data;
	size_t len, pos;
};

static ssize_t mem_read(struct ml_istream *s, void *buf, size_t n, struct ml_err *err)
{
	struct reader *r = s->ctx;
	(void)err;
	if (n > r->len - r->pos)
		n = r->len - r->pos;
	if (n)
		memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

static void mem_close_read(struct ml_istream *s)
{
	struct reader *r = s->ctx;
	free(r->data);
	free(r);
}

static struct ml_istream *mem_open_read(const char *uri, struct ml_err *err)
{
	int found;
	size_t i = find(uri, &found);
	if (!found) {
		ml_err_set(err, ML_ERR_NOINPUT, "%s: no such object", uri);
		return NULL;
	}
	struct ml_istream *s = calloc(1, sizeof *s);
	struct reader *r = calloc(1, sizeof *r);
	char *name = strdup(uri), *data = malloc(objects[i].len + 1);
	if (!s || !r || !name || !data) {
		free(s);
		free(r);
		free(name);
		free(data);
		ml_err_set(err, ML_ERR_INTERNAL, "%s: out of memory", uri);
		return NULL;
	}
	memcpy(data, objects[i].data, objects[i].len);
	*r = (struct reader){ data, objects[i].len, 0 };
	*s = (struct ml_istream){
		.read = mem_read, .close = mem_close_read, .name = name, .fd = -1, .ctx = r,
	};
	return s;
}

/* ---- writing: buffered until a committing close ---- */

static int mem_write(struct ml_ostream *s, const void *buf, size_t n, struct ml_err *err)
{
	if (ml_buf_add(s->ctx, buf, n) < 0)
		return ml_err_errno(err, errno, "%s: write failed", s->name);
	return 0;
}

static int mem_close_write(struct ml_ostream *s, int commit, struct ml_err *err)
{
	struct ml_buf *b = s->ctx;
	int rc = 0;
	if (commit) {
		size_t len = b->len;
		rc = put(s->name, ml_buf_detach(b), len, err);
	}
	ml_buf_release(b);
	free(b);
	return rc;
}

static struct ml_ostream *mem_open_write(const char *uri, int mode, struct ml_err *err)
{
	struct ml_ostream *s = calloc(1, sizeof *s);
	struct ml_buf *b = malloc(sizeof *b);
	char *name = strdup(uri);
	int found;
	size_t i = find(uri, &found);
	if (b)
		ml_buf_init(b, OBJECT_CAP);
	/* Appending starts from what is there; the commit replaces it whole. */
	int append = mode == ML_WRITE_APPEND && found;
	if (!s || !b || !name || (append && ml_buf_add(b, objects[i].data, objects[i].len) < 0)) {
		if (b)
			ml_buf_release(b);
		free(s);
		free(b);
		free(name);
		ml_err_set(err, ML_ERR_INTERNAL, "%s: out of memory", uri);
		return NULL;
	}
	*s = (struct ml_ostream){
		.write = mem_write, .close = mem_close_write, .name = name, .fd = -1, .ctx = b,
	};
	return s;
}

/* ---- listing and removal ---- */

static int mem_list(const char *prefix, int (*fn)(const char *uri, void *arg), void *arg,
		    struct ml_err *err)
{
	size_t n = strlen(prefix);
	(void)err;
	for (size_t i = 0; i < nobjects; i++) {
		if (strncmp(objects[i].uri, prefix, n) != 0)
			continue;
		int rc = fn(objects[i].uri, arg);
		if (rc)
			return rc;
	}
	return 0;
}

static int mem_remove(const char *uri, struct ml_err *err)
{
	int found;
	size_t i = find(uri, &found);
	if (!found)
		return ml_err_set(err, ML_ERR_NOINPUT, "%s: no such object", uri);
	free(objects[i].uri);
	free(objects[i].data);
	memmove(objects + i, objects + i + 1, (nobjects - i - 1) * sizeof *objects);
	nobjects--;
	return 0;
}

/* Free the table, so the host's leak checker sees nothing of ours. */
static void memtest_fini(void)
{
	for (size_t i = 0; i < nobjects; i++) {
		free(objects[i].uri);
		free(objects[i].data);
	}
	free(objects);
	objects = NULL;
	nobjects = 0;
}

static const struct ml_store_ops ops = {
	.size = sizeof ops,
	.open_read = mem_open_read,
	.open_write = mem_open_write,
	.list = mem_list,
	.remove = mem_remove,
};

static const struct ml_plugin plugin = {
	.abi = ML_PLUGIN_ABI,
	.size = sizeof plugin,
	.kind = ML_PLUGIN_STORE,
	.name = "memtest",
	.version = "0.1",
	.description = "in-memory store for tests (memtest://)",
	.fini = memtest_fini,
	.ops.store = &ops,
};

ML_PLUGIN_EXPORT const struct ml_plugin *ml_plugin_entry(void)
{
	return &plugin;
}
