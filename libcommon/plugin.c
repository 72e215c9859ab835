/*
 * plugin.c - find, check and load plugins (plugin.h, DESIGN.md section 4).
 *
 * Loading follows collectd's plugin_load and redis's moduleLoad: the exact
 * file name ml-<kind>-<name>.so in a trusted directory, lstat() before
 * dlopen(), and abi, size, kind and name checked before anything but the
 * entry point runs.  Every refusal says which file and what to do.
 *
 * The search path, first match wins:
 *   1. directories from ml_plugin_add_dir() (--plugin-dir), in the order
 *      they were added: "--plugin-dir A --plugin-dir B" searches A first;
 *   2. MLPIPE_PLUGIN_PATH, colon-separated (relative entries skipped);
 *   3. <dir of executable>/../lib/mlpipe/plugins (a build tree, uninstalled);
 *   4. MLPIPE_PLUGINDIR, the installed directory.
 * The first directory that holds a candidate decides: a refused candidate is
 * reported, not skipped in favour of a later one, so what runs never depends
 * on which copy happens to be broken.
 *
 * Not thread-safe: filters load plugins while starting, before any threads.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlpipe/log.h"
#include "mlpipe/plugin.h"
#include "mlpipe/progress.h"
#include "mlpipe/uri.h"

#ifndef MLPIPE_PLUGINDIR
#define MLPIPE_PLUGINDIR "/usr/local/lib/mlpipe/plugins"
#endif

#define PLUGIN_NAME_MAX 64
/* Every ABI-1 plugin has at least the fields up to and including ops. */
#define PLUGIN_MIN_SIZE (offsetof(struct ml_plugin, ops) + sizeof(void *))

static const char *const kind_prefix[] = {
	[ML_PLUGIN_ALGORITHM] = "algo",
	[ML_PLUGIN_STORE] = "store",
	[ML_PLUGIN_NOTIFIER] = "notify",
	[ML_PLUGIN_COMBINER] = "combine",
};

#define NKINDS (sizeof kind_prefix / sizeof kind_prefix[0])

const char *ml_plugin_kind_prefix(enum ml_plugin_kind kind)
{
	return (unsigned)kind < NKINDS ? kind_prefix[kind] : NULL;
}

/* The kind whose prefix is s[0..n), or 0. */
static unsigned kind_of_prefix(const char *s, size_t n)
{
	for (unsigned k = 1; k < NKINDS; k++)
		if (kind_prefix[k] && strlen(kind_prefix[k]) == n &&
		    memcmp(kind_prefix[k], s, n) == 0)
			return k;
	return 0;
}

static const char *kind_name(unsigned kind)
{
	const char *p = ml_plugin_kind_prefix((enum ml_plugin_kind)kind);
	return p ? p : "unknown";
}

/* 1 to 64 characters from a-z, 0-9 and extra: nothing that could leave the directory. */
static int valid_word(const char *s, const char *extra)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n == PLUGIN_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c)))
			return 0;
	}
	return n > 0;
}

#define NAME_CHARS "_-"
#define SCHEME_CHARS "+.-"

/* ---- directory lists ---- */

struct dirlist {
	char **v;		/* NULL-terminated once anything was added */
	size_t n;
};

/* Append dir[0..len) unless it is there already ("/a/" and "/a" are one). */
static int dirlist_add(struct dirlist *d, const char *dir, size_t len)
{
	while (len > 1 && dir[len - 1] == '/')
		len--;
	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->v[i]) == len && memcmp(d->v[i], dir, len) == 0)
			return 0;
	char **v = realloc(d->v, (d->n + 2) * sizeof *v);
	if (!v)
		return -1;
	d->v = v;
	v[d->n] = strndup(dir, len);
	if (!v[d->n])
		return -1;
	v[++d->n] = NULL;
	return 0;
}

static void dirlist_free(struct dirlist *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* ---- the search path ---- */

static struct dirlist added;		/* ml_plugin_add_dir(), in order */
static struct dirlist search;		/* the whole path, rebuilt when stale */
static char *search_env;		/* MLPIPE_PLUGIN_PATH that search was built from */
static int search_stale = 1;

int ml_plugin_add_dir(const char *dir, struct ml_err *err)
{
	/* A relative directory would make what loads depend on where one stands. */
	if (!dir || dir[0] != '/')
		return ml_err_set(err, ML_ERR_USAGE, "plugin directory must be absolute: \"%s\"",
				  dir ? dir : "");
	if (dirlist_add(&added, dir, strlen(dir)) < 0)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory adding plugin directory %s",
				  dir);
	search_stale = 1;
	return 0;
}

