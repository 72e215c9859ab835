/*
 * cli.c - option parsing shared by every filter: one table per tool gives
 * long options, --help text, environment variables and YAML keys, applied in
 * the order default < YAML section < environment < command line.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mlpipe/buf.h"
#include "mlpipe/cli.h"
#include "mlpipe/config.h"
#include "mlpipe/log.h"
#include "mlpipe/plugin.h"
#include "mlpipe/progress.h"

#define MAX_OPTS 256

/* Where a value came from; a higher source replaces a list, not extends it. */
enum source { SRC_DEFAULT, SRC_CONFIG, SRC_ENV, SRC_CLI };

struct slot {
	const struct ml_opt *opt;
	enum source source;
	int on_cli;		/* given on the command line: the environment is not consulted */
};

static struct parser {
	const struct ml_cli *cli;
	struct slot slots[MAX_OPTS];
	size_t nslots;
	int help, version;
	int no_progress;
} P;

static struct ml_common_opts common = { .progress = -1 };
static struct ml_strlist owned_strings;	/* every ML_OPT_STRING value we allocated */
static json_t *config_doc;
static const json_t *config_section;

static const struct ml_opt common_table[] = {
	{ "help", 'h', ML_OPT_FLAG, &P.help, NULL, "show this help and exit", NULL, ML_OPTF_CLI_ONLY },
	{ "version", 0, ML_OPT_FLAG, &P.version, NULL, "show the version and exit", NULL,
	  ML_OPTF_CLI_ONLY },
	{ "verbose", 'v', ML_OPT_COUNT, &common.verbose, NULL,
	  "say more on stderr: -v summaries, -vv debugging" },
	{ "quiet", 'q', ML_OPT_FLAG, &common.quiet, NULL, "print errors only" },
	{ "config", 0, ML_OPT_STRING, &common.config, "FILE",
	  "read settings from this YAML file's section (also MLPIPE_CONFIG)", NULL, ML_OPTF_CLI_ONLY },
	{ "progress", 0, ML_OPT_FLAG, &common.progress, NULL,
	  "show a progress line on stderr even when it is not a terminal" },
	{ "no-progress", 0, ML_OPT_FLAG, &P.no_progress, NULL, "never show a progress line" },
	{ "plugin-dir", 0, ML_OPT_LIST, &common.plugin_dirs, "DIR",
	  "look for plugins in DIR first (absolute; repeatable)", NULL, ML_OPTF_CLI_ONLY | ML_OPTF_NO_SPLIT },
	{ "list-plugins", 0, ML_OPT_FLAG, &common.list_plugins, NULL,
	  "list the plugins found, with their versions, and exit", NULL, ML_OPTF_CLI_ONLY },
	ML_OPT_END,
};

const struct ml_common_opts *ml_cli_common(void)
{
	return &common;
}

const struct json_t *ml_cli_config_section(void)
{
	return config_section;
}

/* ---- string lists ---- */

int ml_strlist_push(struct ml_strlist *l, const char *s, struct ml_err *err)
{
	if (l->n == l->alloc) {
		size_t alloc = l->alloc ? 2 * l->alloc : 8;
		char **items = ml_realloc_array(l->items, alloc, sizeof *items, err);
		if (!items)
			return -1;
		l->items = items;
		l->alloc = alloc;
	}
	if (!(l->items[l->n] = ml_strdup(s, err)))
		return -1;
	l->n++;
	return 0;
}

