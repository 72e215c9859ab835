/*
 * registry.c - the model registry (see registry.h for the layout and the
 * order of writes that keeps it consistent through a crash).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/cli.h"
#include "mlpipe/model.h"
#include "mlpipe/plugin.h"
#include "mlpipe/registry.h"
#include "mlpipe/uri.h"

/* As artifact.c: larger than any model we write. */
#define REGISTRY_MAX_BYTES ((size_t)1 << 30)
/* A baseline file (statistics.json, constraints.json) is far smaller. */
#define BASELINE_MAX_BYTES ((size_t)256 << 20)

struct reg {
	char root[PATH_MAX];	/* local path or URI prefix, without a trailing '/' */
	int local;
};

/*
 * Fault injection for tests: MLPIPE_REGISTRY_KILL_AT=STEP ends the process
 * with SIGKILL at that step of a registration (model-partial, files, index,
 * latest), as a crash or kill -9 would.
 */
static void crash_point(const char *step)
{
	const char *at = getenv("MLPIPE_REGISTRY_KILL_AT");
	if (at && strcmp(at, step) == 0)
		raise(SIGKILL);
}

static int reg_open(struct reg *r, const char *uri, struct ml_err *err)
{
	const char *local = ml_uri_local_path(uri);
	const char *root = local ? local : uri;
	if (!*root || strcmp(root, "-") == 0)
		return ml_err_set(err, ML_ERR_USAGE, "the registry must be a directory or a store URI, not \"%s\"",
				  uri);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	/* Room for "/<name>/<version>/baseline/<file name>" after it. */
	if (n >= sizeof r->root - 512)
		return ml_err_set(err, ML_ERR_USAGE, "%s: registry path too long", uri);
	memcpy(r->root, root, n);
	r->root[n] = '\0';
	r->local = local != NULL;
	return 0;
}

/* root/<rest>; paths are bounded by reg_open and the name's length. */
static void reg_path(const struct reg *r, char out[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reg_path(const struct reg *r, char out[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, PATH_MAX, "%s/", r->root);
	va_start(ap, fmt);
	vsnprintf(out + n, PATH_MAX - (size_t)n, fmt, ap);
	va_end(ap);
}

int ml_registry_check_name(const char *name, struct ml_err *err)
{
	size_t n = strlen(name);
	if (n == 0 || n >= ML_REGISTRY_NAME_MAX || name[0] == '.' || name[0] == '-')
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			goto bad;
	return 0;
bad:
	return ml_err_set(err, ML_ERR_USAGE,
			  "invalid model name \"%.140s\": use 1 to %d of A-Z, a-z, 0-9, '.', '_' and '-', "
			  "not starting with '.' or '-'",
			  name, ML_REGISTRY_NAME_MAX - 1);
}

static int parse_version(const char *s, long *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 1)
		return -1;
	*out = v;
	return 0;
}

int ml_registry_parse_ref(const char *text, struct ml_registry_ref *ref, struct ml_err *err)
{
	const char *at = strchr(text, '@');
	size_t n = at ? (size_t)(at - text) : strlen(text);
	memset(ref, 0, sizeof *ref);
	if (n >= sizeof ref->name)
		return ml_err_set(err, ML_ERR_USAGE, "model name too long in \"%.60s...\"", text);
	memcpy(ref->name, text, n);
	if (ml_registry_check_name(ref->name, err) < 0)
		return -1;
	ref->sel = ML_REGISTRY_LATEST;
	if (!at || strcmp(at + 1, "latest") == 0)
		return 0;
	if (strcmp(at + 1, "best") == 0) {
		ref->sel = ML_REGISTRY_BEST;
		return 0;
	}
	if (parse_version(at + 1, &ref->version) == 0) {
		ref->sel = ML_REGISTRY_VERSION;
		return 0;
	}
	return ml_err_set(err, ML_ERR_USAGE, "\"%s\": expected NAME, NAME@VERSION, NAME@latest or NAME@best",
			  text);
}

/* ---- reading ---- */

/* Does a document exist?  1 yes, 0 no, -1 error (remote: read it to know). */
static int local_exists(const char *path, struct ml_err *err)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return ml_err_errno(err, errno, "%s", path);
}

