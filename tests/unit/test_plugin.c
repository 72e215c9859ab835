/*
 * test_plugin.c - the plugin loader: search path, every refusal, the cache,
 * built-ins, --list-plugins, and a dlopen()ed store driven through uri.h.
 *
 * The test plugins are built from tests/plugins/ into build/tests/plugins/;
 * MLPIPE_TEST_PLUGIN_DIR overrides where they are looked for (tests run from
 * the repository root).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "mlpipe/log.h"
#include "mlpipe/plugin.h"
#include "mlpipe/uri.h"
#include "testutil.h"

/* snprintf into buf, failing the test rather than truncating a path. */
static void fmt(char *buf, size_t size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t size, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(buf, size, format, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < size);
}

static const char *test_plugin_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("MLPIPE_TEST_PLUGIN_DIR");
	if (env && *env)
		return env;
	char cwd[PATH_MAX - 32];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	fmt(dir, sizeof dir, "%s/build/tests/plugins", cwd);
	return dir;
}

/* dir/ml-<what>.so in a static buffer. */
static const char *plugin_file(const char *dir, const char *what)
{
	static char path[PATH_MAX];
	fmt(path, sizeof path, "%s/ml-%s.so", dir, what);
	return path;
}

static void use_test_dir(void)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_msg(ml_plugin_add_dir(test_plugin_dir(), &err) == 0, "%s", err.msg);
}

static void setup(void)
{
	unsetenv("MLPIPE_PLUGIN_PATH");
	unsetenv("MLPIPE_TEST_FINI_FILE");
}

/* Also leaves the next test a clean slate when Check runs without fork. */
static void teardown(void)
{
	ml_plugin_unload_all();
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	ck_assert_msg(in != NULL, "%s: %s (build the test plugins first)", from, strerror(errno));
	ck_assert_ptr_nonnull(out);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	ck_assert_int_eq(fclose(in), 0);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_int_eq(chmod(to, mode), 0);	/* explicit: the umask must not decide */
}

static void assert_has(const char *msg, const char *part)
{
	ck_assert_msg(strstr(msg, part) != NULL, "\"%s\" not in \"%s\"", part, msg);
}

/* ---- names and the search path ---- */

static const struct {
	int kind;
	const char *prefix;
} prefixes[] = {
	{ ML_PLUGIN_ALGORITHM, "algo" }, { ML_PLUGIN_STORE, "store" },
	{ ML_PLUGIN_NOTIFIER, "notify" }, { ML_PLUGIN_COMBINER, "combine" },
	{ 0, NULL },			  { 5, NULL },
};

START_TEST(test_kind_prefix)
{
	const char *got = ml_plugin_kind_prefix((enum ml_plugin_kind)prefixes[_i].kind);
	if (prefixes[_i].prefix)
		ck_assert_str_eq(got, prefixes[_i].prefix);
	else
		ck_assert_ptr_null(got);
}
END_TEST

/* The entry derived from the executable, computed independently. */
static void exe_plugin_dir(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert(n > 0);
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	*strrchr(exe, '/') = '\0';
	fmt(buf, size, "%s/lib/mlpipe/plugins", exe);
}

START_TEST(test_search_path_order)
{
	struct ml_err err = ML_ERR_INIT;
	char exe_dir[PATH_MAX], cwd[PATH_MAX];
	setenv("MLPIPE_PLUGIN_PATH", "/env/a:relative/b::/env/c/", 1);
	ck_assert_int_eq(ml_plugin_add_dir("/x/one", &err), 0);
	ck_assert_int_eq(ml_plugin_add_dir("/x/two/", &err), 0);
	ck_assert_int_eq(ml_plugin_add_dir("/x/one", &err), 0);	/* once is enough */
	exe_plugin_dir(exe_dir, sizeof exe_dir);
	const char *want[] = { "/x/one", "/x/two", "/env/a", "/env/c", exe_dir, MLPIPE_PLUGINDIR };
	const char *const *path = ml_plugin_search_path();
	size_t i = 0;
	for (; path[i]; i++) {
		ck_assert_uint_lt(i, sizeof want / sizeof want[0]);
		ck_assert_str_eq(path[i], want[i]);
	}
	ck_assert_uint_eq(i, sizeof want / sizeof want[0]);

	/* Never the current directory, and a changed environment is noticed. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	setenv("MLPIPE_PLUGIN_PATH", "/env/z", 1);
	path = ml_plugin_search_path();
	ck_assert_str_eq(path[2], "/env/z");
	for (i = 0; path[i]; i++) {
		ck_assert_int_eq(path[i][0], '/');
		ck_assert_str_ne(path[i], cwd);
	}
}
END_TEST

START_TEST(test_relative_dir_refused)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_plugin_add_dir("build/tests/plugins", &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	assert_has(err.msg, "plugin directory must be absolute");
	ck_assert_int_eq(ml_plugin_add_dir("", &err), -1);
	ck_assert_int_eq(ml_plugin_add_dir(".", &err), -1);
	const char *const *path = ml_plugin_search_path();
	for (size_t i = 0; path[i]; i++)
		ck_assert_int_eq(path[i][0], '/');
}
END_TEST

static const char *const bad_names[] = {
	"", "Upper", "../testgood", "a/b", "a.b", "a b", "testgood.so",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",	/* 65 */
};

