/*
 * ml-watch - run a pipeline when new data lands: poll a folder or an s3://
 * prefix and, for each object not seen before, print its URI (one a line,
 * flushed, for `| xargs -n1 ...`) or run `-- CMD ARGS...` with the URI as
 * the last argument (or in place of every "{}") and in MLPIPE_WATCH_URI.
 *
 * What has been handled is remembered in --bookmark FILE (one URI a line,
 * rewritten atomically after each object), so a restart neither repeats nor
 * misses an object.  An object whose command fails is not recorded and is
 * tried again at the next poll; with --remove, an object whose command
 * succeeded is deleted (a work queue).  Folders are listed (regular files, not
 * dotfiles: atomic writers' temp files are dotfiles) in lexical order;
 * s3:// prefixes with ListObjectsV2 through the store plugin.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mlpipe/buf.h"
#include "mlpipe/cli.h"
#include "mlpipe/log.h"
#include "mlpipe/plugin.h"
#include "mlpipe/uri.h"

#define MAX_BOOKMARK ((size_t)256 << 20)

static struct {
	char *bookmark;
	long interval;
	int once, skip_existing, remove;
} W = { .interval = 10 };

static const struct ml_opt watch_opts[] = {
	{ "bookmark", 'b', ML_OPT_STRING, &W.bookmark, "FILE",
	  "remember handled objects here (a path or s3:// URI), across restarts" },
	{ "interval", 'i', ML_OPT_INT, &W.interval, "SECONDS", "seconds between polls (default 10)", NULL, 0, NULL,
	  1, 86400 },
	{ "once", 0, ML_OPT_FLAG, &W.once, NULL, "poll once, handle what is new, and exit (cron)" },
	{ "skip-existing", 0, ML_OPT_FLAG, &W.skip_existing, NULL,
	  "on a first run (no bookmark yet), record what is already there without handling it" },
	{ "remove", 0, ML_OPT_FLAG, &W.remove, NULL,
	  "delete each object once its command has succeeded (a work queue; needs a command)" },
	ML_OPT_END,
};

/* ---- the set of seen URIs: a sorted array ---- */

struct seen {
	char **items;
	size_t n, alloc;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int seen_has(const struct seen *s, const char *uri)
{
	return s->n && bsearch(&uri, s->items, s->n, sizeof *s->items, cmp_str) != NULL;
}

static int seen_add(struct seen *s, const char *uri, struct ml_err *err)
{
	if (seen_has(s, uri))
		return 0;
	if (s->n == s->alloc) {
		size_t want = s->alloc ? 2 * s->alloc : 64;
		char **more = ml_realloc_array(s->items, want, sizeof *more, err);
		if (!more)
			return -1;
		s->items = more;
		s->alloc = want;
	}
	char *copy = ml_strdup(uri, err);
	if (!copy)
		return -1;
	size_t i = s->n;
	while (i > 0 && strcmp(s->items[i - 1], uri) > 0) {
		s->items[i] = s->items[i - 1];
		i--;
	}
	s->items[i] = copy;
	s->n++;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
}

/* 1 when the bookmark existed, 0 when not, -1 on error. */
static int bookmark_load(struct seen *s, struct ml_err *err)
{
	struct ml_err e = ML_ERR_INIT;
	size_t len;
	char *text = ml_read_all(W.bookmark, MAX_BOOKMARK, &len, &e);
	if (!text) {
		if (e.class == ML_ERR_NOINPUT && (strstr(e.msg, "No such file") || strstr(e.msg, "NoSuchKey")))
			return 0;
		*err = e;
		return -1;
	}
	int rc = 1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && rc == 1; line = strtok_r(NULL, "\n", &save))
		if (seen_add(s, line, err) < 0)
			rc = -1;
	free(text);
	return rc;
}

static int bookmark_save(const struct seen *s, struct ml_err *err)
{
	if (!W.bookmark)
		return 0;
	struct ml_buf b;
	ml_buf_init(&b, MAX_BOOKMARK);
	for (size_t i = 0; i < s->n; i++)
		if (ml_buf_adds(&b, s->items[i]) < 0 || ml_buf_addc(&b, '\n') < 0) {
			ml_buf_release(&b);
			return ml_err_set(err, ML_ERR_IO, "%s: the bookmark is over its limit", W.bookmark);
		}
	int rc = ml_write_all_atomic(W.bookmark, b.data ? b.data : "", b.len, err);
	ml_buf_release(&b);
	return rc;
}

/* ---- listing ---- */