void ml_strlist_clear(struct ml_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

int ml_strlist_push_split(struct ml_strlist *l, const char *csv, struct ml_err *err)
{
	const char *p = csv;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			return ml_err_set(err, ML_ERR_USAGE, "empty item in the list \"%s\"", csv);
		char *item = strndup(p, len);
		if (!item)
			return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
		int rc = ml_strlist_push(l, item, err);
		free(item);
		if (rc < 0)
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* ---- converting one value ---- */

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on", NULL };
	static const char *const no[] = { "0", "false", "no", "off", NULL };
	for (int i = 0; yes[i]; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

static int choice_index(const char *choices, const char *value)
{
	size_t vlen = strlen(value);
	int index = 0;
	for (const char *p = choices;; index++) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == vlen && !strncmp(p, value, len))
			return index;
		if (!bar)
			return -1;
		p = bar + 1;
	}
}

static int set_string(char **dest, const char *value, struct ml_err *err)
{
	if (ml_strlist_push(&owned_strings, value, err) < 0)
		return -1;
	*dest = owned_strings.items[owned_strings.n - 1];
	return 0;
}

static int set_long(const struct ml_opt *o, const char *value, const char *where,
		    enum ml_errclass class, struct ml_err *err)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || end == value || *end)
		return ml_err_set(err, class, "%s: expected a whole number, got \"%s\"", where, value);
	if (o->imin < o->imax && (v < o->imin || v > o->imax))
		return ml_err_set(err, class, "%s: %ld is out of range (%ld to %ld)", where, v, o->imin,
				  o->imax);
	*(long *)o->dest = v;
	return 0;
}

static int set_double(const struct ml_opt *o, const char *value, const char *where,
		      enum ml_errclass class, struct ml_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	if (errno || end == value || *end || !isfinite(v))
		return ml_err_set(err, class, "%s: expected a number, got \"%s\"", where, value);
	*(double *)o->dest = v;
	return 0;
}

/*
 * Store value into o's destination.  where names the source for messages
 * ("option --eta", "MLPIPE_ETA", "p.yaml: train.eta").
 */
static int set_value(struct slot *s, const char *value, enum source src, const char *where,
		     struct ml_err *err)
{
	const struct ml_opt *o = s->opt;
	enum ml_errclass class = src == SRC_CLI ? ML_ERR_USAGE : ML_ERR_CONFIG;
	int raised = src > s->source;
	s->source = src;
	switch (o->type) {
	case ML_OPT_FLAG:
		if (!value)
			return *(int *)o->dest = 1, 0;
		if (parse_bool(value, o->dest) < 0)
			return ml_err_set(err, class, "%s: expected true or false, got \"%s\"", where, value);
		return 0;
	case ML_OPT_COUNT: {
		int *count = o->dest;
		if (raised)
			*count = 0;
		if (!value)
			return (*count)++, 0;
		char *end;
		long v = strtol(value, &end, 10);
		if (end == value || *end || v < 0 || v > 9)
			return ml_err_set(err, class, "%s: expected a count 0 to 9, got \"%s\"", where, value);
		*count = (int)v;
		return 0;
	}
	case ML_OPT_STRING:
		return set_string(o->dest, value, err);
	case ML_OPT_INT:
		return set_long(o, value, where, class, err);
	case ML_OPT_DOUBLE:
		return set_double(o, value, where, class, err);
	case ML_OPT_LIST: {
		struct ml_strlist *l = o->dest;
		if (raised)
			ml_strlist_clear(l);
		int rc = (o->flags & ML_OPTF_NO_SPLIT) ? ml_strlist_push(l, value, err)
						      : ml_strlist_push_split(l, value, err);
		if (rc < 0 && err)
			ml_err_prefix(err, "%s", where);
		if (rc < 0 && err)
			err->class = class;
		return rc;
	}
	case ML_OPT_CHOICE: {
		int index = choice_index(o->choices, value);
		if (index < 0)
			return ml_err_set(err, class, "%s: \"%s\" is not one of %s", where, value, o->choices);
		*(int *)o->dest = index;
		return 0;
	}
	case ML_OPT_CALLBACK:
		if (o->cb(o, value, o->dest, err) < 0) {
			if (err)
				err->class = class;
			return ml_err_prefix(err, "%s", where);
		}
		return 0;
	}
	return ml_err_set(err, ML_ERR_INTERNAL, "option --%s has an unknown type", o->name);
}

/* ---- the option tables ---- */

static int takes_argument(const struct ml_opt *o)
{
	return o->type != ML_OPT_FLAG && o->type != ML_OPT_COUNT;
}

static int collect_slots(const struct ml_cli *cli, struct ml_err *err)
{
	P.nslots = 0;
	const struct ml_opt *const *tables = cli->tables;
	for (size_t t = 0;; t++) {
		const struct ml_opt *table = t == 0 ? common_table : tables ? tables[t - 1] : NULL;
		if (!table)
			break;
		for (const struct ml_opt *o = table; o->name; o++) {
			if (P.nslots == MAX_OPTS)
				return ml_err_set(err, ML_ERR_INTERNAL, "%s has too many options", cli->tool);
			P.slots[P.nslots++] = (struct slot){ o, SRC_DEFAULT, 0 };
		}
	}
	return 0;
}