/* An empty entry, which PATH would read as the current directory, is skipped. */
static int add_env_dirs(struct dirlist *d, const char *env)
{
	while (env && *env) {
		size_t len = strcspn(env, ":");
		if (len && env[0] != '/')
			ml_warn("ignoring \"%.*s\" in MLPIPE_PLUGIN_PATH: plugin directories must be absolute",
				(int)len, env);
		else if (len && dirlist_add(d, env, len) < 0)
			return -1;
		env += len;
		if (*env == ':')
			env++;
	}
	return 0;
}

/*
 * <dir of executable>/../lib/mlpipe/plugins.  /proc/self/exe is already
 * free of symlinks and dots, so ".." is taken by cutting a component.
 * Without /proc the entry is simply left out.
 */
static int add_exe_dir(struct dirlist *d)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0 || exe[0] != '/')
		return 0;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';		/* the executable's directory */
	char *up = strrchr(exe, '/');
	if (up)
		*up = '\0';			/* its parent; "" is the root */
	int len = snprintf(dir, sizeof dir, "%s/lib/mlpipe/plugins", exe);
	if (len < 0 || (size_t)len >= sizeof dir)
		return 0;
	return dirlist_add(d, dir, (size_t)len);
}

static int same_string(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Rebuild the path if --plugin-dir or MLPIPE_PLUGIN_PATH changed since. */
static int refresh_search(void)
{
	const char *env = getenv("MLPIPE_PLUGIN_PATH");
	if (!search_stale && same_string(env, search_env))
		return 0;

	struct dirlist d = { 0 };
	char *env_copy = env ? strdup(env) : NULL;
	int rc = env && !env_copy ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < added.n; i++)
		rc = dirlist_add(&d, added.v[i], strlen(added.v[i]));
	if (rc == 0)
		rc = add_env_dirs(&d, env);
	if (rc == 0)
		rc = add_exe_dir(&d);
	if (rc == 0)
		rc = dirlist_add(&d, MLPIPE_PLUGINDIR, strlen(MLPIPE_PLUGINDIR));
	if (rc < 0) {
		dirlist_free(&d);
		free(env_copy);
		return -1;
	}
	dirlist_free(&search);
	free(search_env);
	search = d;
	search_env = env_copy;
	search_stale = 0;
	return 0;
}

const char *const *ml_plugin_search_path(void)
{
	static const char *const none[] = { NULL };
	if (refresh_search() < 0 || !search.v)
		return none;
	return (const char *const *)search.v;
}