/*
 * Load a registry document: 1 loaded, 0 absent (err filled, NOINPUT), -1 error.
 * A remote store says "absent" by a NOINPUT error.
 */
static int load_doc(const struct reg *r, const char *path, const char *format, json_t **out,
		    struct ml_err *err)
{
	*out = NULL;
	if (r->local) {
		int e = local_exists(path, err);
		if (e <= 0) {
			if (e == 0)
				ml_err_set(err, ML_ERR_NOINPUT, "%s: no such file", path);
			return e;
		}
	}
	struct ml_err e2 = ML_ERR_INIT;
	*out = ml_artifact_load(path, format, ML_REGISTRY_MAJOR, 1, NULL, &e2);
	if (*out)
		return 1;
	if (err)
		*err = e2;
	return !r->local && e2.class == ML_ERR_NOINPUT ? 0 : -1;
}

static long entry_version(const json_t *e)
{
	json_t *v = json_object_get(e, "version");
	return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

static int is_sha256(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

/* A relative file name inside a version: no "..", no absolute path, no empty part. */
static int safe_relpath(const char *p)
{
	if (!*p || *p == '/' || strlen(p) > 255)
		return 0;
	for (const char *s = p; *s; ) {
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);
		if (n == 0 || (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.'))))
			return 0;
		s += n + (slash ? 1 : 0);
	}
	return 1;
}

/* An index is untrusted: versions ascending, each with a digest and safe file names. */
static int check_index(const json_t *idx, const char *name, const char *path, struct ml_err *err)
{
	const char *got = json_string_value(json_object_get(idx, "name"));
	json_t *versions = json_object_get(idx, "versions");
	if (!got || strcmp(got, name) != 0)
		return ml_err_set(err, ML_ERR_DATA, "%s: \"name\" is not \"%s\"", path, name);
	if (!json_is_array(versions))
		return ml_err_set(err, ML_ERR_DATA, "%s: \"versions\" is not an array", path);
	long prev = 0;
	size_t i;
	json_t *e;
	json_array_foreach(versions, i, e) {
		long v = entry_version(e);
		json_t *files = json_object_get(e, "files");
		const char *f;
		json_t *d;
		if (v <= prev)
			return ml_err_set(err, ML_ERR_DATA, "%s: versions[%zu]: \"version\" must be a whole number above %ld",
					  path, i, prev);
		if (!is_sha256(json_string_value(json_object_get(e, "sha256"))))
			return ml_err_set(err, ML_ERR_DATA, "%s: version %ld: \"sha256\" is not 64 hex digits", path, v);
		if (!json_is_object(files))
			return ml_err_set(err, ML_ERR_DATA, "%s: version %ld: \"files\" is not an object", path, v);
		json_object_foreach(files, f, d)
			if (!safe_relpath(f) || !is_sha256(json_string_value(d)))
				return ml_err_set(err, ML_ERR_DATA, "%s: version %ld: bad file entry \"%.100s\"", path, v, f);
		prev = v;
	}
	return 0;
}

static int load_index(const struct reg *r, const char *name, json_t **idx, struct ml_err *err)
{
	char path[PATH_MAX];
	reg_path(r, path, "%s/index.json", name);
	int rc = load_doc(r, path, ML_REGISTRY_INDEX_FORMAT, idx, err);
	if (rc == 0)
		ml_err_set(err, ML_ERR_NOINPUT, "%s: no model named \"%s\" in the registry", r->root, name);
	if (rc == 1 && check_index(*idx, name, path, err) < 0) {
		json_decref(*idx);
		*idx = NULL;
		return -1;
	}
	return rc;
}

static json_t *find_version(const json_t *idx, long v)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(idx, "versions"), i, e)
		if (entry_version(e) == v)
			return e;
	return NULL;
}

/* A pointer's version, checked against the index: 1, 0 absent, -1 damaged. */
static int load_pointer(const struct reg *r, const char *name, const char *which, const json_t *idx,
			long *version, struct ml_err *err)
{
	char path[PATH_MAX];
	json_t *p;
	reg_path(r, path, "%s/%s", name, which);
	int rc = load_doc(r, path, ML_REGISTRY_POINTER_FORMAT, &p, err);
	if (rc <= 0) {
		if (rc == 0)
			ml_err_set(err, ML_ERR_NOINPUT, "%s: \"%s\" has no %s version", r->root, name, which);
		return rc;
	}
	long v = entry_version(p);
	const json_t *e = find_version(idx, v);
	const char *want = json_string_value(json_object_get(p, "model_sha256"));
	const char *have = e ? json_string_value(json_object_get(e, "sha256")) : NULL;
	int same = want && have && strcmp(want, have) == 0;
	json_decref(p);
	if (!e)
		return ml_err_set(err, ML_ERR_DATA, "%s: names version %ld, which is not in %s/index.json", path, v,
				  name);
	if (!same)
		return ml_err_set(err, ML_ERR_DATA, "%s: its model_sha256 differs from version %ld's in index.json",
				  path, v);
	*version = v;
	return 1;
}

/* Copy of an index entry with "name", "uri", "latest", "best" added. */
static json_t *describe(const struct reg *r, const char *name, const json_t *e, long latest, long best)
{
	char uri[PATH_MAX];
	long v = entry_version(e);
	reg_path(r, uri, "%s/%ld/model.json", name, v);
	json_t *d = json_deep_copy(e);
	json_object_set_new(d, "name", json_string(name));
	json_object_set_new(d, "uri", json_string(uri));
	json_object_set_new(d, "latest", json_boolean(v == latest));
	json_object_set_new(d, "best", json_boolean(v == best));
	return d;
}

/* Both pointers (0 when absent). */
static int load_pointers(const struct reg *r, const char *name, const json_t *idx, long *latest, long *best,
			 struct ml_err *err)
{
	*latest = *best = 0;
	if (load_pointer(r, name, "latest", idx, latest, err) < 0 || load_pointer(r, name, "best", idx, best, err) < 0)
		return -1;
	ml_err_clear(err);
	return 0;
}

int ml_registry_resolve(const char *registry, const struct ml_registry_ref *ref, json_t **entry,
			struct ml_err *err)
{
	struct reg r;
	json_t *idx = NULL;
	long latest, best, v = ref->version;
	int rc = -1;
	*entry = NULL;
	if (reg_open(&r, registry, err) < 0 || (rc = load_index(&r, ref->name, &idx, err)) <= 0)
		return rc == 0 ? 0 : -1;
	rc = load_pointers(&r, ref->name, idx, &latest, &best, err) < 0 ? -1 : 1;
	if (rc == 1 && ref->sel != ML_REGISTRY_VERSION) {
		const char *which = ref->sel == ML_REGISTRY_BEST ? "best" : "latest";
		v = ref->sel == ML_REGISTRY_BEST ? best : latest;
		if (!v) {
			ml_err_set(err, ML_ERR_NOINPUT, "%s: \"%s\" has no %s version", r.root, ref->name, which);
			rc = 0;
		}
	}
	const json_t *e = rc == 1 ? find_version(idx, v) : NULL;
	if (rc == 1 && !e) {
		ml_err_set(err, ML_ERR_NOINPUT, "%s: \"%s\" has no version %ld", r.root, ref->name, v);
		rc = 0;
	}
	if (e)
		*entry = describe(&r, ref->name, e, latest, best);
	json_decref(idx);
	return rc;
}

json_t *ml_registry_index(const char *registry, const char *name, struct ml_err *err)
{
	struct reg r;
	json_t *idx = NULL;
	if (ml_registry_check_name(name, err) < 0 || reg_open(&r, registry, err) < 0)
		return NULL;
	load_index(&r, name, &idx, err);
	return idx;
}

static json_t *summary(const struct reg *r, const char *name, struct ml_err *err)
{
	json_t *idx = NULL;
	long latest, best;
	if (load_index(r, name, &idx, err) <= 0)
		return NULL;
	json_t *s = NULL;
	if (load_pointers(r, name, idx, &latest, &best, err) == 0)
		s = json_pack("{s:s, s:I, s:o, s:o}", "name", name, "versions",
			      (json_int_t)json_array_size(json_object_get(idx, "versions")), "latest",
			      latest ? json_integer(latest) : json_null(), "best", best ? json_integer(best) : json_null());
	json_decref(idx);
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Local names: subdirectories holding an index.json. */
static int local_names(const struct reg *r, struct ml_strlist *names, struct ml_err *err)
{
	DIR *d = opendir(r->root);
	if (!d)
		return errno == ENOENT ? ml_err_set(err, ML_ERR_NOINPUT, "%s: no such registry", r->root)
				       : ml_err_errno(err, errno, "%s", r->root);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		if (ml_registry_check_name(de->d_name, NULL) < 0)
			continue;
		reg_path(r, path, "%s/index.json", de->d_name);
		if (access(path, F_OK) == 0)
			rc = ml_strlist_push(names, de->d_name, err);
	}
	closedir(d);
	return rc;
}

struct remote_list {
	const char *prefix;
	struct ml_strlist *names;
	struct ml_err *err;
};

static int remote_name(const char *uri, void *arg)
{
	struct remote_list *l = arg;
	size_t n = strlen(l->prefix);
	if (strncmp(uri, l->prefix, n) != 0)
		return 0;
	const char *rest = uri + n, *slash = strchr(rest, '/');
	if (!slash || strcmp(slash, "/index.json") != 0 || (size_t)(slash - rest) >= ML_REGISTRY_NAME_MAX)
		return 0;
	char name[ML_REGISTRY_NAME_MAX];
	memcpy(name, rest, (size_t)(slash - rest));
	name[slash - rest] = '\0';
	if (ml_registry_check_name(name, NULL) < 0)
		return 0;
	return ml_strlist_push(l->names, name, l->err);
}

static int remote_names(const struct reg *r, struct ml_strlist *names, struct ml_err *err)
{
	char scheme[32], prefix[PATH_MAX];
	if (!ml_uri_scheme(r->root, scheme, sizeof scheme))
		return ml_err_set(err, ML_ERR_USAGE, "%s: not a URI", r->root);
	const struct ml_plugin *p = ml_plugin_load(ML_PLUGIN_STORE, scheme, err);
	if (!p)
		return -1;
	const struct ml_store_ops *ops = p->ops.store;
	if (!ops || ops->size < offsetof(struct ml_store_ops, list) + sizeof ops->list || !ops->list)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "the %s store plugin cannot list objects", scheme);
	reg_path(r, prefix, "%s", "");
	struct remote_list l = { prefix, names, err };
	return ops->list(prefix, remote_name, &l, err);
}