/* Option names match with '-' and '_' taken as the same letter. */
static int same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = *a == '-' ? '_' : *a, cb = *b == '-' ? '_' : *b;
		if (ca != cb)
			return 0;
	}
	return *a == *b;
}

static struct slot *slot_by_name(const char *name)
{
	for (size_t i = 0; i < P.nslots; i++)
		if (same_name(P.slots[i].opt->name, name))
			return &P.slots[i];
	return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 64;
	size_t row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The option a misspelt name most likely meant, or NULL. */
static const char *closest_option(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;	/* suggest only within two edits */
	for (size_t i = 0; i < P.nslots; i++) {
		size_t d = edit_distance(name, P.slots[i].opt->name);
		if (d < best_d) {
			best_d = d;
			best = P.slots[i].opt->name;
		}
	}
	return best;
}

/* ---- sources: YAML section, environment, command line ---- */

static int load_config(const char *path, struct ml_err *err)
{
	config_doc = ml_config_load_yaml(path, err);
	if (!config_doc)
		return -1;
	const char *section = P.cli->section;
	json_t *sec = section ? json_object_get(config_doc, section) : NULL;
	if (sec && !json_is_object(sec) && !json_is_null(sec))
		return ml_err_set(err, ML_ERR_CONFIG, "%s: section \"%s:\" must be a mapping of option: value",
				  path, section);
	config_section = json_is_object(sec) ? sec : NULL;
	return 0;
}

static int apply_config_value(struct slot *s, const json_t *value, const char *where,
			      struct ml_err *err)
{
	if (json_is_null(value))
		return 0;
	if (json_is_array(value)) {
		if (s->opt->type != ML_OPT_LIST)
			return ml_err_set(err, ML_ERR_CONFIG, "%s: expected one value, found a list", where);
		size_t i;
		const json_t *item;
		json_array_foreach(value, i, item) {
			if (!json_is_string(item))
				return ml_err_set(err, ML_ERR_CONFIG, "%s: list items must be plain values",
						  where);
			if (set_value(s, json_string_value(item), SRC_CONFIG, where, err) < 0)
				return -1;
		}
		return 0;
	}
	if (json_is_string(value))
		return set_value(s, json_string_value(value), SRC_CONFIG, where, err);
	if (s->opt->type != ML_OPT_CALLBACK)
		return ml_err_set(err, ML_ERR_CONFIG, "%s: expected a plain value, found a mapping", where);
	/* Structured settings go to the filter's callback as compact JSON. */
	char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	int rc = set_value(s, text, SRC_CONFIG, where, err);
	free(text);
	return rc;
}

static int sibling_key(const char *key)
{
	const struct ml_opt *const *t = P.cli->config_siblings;
	for (; t && *t; t++)
		for (const struct ml_opt *o = *t; o->name; o++)
			if (same_name(o->name, key))
				return 1;
	return 0;
}

static int apply_config(struct ml_err *err)
{
	if (!config_section)
		return 0;
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)config_section, key, value) {
		char where[256];
		snprintf(where, sizeof where, "%s: %s.%s", common.config, P.cli->section, key);
		struct slot *s = slot_by_name(key);
		if (!s && sibling_key(key))
			continue;
		if (!s || (s->opt->flags & ML_OPTF_CLI_ONLY)) {
			const char *hint = closest_option(key);
			return ml_err_set(err, ML_ERR_CONFIG, "%s: %s has no option \"%s\"%s%s%s",
					  common.config, P.cli->tool, key, hint ? "; did you mean \"" : "",
					  hint ? hint : "", hint ? "\"?" : "");
		}
		if (apply_config_value(s, value, where, err) < 0)
			return -1;
	}
	return 0;
}

static void env_name(char *buf, size_t bufsz, const char *section, const char *name)
{
	snprintf(buf, bufsz, "MLPIPE_%s%s%s", section ? section : "", section ? "_" : "", name);
	for (char *p = buf; *p; p++)
		*p = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
}