static int collect(const char *uri, void *arg)
{
	struct ml_err err = ML_ERR_INIT;
	return ml_strlist_push(arg, uri, &err) < 0 ? -1 : 0;
}

static int list_dir(const char *dir, struct ml_strlist *out, struct ml_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return ml_err_errno(err, errno, "%s: cannot list", dir);
	struct dirent *e;
	size_t dlen = strlen(dir);
	int slash = dlen > 0 && dir[dlen - 1] == '/';
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		if ((size_t)snprintf(path, sizeof path, "%s%s%s", dir, slash ? "" : "/", e->d_name) >= sizeof path)
			continue;
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = ml_strlist_push(out, path, err);
	}
	closedir(d);
	if (rc == 0 && out->n > 1)
		qsort(out->items, out->n, sizeof *out->items, cmp_str);
	return rc;
}

/* The store plugin of a remote URI, or NULL with *local set for paths and file: URIs. */
static const struct ml_store_ops *store_of(const char *where, int *local, struct ml_err *err)
{
	char scheme[32];
	*local = !ml_uri_scheme(where, scheme, sizeof scheme) || !strcmp(scheme, "file");
	if (*local)
		return NULL;
	const struct ml_plugin *p = ml_plugin_load(ML_PLUGIN_STORE, scheme, err);
	return p ? p->ops.store : NULL;
}

static int remove_object(const char *uri, struct ml_err *err)
{
	int local;
	const struct ml_store_ops *ops = store_of(uri, &local, err);
	if (local) {
		const char *path = ml_uri_local_path(uri);
		if (!path || unlink(path) < 0)
			return ml_err_errno(err, path ? errno : EINVAL, "%s: cannot remove", uri);
		return 0;
	}
	if (!ops)
		return -1;
	if (!ops->remove)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: this store cannot remove objects", uri);
	return ops->remove(uri, err);
}

static int list_objects(const char *where, struct ml_strlist *out, struct ml_err *err)
{
	int local;
	const struct ml_store_ops *ops = store_of(where, &local, err);
	if (local) {
		const char *path = ml_uri_local_path(where);
		return path ? list_dir(path, out, err) : ml_err_set(err, ML_ERR_USAGE, "%s: not a local folder", where);
	}
	if (!ops)
		return -1;
	if (!ops->list)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "%s: this store cannot list", where);
	if (ops->list(where, collect, out, err) < 0)
		return -1;
	/* The store lists in lexical order; sort anyway, the bookmark relies on nothing else. */
	if (out->n > 1)
		qsort(out->items, out->n, sizeof *out->items, cmp_str);
	return 0;
}

/* ---- handling one object ---- */