json_t *ml_registry_names(const char *registry, struct ml_err *err)
{
	struct reg r;
	struct ml_strlist names = { 0 };
	json_t *out = NULL;
	if (reg_open(&r, registry, err) < 0)
		return NULL;
	if ((r.local ? local_names(&r, &names, err) : remote_names(&r, &names, err)) < 0)
		goto out_names;
	if (names.n)
		qsort(names.items, names.n, sizeof *names.items, cmp_str);
	out = json_array();
	for (size_t i = 0; i < names.n; i++) {
		json_t *s = summary(&r, names.items[i], err);
		if (!s) {
			json_decref(out);
			out = NULL;
			break;
		}
		json_array_append_new(out, s);
	}
out_names:
	ml_strlist_clear(&names);
	return out;
}

/* ---- verifying ---- */

static char *read_verified(const char *path, const char *want, size_t cap, size_t *len, struct ml_err *err)
{
	char have[ML_SHA256_HEX];
	char *data = ml_read_all(path, cap, len, err);
	if (!data)
		return NULL;
	if (ml_sha256_hex(data, *len, have, err) < 0) {
		free(data);
		return NULL;
	}
	if (strcmp(have, want) != 0) {
		ml_err_set(err, ML_ERR_DATA, "%s: SHA-256 mismatch: the registry says %s, the file has %s", path, want,
			   have);
		free(data);
		return NULL;
	}
	return data;
}