START_TEST(test_bad_names)
{
	struct ml_err err = ML_ERR_INIT;
	use_test_dir();
	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, bad_names[_i], &err));
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	assert_has(err.msg, "invalid algo plugin name");
}
END_TEST

/* ---- loading ---- */

START_TEST(test_load_good)
{
	struct ml_err err = ML_ERR_INIT;
	double seen[3];
	use_test_dir();
	ml_set_progname("test-plugin-host");
	ml_set_verbosity(1);
	const struct ml_plugin *p = ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err);
	ck_assert_msg(p != NULL, "%s", err.msg);
	ck_assert_str_eq(p->name, "testgood");
	ck_assert_str_eq(p->version, "1.2.3");
	ck_assert_str_eq(p->description, "test plugin that loads");
	ck_assert_int_eq(p->ops.algo->predict(NULL, NULL, seen, &err), 0);
	ck_assert(seen[0] == 1);				/* init() ran once */
	ck_assert(seen[1] == 1);				/* it saw the verbosity */
	ck_assert(seen[2] == sizeof(struct ml_host));
	ck_assert_ptr_eq(p->ops.algo->load(NULL, &err), ml_progname());

	/* Cached: the same pointer, and no second init(). */
	ck_assert_ptr_eq(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err), p);
	ck_assert_int_eq(p->ops.algo->predict(NULL, NULL, seen, &err), 0);
	ck_assert(seen[0] == 1);
	ml_set_verbosity(0);
}
END_TEST

START_TEST(test_fini_and_reload)
{
	struct ml_err err = ML_ERR_INIT;
	char mark[PATH_MAX], text[64] = "";
	const char *tmp = test_tmpdir();
	fmt(mark, sizeof mark, "%s/fini", tmp);
	setenv("MLPIPE_TEST_FINI_FILE", mark, 1);
	use_test_dir();
	ck_assert_ptr_nonnull(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err));
	ml_plugin_unload_all();
	FILE *f = fopen(mark, "r");
	ck_assert_msg(f != NULL, "fini() did not run");
	ck_assert_ptr_nonnull(fgets(text, sizeof text, f));
	fclose(f);
	ck_assert_str_eq(text, "testgood fini\n");
	unlink(mark);
	rmdir(tmp);

	/* unload_all forgot --plugin-dir too; add it again and load afresh. */
	unsetenv("MLPIPE_TEST_FINI_FILE");
	use_test_dir();
	ck_assert_msg(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err) != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_bad_abi)
{
	struct ml_err err = ML_ERR_INIT;
	char want[128];
	use_test_dir();
	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "badabi", &err));
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	assert_has(err.msg, plugin_file(test_plugin_dir(), "algo-badabi"));
	fmt(want, sizeof want, "built for plugin ABI %d, this mlpipe speaks ABI %d",
		 ML_PLUGIN_ABI + 1, ML_PLUGIN_ABI);
	assert_has(err.msg, want);
	assert_has(err.msg, "rebuild the plugin");
}
END_TEST

static const struct {
	int kind;
	const char *name, *file;
	enum ml_errclass class;
	const char *why;
} refusals[] = {
	{ ML_PLUGIN_STORE, "wrongkind", "store-wrongkind", ML_ERR_CONFIG,
	  "declares kind algo but its file name says store" },
	{ ML_PLUGIN_ALGORITHM, "namemismatch", "algo-namemismatch", ML_ERR_CONFIG,
	  "declares name \"other\" but its file name says \"namemismatch\"" },
	{ ML_PLUGIN_ALGORITHM, "nosymbol", "algo-nosymbol", ML_ERR_CONFIG,
	  "does not export ml_plugin_entry" },
	{ ML_PLUGIN_ALGORITHM, "initfail", "algo-initfail", ML_ERR_CONFIG,
	  "initialising plugin " },
};