/* "dir1:dir2:..." for messages, cut short if it does not fit. */
static const char *joined_search(char *buf, size_t size)
{
	const char *const *dir = ml_plugin_search_path();
	size_t used = 0;
	buf[0] = '\0';
	for (; *dir; dir++) {
		int n = snprintf(buf + used, size - used, "%s%s", used ? ":" : "", *dir);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* dir/ml-<prefix>-<name>.so; -1 if it does not fit in PATH_MAX. */
static int candidate(char *file, size_t size, const char *dir, const char *prefix, const char *name)
{
	int n = snprintf(file, size, "%s/ml-%s-%s.so", dir, prefix, name);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---- checks ---- */

/* Fill err with "refusing <subject>: <reason>" and return -1. */
static int refuse(struct ml_err *err, enum ml_errclass class, const char *subject, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));

static int refuse(struct ml_err *err, enum ml_errclass class, const char *subject, const char *fmt,
		  ...)
{
	va_list ap;
	va_start(ap, fmt);
	ml_err_setv(err, class, fmt, ap);
	va_end(ap);
	return ml_err_prefix(err, "refusing %s", subject);
}

/*
 * What lstat() says about a candidate: 1 absent, 0 acceptable, -1 refused.
 * A directory we may not search holds nothing we could load, so it does not
 * stop the search.  A symlink is refused because its target, wherever that
 * is, is what would load, and the directory's trust does not extend to it.
 */
static int check_file(const char *file, const char *subject, struct ml_err *err)
{
	struct stat st;
	if (lstat(file, &st) < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR || e == EACCES)
			return 1;
		return refuse(err, ML_ERR_CONFIG, subject, "cannot inspect it: %s",
			      strerror(e));
	}
	if (S_ISLNK(st.st_mode))
		return refuse(err, ML_ERR_CONFIG, subject,
			      "it is a symbolic link; copy the file itself into the plugin directory");
	if (!S_ISREG(st.st_mode))
		return refuse(err, ML_ERR_CONFIG, subject, "it is not a regular file");
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(err, ML_ERR_CONFIG, subject,
			      "it is group- or world-writable (mode %03o); run chmod go-w %s",
			      (unsigned)(st.st_mode & 0777), file);
	return 0;
}

/* The declarations a plugin makes about itself, checked before calling it. */
static int check_declared(const struct ml_plugin *p, unsigned kind, const char *name,
			  const char *subject, struct ml_err *err)
{
	if (!p)
		return refuse(err, ML_ERR_CONFIG, subject, "its %s() returned NULL",
			      ML_PLUGIN_ENTRY_SYMBOL);
	if (p->abi != ML_PLUGIN_ABI)
		return refuse(err, ML_ERR_CONFIG, subject,
			      "built for plugin ABI %u, this mlpipe speaks ABI %d; rebuild the plugin",
			      p->abi, ML_PLUGIN_ABI);
	if (p->size < PLUGIN_MIN_SIZE)
		return refuse(err, ML_ERR_CONFIG, subject,
			      "its struct ml_plugin has %u bytes, fewer than the %zu of ABI %d; rebuild the plugin",
			      p->size, PLUGIN_MIN_SIZE, ML_PLUGIN_ABI);
	if (p->kind != kind)
		return refuse(err, ML_ERR_CONFIG, subject,
			      "it declares kind %s but its file name says %s", kind_name(p->kind),
			      kind_name(kind));
	if (!p->name || strcmp(p->name, name) != 0)
		return refuse(err, ML_ERR_CONFIG, subject,
			      "it declares name \"%s\" but its file name says \"%s\"",
			      p->name ? p->name : "(none)", name);
	/* Every ops table starts with its uint32_t size. */
	uint32_t ops_size;
	if (!p->ops.algo)
		return refuse(err, ML_ERR_CONFIG, subject, "it has no %s operations table",
			      kind_name(kind));
	memcpy(&ops_size, (const void *)p->ops.algo, sizeof ops_size);
	if (!ops_size)
		return refuse(err, ML_ERR_CONFIG, subject, "its %s operations table has size 0",
			      kind_name(kind));
	return 0;
}

/* dlopen a candidate that passed check_file(); on failure nothing stays open. */
static const struct ml_plugin *open_plugin(const char *file, unsigned kind, const char *name,
					   const char *subject, void **handle, struct ml_err *err)
{
	dlerror();
	void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		refuse(err, ML_ERR_UNAVAILABLE, subject, "cannot load it: %s",
		       why ? why : "dlopen failed");
		return NULL;
	}
	ml_plugin_entry_fn entry = (ml_plugin_entry_fn)dlsym(h, ML_PLUGIN_ENTRY_SYMBOL);
	const struct ml_plugin *p = NULL;
	if (!entry)
		refuse(err, ML_ERR_CONFIG, subject, "it does not export %s; is it an mlpipe plugin?",
		       ML_PLUGIN_ENTRY_SYMBOL);
	else if (check_declared(p = entry(), kind, name, subject, err) < 0)
		p = NULL;
	if (!p) {
		dlclose(h);
		return NULL;
	}
	*handle = h;
	return p;
}

/* ---- host services ---- */

static void host_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The host's log takes a plain int so the ABI does not depend on an enum's size. */
static void host_log(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (level < ML_LOG_ERROR)
		level = ML_LOG_ERROR;
	if (level > ML_LOG_DEBUG)
		level = ML_LOG_DEBUG;
	ml_log((enum ml_loglevel)level, "%s", line);
}

static struct ml_progress host_progress_line;

/* One progress line per label: a new label finishes the old line. */
static void host_progress(const char *label, uint64_t done, uint64_t total, const char *unit)
{
	struct ml_progress *p = &host_progress_line;
	if (!p->label || strcmp(p->label, label) != 0) {
		if (p->label)
			ml_progress_finish(p);
		ml_progress_start(p, label, total, unit);
	}
	ml_progress_update(p, done);
	if (total && done >= total) {
		ml_progress_finish(p);
		p->label = NULL;
	}
}

/* Static because a plugin may keep the pointer it was given. */
static struct ml_host host;