static int run_command(char **cmd, int ncmd, const char *uri)
{
	char **argv = calloc((size_t)ncmd + 2, sizeof *argv);
	if (!argv)
		return -1;
	int braces = 0, n = 0;
	for (int i = 0; i < ncmd; i++) {
		braces |= !strcmp(cmd[i], "{}");
		argv[n++] = !strcmp(cmd[i], "{}") ? (char *)uri : cmd[i];
	}
	if (!braces)
		argv[n++] = (char *)uri;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("MLPIPE_WATCH_URI", uri, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "ml-watch: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	free(argv);
	if (pid < 0) {
		ml_error("cannot start %s: %s", cmd[0], strerror(errno));
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		ml_warn("%s failed for %s (exit %d); it is tried again at the next poll", cmd[0], uri,
			WEXITSTATUS(status));
	else
		ml_warn("%s was killed by signal %d for %s; it is tried again at the next poll", cmd[0],
			WTERMSIG(status), uri);
	return -1;
}

/* One poll: handle every object not seen.  Returns the number of failed commands, or -1. */
static int poll_once(const char *where, struct seen *seen, char **cmd, int ncmd, int record_only,
		     struct ml_err *err)
{
	struct ml_strlist objs = { 0 };
	if (list_objects(where, &objs, err) < 0) {
		ml_strlist_clear(&objs);
		return -1;
	}
	int failed = 0;
	for (size_t i = 0; i < objs.n; i++) {
		const char *uri = objs.items[i];
		if (seen_has(seen, uri) || (W.bookmark && !strcmp(uri, W.bookmark)))
			continue;
		if (!record_only) {
			if (ncmd == 0) {
				printf("%s\n", uri);
				if (fflush(stdout) == EOF) {
					ml_strlist_clear(&objs);
					return ml_err_errno(err, errno, "standard output");
				}
			} else if (run_command(cmd, ncmd, uri) < 0) {
				failed++;
				continue;
			} else if (W.remove) {
				struct ml_err rerr = ML_ERR_INIT;
				if (remove_object(uri, &rerr) == 0)
					continue;	/* gone: nothing to remember */
				ml_warn("%s (it is recorded as handled)", rerr.msg);
			}
		}
		if (seen_add(seen, uri, err) < 0 || (!record_only && bookmark_save(seen, err) < 0)) {
			ml_strlist_clear(&objs);
			return -1;
		}
	}
	if (record_only && bookmark_save(seen, err) < 0)
		failed = -1;
	ml_strlist_clear(&objs);
	return failed;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * A local folder is watched with inotify: a file closed after writing, or
 * moved in (the atomic way to publish one), ends the wait at once.  -1 when
 * inotify is not available: the interval alone paces the polls then.
 */
static int watch_folder(const char *where)
{
	int local;
	struct ml_err err = ML_ERR_INIT;
	const char *path = ml_uri_local_path(where);
	if (W.once || store_of(where, &local, &err) || !local || !path)
		return -1;	/* an s3:// prefix is listed each interval */
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd >= 0 && inotify_add_watch(fd, path, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
		ml_warn("%s: cannot watch with inotify (%s): polling every %ld s", where, strerror(errno), W.interval);
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Until the interval is over, a watched folder changes, or a signal stops us. */
static void wait_for_change(int fd)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (long s = 0; s < W.interval && !stop; s++) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (fd < 0 || poll(&p, 1, 1000) <= 0) {
			if (fd < 0)
				sleep(1);
			continue;
		}
		while (read(fd, events, sizeof events) > 0)	/* drain: one poll handles them all */
			;
		return;
	}
}

static int cmd_watch(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	const struct ml_opt *tables[] = { watch_opts, NULL };
	static const char summary[] =
		"Poll a folder or an s3:// prefix and handle each object not seen before: print its URI,\n"
		"or run CMD with the URI as its last argument (or in place of every \"{}\") and in\n"
		"the environment as MLPIPE_WATCH_URI.  --bookmark remembers what was handled.";
	static const char epilog[] =
		"Examples:\n"
		"  ml-watch --bookmark seen.txt s3://raw/incoming/ | xargs -n1 ./score-one.sh\n"
		"  ml-watch --interval 60 --bookmark seen.txt incoming/ -- \\\n"
		"      contrib/pipelines/batch-score.sh model.json scored/\n";
	static const char exit_status[] =
		"  0   --once: every new object was handled (or there was none); without --once,\n"
		"      stopped by SIGINT or SIGTERM\n"
		"  75  --once: a command failed (its object is tried again next time), or the\n"
		"      store could not be reached\n";
	const struct ml_cli cli = { .tool = "ml-watch", .section = "watch",
				    .synopsis = "ml-watch [OPTION]... DIR|s3://BUCKET/PREFIX [-- CMD [ARG]...]",
				    .summary = summary, .tables = tables, .epilog = epilog,
				    .exit_status = exit_status };
	/* Everything after "--" is the command; the parser sees what comes before. */
	int dash = argc;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dash = i;
			break;
		}
	int first;
	int status = ml_cli_parse(&cli, dash, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (dash - first != 1)
		return ml_usage_error("one folder or s3:// prefix to watch");
	const char *where = argv[first];
	char **cmd = argv + dash + 1;
	int ncmd = dash < argc ? argc - dash - 1 : 0;
	if (dash < argc && ncmd == 0)
		return ml_usage_error("a command is expected after \"--\"");
	if (W.remove && ncmd == 0)
		return ml_usage_error("--remove needs a command (-- CMD ...): printing is not handling");

	struct seen seen = { 0 };
	int had = W.bookmark ? bookmark_load(&seen, &err) : 0;
	int rc = 0;
	if (had < 0) {
		rc = ml_fail(&err);
		goto out;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	int record_only = W.skip_existing && had == 0;
	int inotify = watch_folder(where);
	for (;;) {
		int failed = poll_once(where, &seen, cmd, ncmd, record_only, &err);
		record_only = 0;
		if (failed < 0) {
			/* A store that is down now may be back at the next poll. */
			if (W.once || err.class != ML_ERR_TEMPFAIL) {
				rc = ml_fail(&err);
				break;
			}
			ml_warn("%s (polling again in %ld s)", err.msg, W.interval);
			ml_err_clear(&err);
		}
		if (W.once) {
			rc = failed > 0 ? ML_EXIT_TEMPFAIL : 0;
			break;
		}
		wait_for_change(inotify);
		if (stop)
			break;
	}
	if (inotify >= 0)
		close(inotify);
out:
	seen_free(&seen);
	return rc;
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_watch);
}