char *ml_registry_verified_uri(const json_t *entry, struct ml_err *err)
{
	const char *uri = json_string_value(json_object_get(entry, "uri"));
	const char *want = json_string_value(json_object_get(entry, "sha256"));
	size_t len;
	if (!uri || !want)
		return NULL;
	char *data = read_verified(uri, want, REGISTRY_MAX_BYTES, &len, err);
	free(data);
	return data ? ml_strdup(uri, err) : NULL;
}

static int write_out(const char *uri, const void *data, size_t len, struct ml_err *err)
{
	if (strcmp(uri, "-") != 0)
		return ml_write_all_atomic(uri, data, len, err);
	struct ml_ostream *s = ml_open_write(uri, ML_WRITE_TRUNCATE, err);
	if (!s)
		return -1;
	int ok = ml_ostream_write(s, data, len, err) == 0;
	int rc = ml_ostream_close(s, ok, ok ? err : NULL);
	return ok ? rc : -1;
}

/* Make the directories of rel (a path with '/') under dir. */
static int ensure_parents(const char *dir, const char *rel, struct ml_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		int rc = ml_ensure_dir(path, err);
		*s = '/';
		if (rc < 0)
			return -1;
	}
	return 0;
}

int ml_registry_fetch(const char *registry, const struct ml_registry_ref *ref, const char *out,
		      const char *baseline_out, json_t **entry_out, struct ml_err *err)
{
	json_t *entry = NULL;
	char *data = NULL;
	size_t len;
	int rc = ml_registry_resolve(registry, ref, &entry, err);
	if (rc <= 0)
		return -1;
	rc = -1;
	const char *uri = json_string_value(json_object_get(entry, "uri"));
	const char *want = json_string_value(json_object_get(entry, "sha256"));
	if (!(data = read_verified(uri, want, REGISTRY_MAX_BYTES, &len, err)))
		goto out_entry;
	if (baseline_out) {
		struct reg r;
		const char *f;
		json_t *d;
		int n = 0;
		if (reg_open(&r, registry, err) < 0 || ml_ensure_dir(baseline_out, err) < 0)
			goto out_data;
		json_object_foreach(json_object_get(entry, "files"), f, d) {
			char src[PATH_MAX], dst[PATH_MAX];
			size_t blen;
			if (strncmp(f, "baseline/", 9) != 0)
				continue;
			reg_path(&r, src, "%s/%ld/%s", ref->name, entry_version(entry), f);
			snprintf(dst, sizeof dst, "%s/%s", baseline_out, f + 9);
			char *b = read_verified(src, json_string_value(d), BASELINE_MAX_BYTES, &blen, err);
			int ok = b && ensure_parents(baseline_out, f + 9, err) == 0 &&
				 ml_write_all_atomic(dst, b, blen, err) == 0;
			free(b);
			if (!ok)
				goto out_data;
			n++;
		}
		if (n == 0) {
			ml_err_set(err, ML_ERR_NOINPUT, "%s@%ld has no baseline files", ref->name, entry_version(entry));
			goto out_data;
		}
	}
	if (write_out(out, data, len, err) < 0)
		goto out_data;
	rc = 0;
out_data:
	free(data);
out_entry:
	if (rc == 0 && entry_out)
		*entry_out = entry;
	else
		json_decref(entry);
	return rc;
}