static int apply_environment(struct ml_err *err)
{
	for (size_t i = 0; i < P.nslots; i++) {
		struct slot *s = &P.slots[i];
		if ((s->opt->flags & ML_OPTF_CLI_ONLY) || s->on_cli)
			continue;	/* a value the command line replaces is not even parsed */
		char name[160];
		env_name(name, sizeof name, P.cli->section, s->opt->name);
		const char *value = getenv(name);
		if (!value) {
			env_name(name, sizeof name, NULL, s->opt->name);
			value = getenv(name);
		}
		if (value && set_value(s, value, SRC_ENV, name, err) < 0)
			return -1;
	}
	return 0;
}

static int build_getopt(struct option *longs, char *shorts, size_t shortsz)
{
	size_t ns = 0;
	shorts[ns++] = ':';	/* report a missing argument as ':' */
	for (size_t i = 0; i < P.nslots; i++) {
		const struct ml_opt *o = P.slots[i].opt;
		int arg = !takes_argument(o) ? no_argument
			  : (o->flags & ML_OPTF_OPTIONAL_ARG) ? optional_argument
							      : required_argument;
		longs[i] = (struct option){ o->name, arg, NULL, (int)(i + 256) };
		if (o->shortopt && ns + 3 < shortsz) {
			shorts[ns++] = (char)o->shortopt;
			if (arg != no_argument)
				shorts[ns++] = ':';
			if (arg == optional_argument)
				shorts[ns++] = ':';
		}
	}
	longs[P.nslots] = (struct option){ 0 };
	shorts[ns] = '\0';
	return 0;
}

static struct slot *slot_by_short(int c)
{
	for (size_t i = 0; i < P.nslots; i++)
		if (P.slots[i].opt->shortopt == c)
			return &P.slots[i];
	return NULL;
}

static int unknown_option(char **argv, struct ml_err *err)
{
	const char *arg = argv[optind - 1];
	if (optopt && !(arg[0] == '-' && arg[1] == '-'))
		return ml_err_set(err, ML_ERR_USAGE, "invalid option -- '%c'", optopt);
	char name[128];
	snprintf(name, sizeof name, "%s", arg + 2);
	name[strcspn(name, "=")] = '\0';
	size_t len = strlen(name), matches = 0;
	char list[256] = "";
	for (size_t i = 0; i < P.nslots && len; i++) {
		const char *opt = P.slots[i].opt->name;
		if (strncmp(opt, name, len) != 0)
			continue;
		matches++;
		size_t used = strlen(list);
		snprintf(list + used, sizeof list - used, " --%s", opt);
	}
	if (matches > 1)
		return ml_err_set(err, ML_ERR_USAGE, "option '--%s' is ambiguous; possibilities:%s", name, list);
	const char *hint = closest_option(name);
	return ml_err_set(err, ML_ERR_USAGE, "unrecognized option '--%s'%s%s%s", name,
			  hint ? "; did you mean '--" : "", hint ? hint : "", hint ? "'?" : "");
}

static int missing_argument(char **argv, struct ml_err *err)
{
	const char *arg = argv[optind - 1];
	if (arg[0] == '-' && arg[1] == '-')
		return ml_err_set(err, ML_ERR_USAGE, "option '%s' requires an argument", arg);
	return ml_err_set(err, ML_ERR_USAGE, "option requires an argument -- '%c'", optopt);
}

/* Which options the command line gives, before the environment is read (errors come later). */
static void mark_command_line(int argc, char **argv)
{
	static struct option longs[MAX_OPTS + 1];
	char shorts[MAX_OPTS * 3 + 2];
	build_getopt(longs, shorts, sizeof shorts);
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		struct slot *s = c >= 256 ? &P.slots[c - 256] : c == '?' || c == ':' ? NULL : slot_by_short(c);
		if (s)
			s->on_cli = 1;
	}
}