START_TEST(test_refusals)
{
	struct ml_err err = ML_ERR_INIT;
	use_test_dir();
	/* Twice: a refusal is not cached as a success. */
	for (int round = 0; round < 2; round++) {
		ck_assert_ptr_null(ml_plugin_load((enum ml_plugin_kind)refusals[_i].kind,
						  refusals[_i].name, &err));
		ck_assert_int_eq(err.class, refusals[_i].class);
		assert_has(err.msg, plugin_file(test_plugin_dir(), refusals[_i].file));
		assert_has(err.msg, refusals[_i].why);
	}
}
END_TEST

START_TEST(test_init_failure_message)
{
	struct ml_err err = ML_ERR_INIT;
	char want[PATH_MAX + 64];
	use_test_dir();
	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "initfail", &err));
	fmt(want, sizeof want, "initialising plugin %s: TESTFAIL_TOKEN is not set",
		 plugin_file(test_plugin_dir(), "algo-initfail"));
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(ml_exit_code(&err), ML_EXIT_CONFIG);
}
END_TEST

START_TEST(test_not_found_lists_dirs)
{
	struct ml_err err = ML_ERR_INIT;
	char want[PATH_MAX + 64];
	use_test_dir();
	ck_assert_int_eq(ml_plugin_add_dir("/nonexistent/plugins", &err), 0);
	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "xyz", &err));
	ck_assert_int_eq(err.class, ML_ERR_UNAVAILABLE);
	fmt(want, sizeof want, "no algo plugin \"xyz\" in %s:/nonexistent/plugins:",
		 test_plugin_dir());
	ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
	assert_has(err.msg, ":" MLPIPE_PLUGINDIR "; see --list-plugins");
}
END_TEST

/* A copy of testgood in a fresh directory searched before the test plugins. */
static const char *testgood_copy(char *dir, size_t size, mode_t mode)
{
	struct ml_err err = ML_ERR_INIT;
	static char file[PATH_MAX];
	fmt(dir, size, "%s", test_tmpdir());
	fmt(file, sizeof file, "%s", plugin_file(dir, "algo-testgood"));
	copy_file(plugin_file(test_plugin_dir(), "algo-testgood"), file, mode);
	ck_assert_int_eq(ml_plugin_add_dir(dir, &err), 0);
	use_test_dir();
	return file;
}

START_TEST(test_writable_refused)
{
	struct ml_err err = ML_ERR_INIT;
	char dir[PATH_MAX];
	const char *file = testgood_copy(dir, sizeof dir, 0664);
	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err));
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	assert_has(err.msg, file);
	assert_has(err.msg, "group- or world-writable (mode 664)");
	assert_has(err.msg, "chmod go-w");

	/* The refusal stands even though a good copy is further down the path. */
	ck_assert_int_eq(chmod(file, 0646), 0);
	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err));
	assert_has(err.msg, "(mode 646)");

	ck_assert_int_eq(chmod(file, 0644), 0);
	ck_assert_msg(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err) != NULL, "%s",
		      err.msg);
	unlink(file);
	rmdir(dir);
}
END_TEST

START_TEST(test_symlink_and_directory_refused)
{
	struct ml_err err = ML_ERR_INIT;
	const char *tmp = test_tmpdir();
	char dir[PATH_MAX], lnk[PATH_MAX], sub[PATH_MAX];
	fmt(dir, sizeof dir, "%s", tmp);
	fmt(lnk, sizeof lnk, "%s", plugin_file(dir, "algo-testgood"));
	fmt(sub, sizeof sub, "%s", plugin_file(dir, "algo-adir"));
	ck_assert_int_eq(symlink(plugin_file(test_plugin_dir(), "algo-testgood"), lnk), 0);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(ml_plugin_add_dir(dir, &err), 0);
	use_test_dir();

	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err));
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	assert_has(err.msg, lnk);
	assert_has(err.msg, "symbolic link");

	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "adir", &err));
	assert_has(err.msg, "not a regular file");
	unlink(lnk);
	rmdir(sub);
	rmdir(dir);
}
END_TEST

/* ---- built-ins ---- */

static int builtin_inits;