/* ---- writing ---- */

/* Serialise the writers of one name in a local registry (released at close or exit). */
static int lock_name(const struct reg *r, const char *name, int *fd, struct ml_err *err)
{
	char path[PATH_MAX];
	*fd = -1;
	if (!r->local)
		return 0;
	reg_path(r, path, "%s/.lock", name);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (*fd < 0)
		return ml_err_errno(err, errno, "%s: cannot open the lock file", path);
	while (flock(*fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			ml_err_errno(err, errno, "%s: cannot lock", path);
			close(*fd);
			*fd = -1;
			return -1;
		}
	return 0;
}

static void unlock_name(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A version directory no index names (left by a crash): removed before reuse. */
static int clear_orphan(const struct reg *r, const char *name, long v, struct ml_err *err)
{
	char path[PATH_MAX];
	if (!r->local)
		return 0;
	reg_path(r, path, "%s/%ld", name, v);
	int e = local_exists(path, err);
	if (e <= 0)
		return e;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return ml_err_errno(err, errno, "%s: cannot remove an unfinished version left by a crash", path);
	return 0;
}

/* Temp files of atomic writes a crash left in <name>/ (".index.json.tmp-XXXXXX"). */
static void clear_temp_files(const struct reg *r, const char *name)
{
	char dir[PATH_MAX];
	if (!r->local)
		return;
	reg_path(r, dir, "%s", name);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		if (de->d_name[0] != '.' || !strstr(de->d_name, ".tmp-"))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
			(void)unlink(path);
	}
	if (d)
		closedir(d);
}

static int fsync_dir(const struct reg *r, const char *path, struct ml_err *err)
{
	if (!r->local)
		return 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ml_err_errno(err, errno, "%s", path);
	int rc = fsync(fd) < 0 && errno != EINVAL ? ml_err_errno(err, errno, "%s: fsync", path) : 0;
	close(fd);
	return rc;
}

/* Write a model's bytes in two halves, so a test can kill the process between them. */
static int write_model_bytes(const char *path, const char *data, size_t len, struct ml_err *err)
{
	struct ml_ostream *s = ml_open_write(path, ML_WRITE_ATOMIC, err);
	if (!s)
		return -1;
	int ok = ml_ostream_write(s, data, len / 2, err) == 0;
	if (ok)
		crash_point("model-partial");
	ok = ok && ml_ostream_write(s, data + len / 2, len - len / 2, err) == 0;
	int rc = ml_ostream_close(s, ok, ok ? err : NULL);
	return ok ? rc : -1;
}

static int add_file_digest(json_t *files, const char *rel, const void *data, size_t len, struct ml_err *err)
{
	char d[ML_SHA256_HEX];
	if (ml_sha256_hex(data, len, d, err) < 0)
		return -1;
	return json_object_set_new(files, rel, json_string(d)) < 0 ? ml_err_set(err, ML_ERR_INTERNAL, "out of memory")
								     : 0;
}

/* Copy the regular files of a local baseline directory (ml-baseline's output) to <v>/baseline/. */
static int copy_baseline(const struct reg *r, const char *name, long v, const char *dir, json_t *files,
			 struct ml_err *err)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort), copied = 0, rc = 0;
	if (n < 0)
		return ml_err_errno(err, errno, "%s: cannot read the baseline directory", dir);
	if (r->local) {
		char bdir[PATH_MAX];
		reg_path(r, bdir, "%s/%ld/baseline", name, v);
		rc = ml_ensure_dir(bdir, err);
	}
	for (int i = 0; i < n; i++) {
		char src[PATH_MAX], dst[PATH_MAX], rel[PATH_MAX];
		struct stat st;
		size_t len;
		if (rc == 0 && list[i]->d_name[0] != '.' &&
		    snprintf(src, sizeof src, "%s/%s", dir, list[i]->d_name) < (int)sizeof src && stat(src, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			snprintf(rel, sizeof rel, "baseline/%s", list[i]->d_name);
			reg_path(r, dst, "%s/%ld/%s", name, v, rel);
			char *data = ml_read_all(src, BASELINE_MAX_BYTES, &len, err);
			if (!data || ml_write_all_atomic(dst, data, len, err) < 0 ||
			    add_file_digest(files, rel, data, len, err) < 0)
				rc = -1;
			free(data);
			copied++;
		}
		free(list[i]);
	}
	free(list);
	if (rc == 0 && copied == 0)
		rc = ml_err_set(err, ML_ERR_NOINPUT, "%s: no files in the baseline directory", dir);
	return rc;
}