static int init_plugin(const struct ml_plugin *p, const char *subject, struct ml_err *err)
{
	if (!p->init)
		return 0;
	host = (struct ml_host){
		.size = sizeof host,
		.log = host_log,
		.verbosity = ml_verbosity(),
		.progname = ml_progname(),
		.event = ml_log_event,
		.progress = host_progress,
	};
	struct ml_err perr = ML_ERR_INIT;
	if (p->init(&host, &perr) == 0)
		return 0;
	if (!perr.msg[0])
		snprintf(perr.msg, sizeof perr.msg, "init() failed without saying why");
	if (perr.class == ML_ERR_NONE)
		perr.class = ML_ERR_UNAVAILABLE;
	ml_err_prefix(&perr, "initialising %s", subject);
	if (err)
		*err = perr;
	return -1;
}

/* ---- what is loaded ---- */

/* A plugin we know: built in (handle NULL) or loaded from path. */
struct entry {
	struct entry *next;
	const struct ml_plugin *p;
	void *handle;
	char *path;
	int ready;		/* init() succeeded, so fini() is owed */
	int store_registered;	/* handed to ml_uri_register_store() */
};

static struct entry *entries;	/* in the order registered or loaded */

static struct entry *find_entry(unsigned kind, const char *name)
{
	for (struct entry *e = entries; e; e = e->next)
		if (e->p->kind == kind && strcmp(e->p->name, name) == 0)
			return e;
	return NULL;
}

static void append_entry(struct entry *e)
{
	struct entry **tail = &entries;
	while (*tail)
		tail = &(*tail)->next;
	*tail = e;
}

static const struct ml_plugin *ready_entry(struct entry *e, struct ml_err *err)
{
	char subject[128];
	if (e->ready)
		return e->p;
	snprintf(subject, sizeof subject, "built-in %s plugin \"%s\"", kind_name(e->p->kind),
		 e->p->name);
	if (init_plugin(e->p, subject, err) < 0)
		return NULL;
	e->ready = 1;
	return e->p;
}

/* Open, check and initialise file, which lstat() found acceptable. */
static const struct ml_plugin *load_file(const char *file, unsigned kind, const char *name,
					 const char *subject, struct ml_err *err)
{
	void *h = NULL;
	struct entry *e = NULL;
	const struct ml_plugin *p = open_plugin(file, kind, name, subject, &h, err);
	if (!p)
		return NULL;
	if (init_plugin(p, subject, err) < 0)
		goto out_close;
	e = calloc(1, sizeof *e);
	if (!e || !(e->path = strdup(file))) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory loading %s", file);
		goto out_fini;
	}
	e->p = p;
	e->handle = h;
	e->ready = 1;
	append_entry(e);
	ml_debug("loaded %s plugin \"%s\" %s from %s", kind_name(kind), name,
		 p->version ? p->version : "?", file);
	return p;
out_fini:
	free(e);
	if (p->fini)
		p->fini();
out_close:
	dlclose(h);
	return NULL;
}

/*
 * The loader behind ml_plugin_load(); *absent tells "no candidate anywhere"
 * (err left for the caller to word) from a refusal (err filled).
 */
static const struct ml_plugin *load(enum ml_plugin_kind kind, const char *name,
				    struct ml_err *err, int *absent)
{
	const char *prefix = ml_plugin_kind_prefix(kind);
	*absent = 0;
	if (!prefix) {
		ml_err_set(err, ML_ERR_USAGE, "unknown plugin kind %d", (int)kind);
		return NULL;
	}
	if (!name || !valid_word(name, NAME_CHARS)) {
		ml_err_set(err, ML_ERR_USAGE,
			   "invalid %s plugin name \"%.80s\": use 1 to %d of a-z, 0-9, '_' and '-'",
			   prefix, name ? name : "", PLUGIN_NAME_MAX);
		return NULL;
	}
	struct entry *e = find_entry(kind, name);
	if (e)
		return ready_entry(e, err);
	if (refresh_search() < 0) {
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory building the plugin search path");
		return NULL;
	}
	for (size_t i = 0; i < search.n; i++) {
		char file[PATH_MAX], subject[PATH_MAX + 16];
		if (candidate(file, sizeof file, search.v[i], prefix, name) < 0)
			continue;
		snprintf(subject, sizeof subject, "plugin %s", file);
		int rc = check_file(file, subject, err);
		if (rc > 0)
			continue;
		return rc < 0 ? NULL : load_file(file, kind, name, subject, err);
	}
	*absent = 1;
	return NULL;
}

