/*
 * cli.h - the command-line conventions every filter shares.
 *
 * A filter declares its options in tables and hands argv to ml_cli_parse().
 * Each option has a long name and gets its value from, in this order of
 * precedence (DESIGN.md section 5):
 *
 *   1. the command line               --num_round 100
 *   2. the environment                MLPIPE_TRAIN_NUM_ROUND=100, then MLPIPE_NUM_ROUND=100
 *   3. the YAML file's tool section   --config p.yaml (or MLPIPE_CONFIG), "train: {num_round: 100}"
 *   4. the default                    whatever *dest held before parsing
 *
 * Environment names are MLPIPE_ + [section_] + the long name upper-cased with
 * '-' as '_'.  Options marked ML_OPTF_CLI_ONLY (--help, --config, ...) come
 * only from the command line.
 *
 * A filter is:
 *
 *     static int cmd_score(int argc, char **argv)
 *     {
 *             static const struct ml_opt opts[] = {
 *                     { "model", 'm', ML_OPT_LIST, &models, "FILE", "model artifact (repeatable)" },
 *                     ML_OPT_END
 *             };
 *             static const struct ml_cli cli = { .tool = "ml-score", .section = "score", ... };
 *             int first;
 *             int rc = ml_cli_parse(&cli, argc, argv, &first, &err);
 *             if (rc != ML_CLI_CONTINUE)
 *                     return ml_cli_exit(rc, &err);
 *             ...
 *     }
 *     int main(int argc, char **argv) { return ml_main(argc, argv, cmd_score); }
 */
#ifndef MLPIPE_CLI_H
#define MLPIPE_CLI_H

#include <stddef.h>

#include "err.h"

#ifndef MLPIPE_VERSION
#define MLPIPE_VERSION "0.1.0"
#endif

/* A growable list of strings for repeatable options; strings are owned. */
struct ml_strlist {
	char **items;
	size_t n;
	size_t alloc;
};

int ml_strlist_push(struct ml_strlist *l, const char *s, struct ml_err *err);
void ml_strlist_clear(struct ml_strlist *l);
/* Split "a,b,c" on commas and push each (empty items refused). */
int ml_strlist_push_split(struct ml_strlist *l, const char *csv, struct ml_err *err);

enum ml_opt_type {
	ML_OPT_FLAG,		/* int *: 1 when given; config/env take true/false/yes/no/1/0 */
	ML_OPT_COUNT,		/* int *: +1 each time (-vv) */
	ML_OPT_STRING,		/* char **: strdup'd value; owned, replaced on repeat */
	ML_OPT_INT,		/* long *: whole number, range-checked */
	ML_OPT_DOUBLE,		/* double *: finite number */
	ML_OPT_LIST,		/* struct ml_strlist *: repeatable, "a,b" gives two items (unless
				   ML_OPTF_NO_SPLIT); a YAML sequence gives several */
	ML_OPT_CHOICE,		/* int *: index of the value within choices "a|b|c" */
	ML_OPT_CALLBACK,	/* ml_opt_cb: the filter converts the text itself */
};

enum ml_opt_flags {
	ML_OPTF_CLI_ONLY = 1 << 0,	/* not from config or environment */
	ML_OPTF_HIDDEN = 1 << 1,	/* not in --help */
	ML_OPTF_OPTIONAL_ARG = 1 << 2,	/* --opt or --opt=value */
	ML_OPTF_NO_SPLIT = 1 << 3,	/* ML_OPT_LIST: a value is one item even with commas */
};

struct ml_opt;
typedef int (*ml_opt_cb)(const struct ml_opt *opt, const char *value, void *dest,
			 struct ml_err *err);

struct ml_opt {
	const char *name;	/* long name without "--"; NULL ends a table */
	int shortopt;		/* 'm', or 0 */
	enum ml_opt_type type;
	void *dest;
	const char *argname;	/* "FILE", "N"; NULL for flags */
	const char *help;	/* one line for --help */
	const char *choices;	/* ML_OPT_CHOICE: "fail|skip" */
	unsigned flags;		/* enum ml_opt_flags */
	ml_opt_cb cb;		/* ML_OPT_CALLBACK */
	long imin, imax;	/* ML_OPT_INT bounds when imin < imax */
};