/* The version's files; fills the entry's "sha256", "bytes" and "files". */
static int write_version(const struct reg *r, const struct ml_registry_push *p, long v, json_t *entry,
			 struct ml_err *err)
{
	char path[PATH_MAX];
	char *data = NULL;
	size_t len;
	json_t *files = json_object();
	int rc = -1;
	json_object_set_new(entry, "files", files);
	if (clear_orphan(r, p->name, v, err) < 0)
		return -1;
	if (r->local) {
		reg_path(r, path, "%s/%ld", p->name, v);
		if (ml_ensure_dir(path, err) < 0)
			return -1;
	}
	reg_path(r, path, "%s/%ld/model.json", p->name, v);
	if (p->model_doc) {
		if (ml_artifact_save(p->model_doc, ML_MODEL_FORMAT, ML_MODEL_MAJOR, path, err) < 0 ||
		    !(data = ml_read_all(path, REGISTRY_MAX_BYTES, &len, err)))
			return -1;
	} else if (!(data = ml_read_all(p->model_uri, REGISTRY_MAX_BYTES, &len, err)) ||
		   write_model_bytes(path, data, len, err) < 0) {
		goto out_data;
	}
	if (add_file_digest(files, "model.json", data, len, err) < 0)
		goto out_data;
	json_object_set(entry, "sha256", json_object_get(files, "model.json"));
	json_object_set_new(entry, "bytes", json_integer((json_int_t)len));
	if (p->baseline_dir && copy_baseline(r, p->name, v, p->baseline_dir, files, err) < 0)
		goto out_data;
	reg_path(r, path, "%s/%ld", p->name, v);
	if (fsync_dir(r, path, err) < 0)
		goto out_data;
	reg_path(r, path, "%s", p->name);
	if (fsync_dir(r, path, err) < 0)	/* the version directory's own entry */
		goto out_data;
	rc = 0;
out_data:
	free(data);
	return rc;
}