static int builtin_init(const struct ml_host *host, struct ml_err *err)
{
	(void)err;
	ck_assert_uint_ge(host->size, sizeof *host);
	builtin_inits++;
	return 0;
}

static const struct ml_algo_ops builtin_ops = { .size = sizeof builtin_ops };

static const struct ml_plugin builtin = {
	.abi = ML_PLUGIN_ABI, .size = sizeof builtin, .kind = ML_PLUGIN_ALGORITHM,
	.name = "testgood", .version = "0.0.1", .init = builtin_init, .ops.algo = &builtin_ops,
};

static const struct ml_plugin builtin_twin = {
	.abi = ML_PLUGIN_ABI, .size = sizeof builtin_twin, .kind = ML_PLUGIN_ALGORITHM,
	.name = "testgood", .version = "0.0.2", .ops.algo = &builtin_ops,
};

static const struct ml_plugin builtin_future = {
	.abi = ML_PLUGIN_ABI + 1, .size = sizeof builtin_future, .kind = ML_PLUGIN_ALGORITHM,
	.name = "future", .ops.algo = &builtin_ops,
};

START_TEST(test_builtin)
{
	struct ml_err err = ML_ERR_INIT;
	/* Named like a file in the search path: the built-in wins, no dlopen. */
	use_test_dir();
	ck_assert_int_eq(ml_plugin_register_builtin(&builtin, &err), 0);
	ck_assert_int_eq(ml_plugin_register_builtin(&builtin, &err), 0);
	ck_assert_int_eq(builtin_inits, 0);	/* init waits for the first load */
	ck_assert_ptr_eq(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err), &builtin);
	ck_assert_ptr_eq(ml_plugin_load(ML_PLUGIN_ALGORITHM, "testgood", &err), &builtin);
	ck_assert_int_eq(builtin_inits, 1);

	ck_assert_int_eq(ml_plugin_register_builtin(&builtin_twin, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	assert_has(err.msg, "already registered");
	ck_assert_int_eq(ml_plugin_register_builtin(&builtin_future, &err), -1);
	assert_has(err.msg, "built for plugin ABI");
	ck_assert_ptr_null(ml_plugin_load(ML_PLUGIN_ALGORITHM, "future", &err));
}
END_TEST

/* ---- --list-plugins ---- */

static char *list_output(int *usable)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(f);
	*usable = ml_plugin_list(f);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

static int count_ok_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, "\tok\n")); p++)
		n++;
	return n;
}

START_TEST(test_list)
{
	struct ml_err err = ML_ERR_INIT;
	static const struct {
		const char *head;	/* kind, name, version */
		const char *file;
		const char *status;
	} want[] = {
		{ "algo\tbadabi\t?\t", "algo-badabi", "refused: built for plugin ABI" },
		{ "algo\tinitfail\t0.1\t", "algo-initfail", "ok\n" },
		{ "algo\tnamemismatch\t?\t", "algo-namemismatch", "refused: it declares name" },
		{ "algo\tnosymbol\t?\t", "algo-nosymbol", "refused: it does not export" },
		{ "algo\ttestgood\t1.2.3\t", "algo-testgood", "ok\n" },
		{ "store\tmemtest\t0.1\t", "store-memtest", "ok\n" },
		{ "store\twrongkind\t?\t", "store-wrongkind", "refused: it declares kind algo" },
	};
	static const struct ml_plugin listed = {
		.abi = ML_PLUGIN_ABI, .size = sizeof listed, .kind = ML_PLUGIN_COMBINER,
		.name = "mean", .version = "2.0", .ops.algo = &builtin_ops,
	};
	use_test_dir();
	ck_assert_int_eq(ml_plugin_register_builtin(&listed, &err), 0);
	int usable;
	char *text = list_output(&usable);
	ck_assert_int_eq(usable, count_ok_lines(text));
	ck_assert_int_ge(usable, 4);
	const char *first = "combine\tmean\t2.0\t(built-in)\tok\n";
	ck_assert_msg(strncmp(text, first, strlen(first)) == 0, "%s", text);

	/* In the order of their file names; other plugins may sit between. */
	const char *at = text;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char line[PATH_MAX + 128];
		fmt(line, sizeof line, "%s%s\t%s", want[i].head,
			 plugin_file(test_plugin_dir(), want[i].file), want[i].status);
		const char *hit = strstr(at, line);
		ck_assert_msg(hit != NULL, "missing or out of order: %s\nin:\n%s", line, text);
		at = hit + 1;
	}
	/* Every line has five tab-separated fields. */
	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		int tabs = 0;
		for (const char *q = p; *q != '\n'; q++)
			tabs += *q == '\t';
		ck_assert_int_eq(tabs, 4);
	}
	free(text);
}
END_TEST