static int parse_command_line(int argc, char **argv, struct ml_err *err)
{
	static struct option longs[MAX_OPTS + 1];
	char shorts[MAX_OPTS * 3 + 2];
	build_getopt(longs, shorts, sizeof shorts);
	optind = 0;	/* glibc: reinitialise (a subcommand may parse twice) */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		struct slot *s = c >= 256 ? &P.slots[c - 256] : c == '?' || c == ':' ? NULL : slot_by_short(c);
		if (c == '?')
			return unknown_option(argv, err);
		if (c == ':')
			return missing_argument(argv, err);
		if (!s)
			return ml_err_set(err, ML_ERR_INTERNAL, "option table and getopt disagree");
		char where[140];
		snprintf(where, sizeof where, "option --%s", s->opt->name);
		if (set_value(s, takes_argument(s->opt) ? optarg : NULL, SRC_CLI, where, err) < 0)
			return -1;
	}
	return 0;
}

/* --help and --version win over everything, even a broken config file. */
static int find_early_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], flag))
			return 1;
	}
	return 0;
}

static const char *config_path_from_argv(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	const char *env = getenv("MLPIPE_CONFIG");
	return env && *env ? env : NULL;
}

static int apply_common(struct ml_err *err)
{
	ml_set_verbosity(common.quiet ? ML_LOG_ERROR : common.verbose);
	if (P.no_progress)
		common.progress = 0;
	ml_progress_set_mode(common.progress);
	/* Given first, searched first: add in reverse. */
	for (size_t i = common.plugin_dirs.n; i-- > 0;)
		if (ml_plugin_add_dir(common.plugin_dirs.items[i], err) < 0)
			return -1;
	return 0;
}

static void print_version(const struct ml_cli *cli)
{
	printf("%s (mlpipe) %s\n", cli->tool, MLPIPE_VERSION);
}

int ml_cli_parse(const struct ml_cli *cli, int argc, char **argv, int *first_arg,
		 struct ml_err *err)
{
	P.cli = cli;
	json_decref(config_doc);	/* a second parse (subcommands, tests) starts clean */
	config_doc = NULL;
	config_section = NULL;
	common.config = NULL;
	if (collect_slots(cli, err) < 0)
		return ML_CLI_ERROR;
	if (find_early_flag(argc, argv, "--help") || find_early_flag(argc, argv, "-h")) {
		ml_cli_usage(cli);
		return ML_CLI_DONE;
	}
	if (find_early_flag(argc, argv, "--version")) {
		print_version(cli);
		return ML_CLI_DONE;
	}
	const char *config = config_path_from_argv(argc, argv);
	if (config && (set_string(&common.config, config, err) < 0 || load_config(config, err) < 0))
		return ML_CLI_ERROR;
	mark_command_line(argc, argv);
	if (apply_config(err) < 0 || apply_environment(err) < 0 ||
	    parse_command_line(argc, argv, err) < 0 || apply_common(err) < 0)
		return ML_CLI_ERROR;
	if (P.help) {
		ml_cli_usage(cli);
		return ML_CLI_DONE;
	}
	if (P.version) {
		print_version(cli);
		return ML_CLI_DONE;
	}
	if (common.list_plugins) {
		ml_plugin_list(stdout);
		return ML_CLI_DONE;
	}
	if (first_arg)
		*first_arg = optind;
	return ML_CLI_CONTINUE;
}

/* ---- --help ---- */

static void print_option(const struct ml_opt *o)
{
	if (o->flags & ML_OPTF_HIDDEN)
		return;
	char left[128], shortname[8] = "    ";
	if (o->shortopt)
		snprintf(shortname, sizeof shortname, "-%c, ", o->shortopt);
	const char *arg = o->type == ML_OPT_CHOICE && !o->argname ? o->choices : o->argname;
	int optional = (o->flags & ML_OPTF_OPTIONAL_ARG) != 0;
	if (takes_argument(o))
		snprintf(left, sizeof left, "  %s--%s%s%s%s", shortname, o->name, optional ? "[=" : "=",
			 arg ? arg : "VALUE", optional ? "]" : "");
	else
		snprintf(left, sizeof left, "  %s--%s", shortname, o->name);
	if (strlen(left) < 30)
		printf("%-30s%s\n", left, o->help ? o->help : "");
	else
		printf("%s\n%30s%s\n", left, "", o->help ? o->help : "");
	if (o->type == ML_OPT_CHOICE && o->argname)
		printf("%30s(%s)\n", "", o->choices);
}