static int save_pointer(const struct reg *r, const char *name, const char *which, const json_t *entry,
			struct ml_err *err)
{
	char path[PATH_MAX];
	reg_path(r, path, "%s/%s", name, which);
	json_t *p = json_pack("{s:s, s:s, s:I, s:O}", "name", name, "pointer", which, "version",
			      (json_int_t)entry_version(entry), "model_sha256", json_object_get(entry, "sha256"));
	json_t *m = json_object_get(entry, "metrics");
	if (m)
		json_object_set(p, "metrics", m);
	int rc = p ? ml_artifact_save(p, ML_REGISTRY_POINTER_FORMAT, ML_REGISTRY_MAJOR, path, err)
		   : ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	json_decref(p);
	return rc;
}

static json_t *new_entry(const struct ml_registry_push *p, long v, struct ml_err *err)
{
	char now[32];
	ml_utc_now_iso8601(now);
	json_t *e = json_pack("{s:I, s:s, s:s}", "version", (json_int_t)v, "created", now, "status",
			      p->status ? p->status : "registered");
	if (!e) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (p->source)
		json_object_set_new(e, "source", json_string(p->source));
	if (p->gate)
		json_object_set(e, "gate", (json_t *)p->gate);
	return e;
}

/* The model's algorithm and metrics for the index (it was loaded, so it is a model). */
static int describe_model(const struct ml_registry_push *p, json_t *e, struct ml_err *err)
{
	struct ml_model *m = NULL;
	const json_t *doc = p->model_doc;
	if (!doc) {
		if (!(m = ml_model_load_features(p->model_uri, NULL, err)))
			return -1;
		doc = m->doc;
	}
	json_t *alg = json_object_get(doc, "algorithm"), *metrics = json_object_get(doc, "metrics");
	if (json_is_string(alg))
		json_object_set(e, "algorithm", alg);
	if (json_is_object(metrics))
		json_object_set(e, "metrics", metrics);
	ml_model_free(m);
	return 0;
}