START_TEST(test_list_shadowed)
{
	char dir[PATH_MAX], line[2 * PATH_MAX + 64];
	const char *file = testgood_copy(dir, sizeof dir, 0644);
	int usable;
	char *text = list_output(&usable);
	fmt(line, sizeof line, "algo\ttestgood\t1.2.3\t%s\tok\n", file);
	assert_has(text, line);
	fmt(line, sizeof line, "algo\ttestgood\t?\t%s\trefused: shadowed by %s\n",
		 plugin_file(test_plugin_dir(), "algo-testgood"), file);
	assert_has(text, line);
	ck_assert_int_eq(usable, count_ok_lines(text));
	free(text);
	unlink(file);
	rmdir(dir);
}
END_TEST

START_TEST(test_list_odd_files)
{
	struct ml_err err = ML_ERR_INIT;
	char dir[PATH_MAX], path[PATH_MAX], line[2 * PATH_MAX];
	static const struct {
		const char *file, *shown, *kind, *name, *why;
	} odd[] = {
		{ "ml-algo-Bad.so", NULL, "algo", "Bad", "invalid plugin name" },
		{ "ml-algo-adir.so", NULL, "algo", "adir", "it is not a regular file" },
		{ "ml-algo-tab\there.so", "ml-algo-tab?here.so", "algo", "tab?here",
		  "invalid plugin name" },
		{ "ml-foo-bar.so", NULL, "foo", "bar", "unknown plugin kind \"foo\"" },
	};
	fmt(dir, sizeof dir, "%s", test_tmpdir());
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		fmt(path, sizeof path, "%s/%s", dir, odd[i].file);
		if (strcmp(odd[i].name, "adir") == 0)
			ck_assert_int_eq(mkdir(path, 0755), 0);
		else
			test_write_file(dir, odd[i].file, "x", 1);
	}
	test_write_file(dir, "not-a-plugin.so", "x", 1);
	ck_assert_int_eq(ml_plugin_add_dir(dir, &err), 0);

	int usable;
	char *text = list_output(&usable);
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		fmt(line, sizeof line, "%s\t%s\t?\t%s/%s\trefused: %s", odd[i].kind, odd[i].name,
		    dir, odd[i].shown ? odd[i].shown : odd[i].file, odd[i].why);
		assert_has(text, line);
	}
	ck_assert_ptr_null(strstr(text, "not-a-plugin"));
	ck_assert_int_eq(usable, count_ok_lines(text));
	free(text);
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		fmt(path, sizeof path, "%s/%s", dir, odd[i].file);
		remove(path);
	}
	fmt(path, sizeof path, "%s/not-a-plugin.so", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* ---- a store plugin behind uri.h ---- */

static int collect(const char *uri, void *arg)
{
	strcat(arg, uri);
	strcat(arg, ";");
	return 0;
}

START_TEST(test_store_memtest)
{
	struct ml_err err = ML_ERR_INIT;
	const char text[] = "price,mileage\n12000,50000\n";
	use_test_dir();
	ck_assert_msg(ml_plugin_load_store_for_scheme("memtest", &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ml_plugin_load_store_for_scheme("memtest", &err), 0);

	struct ml_ostream *out = ml_open_write("memtest://a/b", ML_WRITE_ATOMIC, &err);
	ck_assert_msg(out != NULL, "%s", err.msg);
	ck_assert_int_eq(ml_ostream_write(out, text, sizeof text - 1, &err), 0);
	ck_assert_ptr_null(ml_open_read("memtest://a/b", &err));	/* not before commit */
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	ck_assert_int_eq(ml_ostream_close(out, 1, &err), 0);

	size_t len;
	char *back = ml_read_all("memtest://a/b", 1 << 20, &len, &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	ck_assert_uint_eq(len, sizeof text - 1);
	ck_assert_str_eq(back, text);
	free(back);

	/* An aborted write leaves nothing; list and remove through the ops. */
	out = ml_open_write("memtest://a/c", ML_WRITE_ATOMIC, &err);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(ml_ostream_write(out, "x", 1, &err), 0);
	ck_assert_int_eq(ml_ostream_close(out, 0, &err), 0);
	ck_assert_int_eq(ml_write_all_atomic("memtest://a/a", "1", 1, &err), 0);
	const struct ml_plugin *p = ml_plugin_load(ML_PLUGIN_STORE, "memtest", &err);
	ck_assert_ptr_nonnull(p);
	char seen[256] = "";
	ck_assert_int_eq(p->ops.store->list("memtest://a/", collect, seen, &err), 0);
	ck_assert_str_eq(seen, "memtest://a/a;memtest://a/b;");
	ck_assert_int_eq(p->ops.store->remove("memtest://a/b", &err), 0);
	ck_assert_ptr_null(ml_open_read("memtest://a/b", &err));
}
END_TEST

START_TEST(test_store_loaded_on_first_use)
{
	struct ml_err err = ML_ERR_INIT;
	size_t len;
	use_test_dir();
	ck_assert_msg(ml_write_all_atomic("memtest://auto", "hi", 2, &err) == 0, "%s", err.msg);
	char *back = ml_read_all("memtest://auto", 16, &len, &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	ck_assert_str_eq(back, "hi");
	free(back);

	/* After unload_all the scheme is loaded afresh (an empty store). */
	ml_plugin_unload_all();
	use_test_dir();
	ck_assert_ptr_null(ml_open_read("memtest://auto", &err));
	ck_assert_int_eq(err.class, ML_ERR_NOINPUT);
	assert_has(err.msg, "no such object");
}
END_TEST

static const struct {
	const char *scheme;
	enum ml_errclass class;
	const char *why;
} bad_schemes[] = {
	{ "nosuch", ML_ERR_UNAVAILABLE,
	  "no store plugin for \"nosuch://\" URIs (no ml-store-nosuch.so in " },
	{ "git+ssh", ML_ERR_UNAVAILABLE, "no store plugin for \"git+ssh://\" URIs" },
	{ "Bad", ML_ERR_USAGE, "invalid URI scheme" },
	{ "a/b", ML_ERR_USAGE, "invalid URI scheme" },
	{ "", ML_ERR_USAGE, "invalid URI scheme" },
};

START_TEST(test_store_not_found)
{
	struct ml_err err = ML_ERR_INIT;
	use_test_dir();
	ck_assert_int_eq(ml_plugin_load_store_for_scheme(bad_schemes[_i].scheme, &err), -1);
	ck_assert_int_eq(err.class, bad_schemes[_i].class);
	ck_assert_msg(strncmp(err.msg, bad_schemes[_i].why, strlen(bad_schemes[_i].why)) == 0,
		      "%s", err.msg);
	if (strcmp(bad_schemes[_i].scheme, "nosuch") == 0)
		assert_has(err.msg, "; see --list-plugins");
}
END_TEST

START_TEST(test_wrong_kind_for_scheme)
{
	struct ml_err err = ML_ERR_INIT;
	use_test_dir();
	ck_assert_int_eq(ml_plugin_load_store_for_scheme("wrongkind", &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	assert_has(err.msg, "declares kind algo");
	ck_assert_ptr_null(ml_open_read("wrongkind://x", &err));
	assert_has(err.msg, "declares kind algo");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *make_suite(void)
{
	Suite *s = suite_create("plugin");
	TCase *tc = tcase_create("loader");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_kind_prefix, 0, N(prefixes));
	tcase_add_test(tc, test_search_path_order);
	tcase_add_test(tc, test_relative_dir_refused);
	tcase_add_loop_test(tc, test_bad_names, 0, N(bad_names));
	tcase_add_test(tc, test_load_good);
	tcase_add_test(tc, test_fini_and_reload);
	tcase_add_test(tc, test_bad_abi);
	tcase_add_loop_test(tc, test_refusals, 0, N(refusals));
	tcase_add_test(tc, test_init_failure_message);
	tcase_add_test(tc, test_not_found_lists_dirs);
	tcase_add_test(tc, test_writable_refused);
	tcase_add_test(tc, test_symlink_and_directory_refused);
	tcase_add_test(tc, test_builtin);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_shadowed);
	tcase_add_test(tc, test_list_odd_files);
	tcase_add_test(tc, test_store_memtest);
	tcase_add_test(tc, test_store_loaded_on_first_use);
	tcase_add_loop_test(tc, test_store_not_found, 0, N(bad_schemes));
	tcase_add_test(tc, test_wrong_kind_for_scheme);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