const struct ml_plugin *ml_plugin_load(enum ml_plugin_kind kind, const char *name,
				       struct ml_err *err)
{
	int absent;
	const struct ml_plugin *p = load(kind, name, err, &absent);
	if (absent) {
		char dirs[ML_ERR_MSG_MAX];
		ml_err_set(err, ML_ERR_UNAVAILABLE, "no %s plugin \"%s\" in %s; see --list-plugins",
			   ml_plugin_kind_prefix(kind), name, joined_search(dirs, sizeof dirs));
	}
	return p;
}

int ml_plugin_register_builtin(const struct ml_plugin *p, struct ml_err *err)
{
	const char *subject = "built-in plugin";
	if (!p || !p->name)
		return refuse(err, ML_ERR_USAGE, subject, "it has no name");
	if (check_declared(p, p->kind, p->name, subject, err) < 0)
		return -1;
	if (!ml_plugin_kind_prefix(p->kind))
		return refuse(err, ML_ERR_USAGE, subject, "unknown kind %u", p->kind);
	if (!valid_word(p->name, NAME_CHARS))
		return refuse(err, ML_ERR_USAGE, subject, "invalid name \"%.80s\"", p->name);
	struct entry *e = find_entry(p->kind, p->name);
	if (e && e->p == p)
		return 0;
	if (e)
		return ml_err_set(err, ML_ERR_USAGE, "a %s plugin \"%s\" is already %s",
				  kind_name(p->kind), p->name, e->path ? "loaded" : "registered");
	e = calloc(1, sizeof *e);
	if (!e)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory registering plugin %s",
				  p->name);
	e->p = p;
	append_entry(e);
	return 0;
}

int ml_plugin_load_store_for_scheme(const char *scheme, struct ml_err *err)
{
	if (!scheme || !valid_word(scheme, SCHEME_CHARS))
		return ml_err_set(err, ML_ERR_USAGE,
				  "invalid URI scheme \"%.80s\": use 1 to %d of a-z, 0-9, '+', '.' and '-'",
				  scheme ? scheme : "", PLUGIN_NAME_MAX);
	/* '+' and '.' are fine in a scheme but cannot name a plugin file. */
	if (!valid_word(scheme, NAME_CHARS))
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "no store plugin for \"%s://\" URIs (plugin names use only a-z, 0-9, '_' and '-')",
				  scheme);
	int absent;
	const struct ml_plugin *p = load(ML_PLUGIN_STORE, scheme, err, &absent);
	if (absent) {
		char dirs[ML_ERR_MSG_MAX];
		return ml_err_set(err, ML_ERR_UNAVAILABLE,
				  "no store plugin for \"%s://\" URIs (no ml-store-%s.so in %s); see --list-plugins",
				  scheme, scheme, joined_search(dirs, sizeof dirs));
	}
	if (!p)
		return -1;
	struct entry *e = find_entry(ML_PLUGIN_STORE, scheme);
	if (e->store_registered)
		return 0;
	if (ml_uri_register_store(scheme, p->ops.store, err) < 0)
		return -1;
	e->store_registered = 1;
	return 0;
}

/* ---- --list-plugins ---- */

/*
 * s[0..n) made safe to print between tabs: control characters, which a file
 * name or a plugin's version may hold, become '?'; empty becomes "?".
 */