#define ML_OPT_END { 0 }

struct ml_cli {
	const char *tool;		/* "ml-score" */
	const char *section;		/* YAML section and env infix: "score" */
	const char *synopsis;		/* "ml-score [OPTION]... -m MODEL [FILE]..." (may hold \n) */
	const char *summary;		/* a paragraph for --help */
	const struct ml_opt *const *tables;	/* NULL-terminated list of option tables */
	const char *epilog;		/* optional text after the options (examples) */
	const char *exit_status;	/* optional: what 0 and 1 mean for this tool */
	/* Subcommands sharing one YAML section: their keys are accepted there
	 * (and left to them) rather than refused as unknown. NULL-terminated. */
	const struct ml_opt *const *config_siblings;
};

/* One command of a tool that has several (ml-preprocess fit, ml-model push, ...). */
struct ml_subcommand {
	const char *name;
	const char *synopsis;
	const char *summary;
	const struct ml_opt *opts;
	int (*run)(int argc, char **argv, int first);
	int flags;			/* the tool's own */
};

/* The subcommand named name among subs[0..n), or NULL. */
const struct ml_subcommand *ml_subcommand_find(const struct ml_subcommand *subs, size_t n, const char *name);

/*
 * The option tables of every subcommand but except (NULL: of all) into
 * out, which holds n + 1 entries; NULL-terminated, with room for the caller
 * to add tables after the returned count.  For ml_cli.config_siblings: the
 * subcommands share one YAML section.
 */
size_t ml_subcommand_siblings(const struct ml_subcommand *subs, size_t n, const struct ml_subcommand *except,
			      const struct ml_opt **out);

/* Options every filter has, filled by ml_cli_parse(). */
struct ml_common_opts {
	int verbose;			/* -v count */
	int quiet;			/* -q */
	int progress;			/* -1 auto (stderr is a tty), 0 off, 1 on */
	char *config;			/* --config FILE */
	struct ml_strlist plugin_dirs;	/* --plugin-dir DIR */
	int list_plugins;
};

const struct ml_common_opts *ml_cli_common(void);

enum ml_cli_status {
	ML_CLI_CONTINUE = 0,	/* run the command; *first_arg indexes the operands */
	ML_CLI_DONE = 1,	/* --help / --version / --list-plugins was served */
	ML_CLI_ERROR = -1,	/* err says why (usage or config) */
};

/*
 * Parse argv (argv[0] is the command name; for subcommands pass the
 * subcommand's argc/argv).  Applies config, environment and command line
 * into the dest fields, sets verbosity and plugin directories, and serves
 * --help, --version and --list-plugins itself.
 */
int ml_cli_parse(const struct ml_cli *cli, int argc, char **argv, int *first_arg,
		 struct ml_err *err);

/* Map a non-CONTINUE status to an exit code, printing err for errors. */
int ml_cli_exit(int status, const struct ml_err *err);

/* Print --help text for cli to stdout. */
void ml_cli_usage(const struct ml_cli *cli);

/* A usage error: "prog: msg" and "Try 'prog --help'." on stderr; returns 64. */
int ml_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The "section" object of the loaded --config file, or NULL (borrowed). */
struct json_t;
const struct json_t *ml_cli_config_section(void);

/* Release everything the parser allocated (options' strings, lists). */
void ml_cli_release(void);

/*
 * Run cmd as the whole program: set the program name, run, then flush and
 * close stdout and report a write error (74).  A closed pipe on stdout ends
 * the program quietly.
 */
typedef int (*ml_cmd_fn)(int argc, char **argv);
int ml_main(int argc, char **argv, ml_cmd_fn cmd);

/* A filter whose behaviour belongs to a later release exits 69 with this. */
int ml_not_built_yet(const char *what);

#endif