json_t *ml_registry_push(const char *registry, const struct ml_registry_push *p, struct ml_err *err)
{
	struct reg r;
	char path[PATH_MAX];
	json_t *idx = NULL, *entry = NULL, *out = NULL;
	long latest = 0, best = 0;
	int lock = -1, rc;
	if (ml_registry_check_name(p->name, err) < 0 || reg_open(&r, registry, err) < 0)
		return NULL;
	if ((!p->model_doc) == (!p->model_uri)) {
		ml_err_set(err, ML_ERR_INTERNAL, "ml_registry_push: give one of model_uri and model_doc");
		return NULL;
	}
	if (r.local) {
		reg_path(&r, path, "%s", p->name);
		if (ml_ensure_dir(r.root, err) < 0 || ml_ensure_dir(path, err) < 0)
			return NULL;
	}
	if (lock_name(&r, p->name, &lock, err) < 0)
		return NULL;
	clear_temp_files(&r, p->name);
	if ((rc = load_index(&r, p->name, &idx, err)) < 0)
		goto out_unlock;
	if (rc == 0) {
		ml_err_clear(err);
		idx = json_pack("{s:s, s:[]}", "name", p->name, "versions");
	} else if (load_pointers(&r, p->name, idx, &latest, &best, err) < 0) {
		goto out_unlock;
	}
	if (p->best == ML_REGISTRY_BEST_ALWAYS && best != p->beaten) {
		ml_err_set(err, ML_ERR_TEMPFAIL, "%s: the best \"%s\" is version %ld now, not %ld as when compared: "
			   "compare again", r.root, p->name, best, p->beaten);
		goto out_unlock;
	}
	json_t *versions = json_object_get(idx, "versions");
	size_t nv = json_array_size(versions);
	long v = nv ? entry_version(json_array_get(versions, nv - 1)) + 1 : 1;
	if (!(entry = new_entry(p, v, err)) || describe_model(p, entry, err) < 0 ||
	    write_version(&r, p, v, entry, err) < 0)
		goto out_unlock;
	crash_point("files");
	char now[32];
	ml_utc_now_iso8601(now);
	json_array_append(versions, entry);
	json_object_set_new(idx, "updated", json_string(now));
	reg_path(&r, path, "%s/index.json", p->name);
	if (ml_artifact_save(idx, ML_REGISTRY_INDEX_FORMAT, ML_REGISTRY_MAJOR, path, err) < 0)
		goto out_unlock;
	crash_point("index");
	if (save_pointer(&r, p->name, "latest", entry, err) < 0)
		goto out_unlock;
	crash_point("latest");
	int make_best = p->best == ML_REGISTRY_BEST_ALWAYS || !best;
	if (make_best && save_pointer(&r, p->name, "best", entry, err) < 0)
		goto out_unlock;
	out = json_pack("{s:s, s:I, s:O, s:s, s:b, s:b}", "name", p->name, "version", (json_int_t)v, "sha256",
			json_object_get(entry, "sha256"), "uri", "", "latest", 1, "best", make_best);
	reg_path(&r, path, "%s/%ld/model.json", p->name, v);
	json_object_set_new(out, "uri", json_string(path));
out_unlock:
	unlock_name(lock);
	json_decref(entry);
	json_decref(idx);
	return out;
}

json_t *ml_registry_promote(const char *registry, const char *name, long version, struct ml_err *err)
{
	struct reg r;
	char path[PATH_MAX];
	json_t *idx = NULL, *out = NULL;
	long latest, best;
	int lock = -1, rc;
	if (ml_registry_check_name(name, err) < 0 || reg_open(&r, registry, err) < 0)
		return NULL;
	if (r.local) {
		reg_path(&r, path, "%s/index.json", name);
		if ((rc = local_exists(path, err)) <= 0) {
			if (rc == 0)
				ml_err_set(err, ML_ERR_NOINPUT, "%s: no model named \"%s\" in the registry", r.root, name);
			return NULL;
		}
	}
	if (lock_name(&r, name, &lock, err) < 0)
		return NULL;
	if (load_index(&r, name, &idx, err) <= 0 || load_pointers(&r, name, idx, &latest, &best, err) < 0)
		goto out_unlock;
	const json_t *e = find_version(idx, version);
	if (!e) {
		ml_err_set(err, ML_ERR_NOINPUT, "%s: \"%s\" has no version %ld", r.root, name, version);
		goto out_unlock;
	}
	if (save_pointer(&r, name, "best", e, err) < 0)
		goto out_unlock;
	reg_path(&r, path, "%s/%ld/model.json", name, version);
	out = json_pack("{s:s, s:I, s:O, s:s, s:b, s:b}", "name", name, "version", (json_int_t)version, "sha256",
			json_object_get(e, "sha256"), "uri", path, "latest", version == latest, "best", 1);
out_unlock:
	unlock_name(lock);
	json_decref(idx);
	return out;
}