static void print_exit_status(const struct ml_cli *cli)
{
	printf("\nExit status:\n");
	if (cli->exit_status)
		printf("%s", cli->exit_status);
	else
		printf("  0   success\n");
	printf("  64  usage error (bad option or argument)\n"
	       "  65  bad input data, model or artifact\n"
	       "  66  input missing or unreadable\n"
	       "  69  a backend, plugin or feature is unavailable\n"
	       "  70  internal error (a bug: please report it)\n"
	       "  74  read or write error\n"
	       "  75  temporary failure; retrying may succeed\n"
	       "  78  configuration error\n");
}

void ml_cli_usage(const struct ml_cli *cli)
{
	printf("Usage: %s\n", cli->synopsis ? cli->synopsis : cli->tool);
	if (cli->summary)
		printf("%s\n", cli->summary);
	int any = 0;
	for (size_t t = 0; cli->tables && cli->tables[t]; t++)
		any |= cli->tables[t]->name != NULL;
	if (any)
		printf("\nOptions:\n");
	for (size_t t = 0; cli->tables && cli->tables[t]; t++)
		for (const struct ml_opt *o = cli->tables[t]; o->name; o++)
			print_option(o);
	printf("\nCommon options:\n");
	for (const struct ml_opt *o = common_table; o->name; o++)
		print_option(o);
	if (cli->section) {
		char upper[64];
		env_name(upper, sizeof upper, cli->section, "");
		printf("\nEvery option may also be set in the environment as %sNAME or MLPIPE_NAME,\n"
		       "or as a key of the \"%s:\" section of the --config YAML file; the command\n"
		       "line wins over the environment, which wins over the file.\n",
		       upper, cli->section);
	}
	if (cli->epilog)
		printf("\n%s", cli->epilog);
	print_exit_status(cli);
	printf("\nFull documentation: man %s\n", cli->tool);
}

/* ---- errors and the program's life ---- */

int ml_usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ml_error("%s", msg);
	fprintf(stderr, "Try '%s --help' for more information.\n", ml_progname());
	return ML_EXIT_USAGE;
}

int ml_cli_exit(int status, const struct ml_err *err)
{
	if (status == ML_CLI_DONE)
		return ML_EXIT_OK;
	int code = ml_fail(err);
	if (err && err->class == ML_ERR_USAGE)
		fprintf(stderr, "Try '%s --help' for more information.\n", ml_progname());
	return code;
}

void ml_cli_release(void)
{
	for (size_t i = 0; i < P.nslots; i++)
		if (P.slots[i].opt->type == ML_OPT_LIST)
			ml_strlist_clear(P.slots[i].opt->dest);
	ml_strlist_clear(&owned_strings);
	common.config = NULL;
	json_decref(config_doc);
	config_doc = NULL;
	config_section = NULL;
}

int ml_not_built_yet(const char *what)
{
	ml_error("%s is not supported yet in mlpipe %s (see README.md, \"Status\")", what,
		 MLPIPE_VERSION);
	return ML_EXIT_UNAVAILABLE;
}

/* Flush stdout; a failure here is a lost result and must not exit 0. */
static int close_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return rc;
		ml_error("write error on standard output: %s", strerror(errno));
		return rc ? rc : ML_EXIT_IOERR;
	}
	return rc;
}

int ml_main(int argc, char **argv, ml_cmd_fn cmd)
{
	ml_set_progname(argv[0]);
	/* A reader that goes away (| head) ends us quietly, as it does cat. */
	signal(SIGPIPE, SIG_DFL);
	int rc = cmd(argc, argv);
	rc = close_stdout(rc);
	ml_cli_release();
	ml_plugin_unload_all();
	return rc;
}

/* ---- subcommands ---- */

const struct ml_subcommand *ml_subcommand_find(const struct ml_subcommand *subs, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(name, subs[i].name))
			return &subs[i];
	return NULL;
}

size_t ml_subcommand_siblings(const struct ml_subcommand *subs, size_t n, const struct ml_subcommand *except,
			      const struct ml_opt **out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (&subs[i] != except)
			out[k++] = subs[i].opts;
	out[k] = NULL;
	return k;
}