static const char *printable(char *buf, size_t size, const char *s, size_t n)
{
	size_t i = 0;
	for (; s && i < n && s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (!i && size > 1)
		buf[i++] = '?';
	buf[i] = '\0';
	return buf;
}

/* Why the loader would not use the candidate search.v[d]/ml-<kind>-<name>.so, or 0 if it would. */
static int probe(size_t d, const char *file, const char *kstr, size_t klen, const char *name,
		 char *version, size_t vsize, struct ml_err *err)
{
	char other[PATH_MAX], subject[PATH_MAX + 16];
	unsigned kind = kind_of_prefix(kstr, klen);
	if (!kind)
		return ml_err_set(err, ML_ERR_CONFIG, "unknown plugin kind \"%.*s\"", (int)klen,
				  kstr);
	if (!valid_word(name, NAME_CHARS))
		return ml_err_set(err, ML_ERR_CONFIG, "invalid plugin name \"%.80s\"", name);
	struct entry *e = find_entry(kind, name);
	if (e && !e->path)
		return ml_err_set(err, ML_ERR_CONFIG, "shadowed by the built-in plugin");
	/* The loader stops at the first directory holding a candidate, good or not. */
	for (size_t i = 0; i < d; i++) {
		struct stat st;
		if (candidate(other, sizeof other, search.v[i], kind_prefix[kind], name) == 0 &&
		    lstat(other, &st) == 0)
			return ml_err_set(err, ML_ERR_CONFIG, "shadowed by %s", other);
	}
	snprintf(subject, sizeof subject, "plugin %s", file);
	int rc = check_file(file, subject, err);
	if (rc > 0)
		return ml_err_set(err, ML_ERR_NOINPUT, "it vanished while listing");
	void *h;
	const struct ml_plugin *p = rc < 0 ? NULL : open_plugin(file, kind, name, subject, &h, err);
	if (!p)
		return -1;
	printable(version, vsize, p->version, SIZE_MAX);
	dlclose(h);
	return 0;
}

/* Print one candidate's line; 1 if it is usable.  init() is not called. */
static int list_one(FILE *out, size_t d, const char *base)
{
	char file[PATH_MAX], lead[PATH_MAX + 32], name[NAME_MAX + 1], version[64] = "?";
	char kind[NAME_MAX + 1], shown[PATH_MAX], reason[ML_ERR_MSG_MAX];
	struct ml_err err = ML_ERR_INIT;
	const char *kstr = base + 3;		/* after "ml-" */
	size_t klen = strcspn(kstr, "-");
	const char *nstart = kstr + klen + 1;
	/* fnmatch() saw "-" and ".so" after the kind, so this does not wrap. */
	snprintf(name, sizeof name, "%.*s", (int)(strlen(nstart) - 3), nstart);
	int n = snprintf(file, sizeof file, "%s/%s", search.v[d], base);
	int ok = n >= 0 && (size_t)n < sizeof file &&
		 probe(d, file, kstr, klen, name, version, sizeof version, &err) == 0;
	/* "refusing plugin <file>: " repeats the path column; drop it. */
	const char *why = err.msg;
	snprintf(lead, sizeof lead, "refusing plugin %s: ", file);
	if (strncmp(why, lead, strlen(lead)) == 0)
		why += strlen(lead);
	fprintf(out, "%s\t%s\t%s\t%s\t%s%s\n", printable(kind, sizeof kind, kstr, klen),
		printable(name, sizeof name, name, sizeof name), ok ? version : "?",
		printable(shown, sizeof shown, file, sizeof shown), ok ? "ok" : "refused: ",
		ok ? "" : printable(reason, sizeof reason, why, sizeof reason));
	return ok;
}

static int plugin_file_name(const struct dirent *d)
{
	return fnmatch("ml-*-*.so", d->d_name, 0) == 0;
}

/* Byte order, not the locale's collation, so the listing is the same everywhere. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int list_dir(FILE *out, size_t d)
{
	struct dirent **names;
	int usable = 0, n = scandir(search.v[d], &names, plugin_file_name, by_name);
	if (n < 0)
		return 0;	/* not every directory in the path exists */
	for (int i = 0; i < n; i++) {
		usable += list_one(out, d, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return usable;
}

int ml_plugin_list(FILE *out)
{
	int usable = 0;
	/* Built-ins first: the loader finds them before any file. */
	for (struct entry *e = entries; e; e = e->next) {
		if (e->path)
			continue;
		char version[64];
		fprintf(out, "%s\t%s\t%s\t(built-in)\tok\n", kind_name(e->p->kind), e->p->name,
			printable(version, sizeof version, e->p->version, SIZE_MAX));
		usable++;
	}
	if (refresh_search() < 0)
		return usable;
	for (size_t d = 0; d < search.n; d++)
		usable += list_dir(out, d);
	return usable;
}

/* ---- teardown ---- */

/*
 * fini() in the reverse order of loading, since a later plugin may use an
 * earlier one; then forget everything, built-ins and --plugin-dir included.
 */
void ml_plugin_unload_all(void)
{
	struct entry *rev = NULL;
	while (entries) {
		struct entry *e = entries;
		entries = e->next;
		e->next = rev;
		rev = e;
	}
	while (rev) {
		struct entry *e = rev;
		rev = e->next;
		/* uri.c would otherwise keep ops that point into unmapped code;
		 * a NULL entry makes it load the plugin again on next use. */
		if (e->store_registered)
			ml_uri_register_store(e->p->name, NULL, NULL);
		if (e->ready && e->p->fini)
			e->p->fini();
		if (e->handle)
			dlclose(e->handle);
		free(e->path);
		free(e);
	}
	dirlist_free(&added);
	dirlist_free(&search);
	free(search_env);
	search_env = NULL;
	search_stale = 1;
}
