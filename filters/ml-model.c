/*
 * ml-model - the model registry: versioned models by name with "latest" and
 * "best" pointers, in a directory or an s3:// prefix (registry.h).
 *
 *   ml-model push MODEL --registry R [--name N] [--baseline DIR]
 *   ml-model list [NAME] --registry R
 *   ml-model show NAME[@VERSION|@latest|@best] --registry R
 *   ml-model promote NAME@VERSION --registry R
 *   ml-model fetch NAME[@...] --registry R [-o FILE] [--baseline-out DIR]
 *   ml-model config FILE KEY [--default VALUE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlpipe/cli.h"
#include "mlpipe/config.h"
#include "mlpipe/log.h"
#include "mlpipe/model.h"
#include "mlpipe/registry.h"

static char *registry;

static const struct ml_opt registry_opts[] = {
	{ "registry", 'r', ML_OPT_STRING, &registry, "DIR|URI", "the registry: a directory or an s3:// prefix" },
	ML_OPT_END,
};

static const char exit_status[] = "  0   success\n"
				  "  1   config: the key is not set (and no --default)\n";

/* A registry summary or entry as one compact JSON line on stdout. */
static int print_json_line(const json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (!text)
		return ML_EXIT_SOFTWARE;
	printf("%s\n", text);
	free(text);
	return 0;
}

/* ---- push ---- */

static struct {
	char *name, *baseline;
	int best;
} P;

static const struct ml_opt push_opts[] = {
	{ "name", 'n', ML_OPT_STRING, &P.name, "NAME", "the model's name (default: its target column)" },
	{ "baseline", 0, ML_OPT_STRING, &P.baseline, "DIR",
	  "also register ml-baseline's files from DIR (statistics.json, constraints.json)" },
	{ "best", 0, ML_OPT_FLAG, &P.best, NULL, "make the new version the best too (it beat the best)" },
	ML_OPT_END,
};

/* The version name@best points at now (0: none yet), for push --best. */
static int current_best(const char *name, long *version, struct ml_err *err)
{
	struct ml_registry_ref ref;
	json_t *e = NULL;
	char text[160];
	snprintf(text, sizeof text, "%s@best", name);
	if (ml_registry_parse_ref(text, &ref, err) < 0)
		return -1;
	int found = ml_registry_resolve(registry, &ref, &e, err);
	if (found < 0)
		return -1;
	ml_err_clear(err);
	*version = found ? (long)json_integer_value(json_object_get(e, "version")) : 0;
	json_decref(e);
	return 0;
}

/* The name a model gets by default: the column it predicts. */
static int default_name(const char *model, char **name, struct ml_err *err)
{
	struct ml_model *m = ml_model_load(model, err);
	const char *target = m ? ml_recipe_target(m->recipe) : NULL;
	if (m && !target)
		ml_err_set(err, ML_ERR_USAGE, "%s: the model names no target column: give --name", model);
	*name = target ? ml_strdup(target, err) : NULL;
	ml_model_free(m);
	return *name ? 0 : -1;
}

static int cmd_push(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	if (argc - first != 1)
		return ml_usage_error("push takes one model file");
	const char *model = argv[first];
	char *name = NULL;
	if (!P.name && default_name(model, &name, &err) < 0)
		return ml_fail(&err);
	struct ml_registry_push p = { .name = P.name ? P.name : name, .model_uri = model,
				      .baseline_dir = P.baseline, .source = model };
	json_t *s = NULL;
	if (P.best && current_best(p.name, &p.beaten, &err) < 0)
		goto out;
	p.best = P.best ? ML_REGISTRY_BEST_ALWAYS : ML_REGISTRY_BEST_IF_NONE;
	s = ml_registry_push(registry, &p, &err);
out:
	free(name);
	if (!s)
		return ml_fail(&err);
	ml_info("registered %s@%lld (%s)", json_string_value(json_object_get(s, "name")),
		(long long)json_integer_value(json_object_get(s, "version")),
		json_string_value(json_object_get(s, "uri")));
	int rc = print_json_line(s);
	json_decref(s);
	return rc;
}

/* ---- list ---- */

static int list_json;

static const struct ml_opt list_opts[] = {
	{ "json", 0, ML_OPT_FLAG, &list_json, NULL, "one JSON object a line instead of a table" },
	ML_OPT_END,
};

static void print_version_or_dash(const json_t *v)
{
	if (json_is_integer(v))
		printf("\t%lld", (long long)json_integer_value(v));
	else
		printf("\t-");
}

static int list_names(struct ml_err *err)
{
	json_t *names = ml_registry_names(registry, err);
	size_t i;
	json_t *s;
	if (!names)
		return ml_fail(err);
	if (!list_json && json_array_size(names))
		printf("NAME\tVERSIONS\tLATEST\tBEST\n");
	json_array_foreach(names, i, s) {
		if (list_json) {
			print_json_line(s);
			continue;
		}
		printf("%s\t%lld", json_string_value(json_object_get(s, "name")),
		       (long long)json_integer_value(json_object_get(s, "versions")));
		print_version_or_dash(json_object_get(s, "latest"));
		print_version_or_dash(json_object_get(s, "best"));
		printf("\n");
	}
	json_decref(names);
	return 0;
}

/* The RMSE people compare: validation's, or training's when there was none. */
static double judged_rmse(const json_t *e)
{
	const json_t *m = json_object_get(e, "metrics");
	const json_t *set = json_object_get(m, "validation");
	if (!set)
		set = json_object_get(m, "train");
	const json_t *r = json_object_get(set, "rmse");
	return json_is_number(r) ? json_number_value(r) : -1;
}

static int list_versions(const char *name, struct ml_err *err)
{
	json_t *idx = ml_registry_index(registry, name, err);
	struct ml_registry_ref ref = { .sel = ML_REGISTRY_VERSION };
	size_t i;
	json_t *e;
	if (!idx)
		return ml_fail(err);
	snprintf(ref.name, sizeof ref.name, "%s", name);
	if (!list_json)
		printf("VERSION\tCREATED\tSTATUS\tALGORITHM\tRMSE\tSHA256\tPOINTERS\n");
	json_array_foreach(json_object_get(idx, "versions"), i, e) {
		json_t *d = NULL;
		ref.version = (long)json_integer_value(json_object_get(e, "version"));
		if (ml_registry_resolve(registry, &ref, &d, err) <= 0) {
			json_decref(idx);
			return ml_fail(err);
		}
		if (list_json) {
			print_json_line(d);
		} else {
			int latest = json_is_true(json_object_get(d, "latest")), best = json_is_true(json_object_get(d, "best"));
			const char *alg = json_string_value(json_object_get(d, "algorithm"));
			double rmse = judged_rmse(d);
			printf("%ld\t%s\t%s\t%s\t", ref.version, json_string_value(json_object_get(d, "created")),
			       json_string_value(json_object_get(d, "status")), alg ? alg : "-");
			if (rmse >= 0)
				printf("%.6g", rmse);
			else
				printf("-");
			printf("\t%.12s\t%s%s%s\n", json_string_value(json_object_get(d, "sha256")), latest ? "latest" : "",
			       latest && best ? "," : "", best ? "best" : (latest ? "" : "-"));
		}
		json_decref(d);
	}
	json_decref(idx);
	return 0;
}

static int cmd_list(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	if (argc - first > 1)
		return ml_usage_error("list takes one model name at most");
	if (argc - first == 0)
		return list_names(&err);
	if (ml_registry_check_name(argv[first], &err) < 0)
		return ml_usage_error("%s", err.msg);
	return list_versions(argv[first], &err);
}

/* ---- show ---- */

static const struct ml_opt show_opts[] = { ML_OPT_END };

static int parse_ref_operand(int argc, char **argv, int first, const char *cmd, struct ml_registry_ref *ref)
{
	struct ml_err err = ML_ERR_INIT;
	if (argc - first != 1)
		return ml_usage_error("%s takes one model: NAME, NAME@VERSION, NAME@latest or NAME@best", cmd);
	if (ml_registry_parse_ref(argv[first], ref, &err) < 0)
		return ml_usage_error("%s", err.msg);
	return 0;
}

static int cmd_show(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_registry_ref ref;
	json_t *e = NULL;
	int rc = parse_ref_operand(argc, argv, first, "show", &ref);
	if (rc)
		return rc;
	if (ml_registry_resolve(registry, &ref, &e, &err) <= 0)
		return ml_fail(&err);
	char *text = json_dumps(e, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	json_decref(e);
	if (!text)
		return ML_EXIT_SOFTWARE;
	printf("%s\n", text);
	free(text);
	return 0;
}

/* ---- promote ---- */

static const struct ml_opt promote_opts[] = { ML_OPT_END };

static int cmd_promote(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_registry_ref ref;
	int rc = parse_ref_operand(argc, argv, first, "promote", &ref);
	if (rc)
		return rc;
	if (ref.sel != ML_REGISTRY_VERSION)
		return ml_usage_error("promote needs a version: NAME@VERSION, e.g. price@3");
	json_t *s = ml_registry_promote(registry, ref.name, ref.version, &err);
	if (!s)
		return ml_fail(&err);
	ml_info("%s@%ld is now the best", ref.name, ref.version);
	rc = print_json_line(s);
	json_decref(s);
	return rc;
}

/* ---- fetch ---- */

static struct {
	char *output, *baseline_out;
} F;

static const struct ml_opt fetch_opts[] = {
	{ "output", 'o', ML_OPT_STRING, &F.output, "FILE", "write the model here (default: standard output)" },
	{ "baseline-out", 0, ML_OPT_STRING, &F.baseline_out, "DIR", "also write the version's baseline files into DIR" },
	ML_OPT_END,
};

static int cmd_fetch(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_registry_ref ref;
	json_t *e = NULL;
	int rc = parse_ref_operand(argc, argv, first, "fetch", &ref);
	if (rc)
		return rc;
	if (ml_registry_fetch(registry, &ref, F.output ? F.output : "-", F.baseline_out, &e, &err) < 0)
		return ml_fail(&err);
	ml_info("fetched %s@%lld, SHA-256 %s verified", ref.name, (long long)json_integer_value(json_object_get(e, "version")),
		json_string_value(json_object_get(e, "sha256")));
	json_decref(e);
	return 0;
}

/* ---- config ---- */

static char *config_default;

static const struct ml_opt config_opts[] = {
	{ "default", 0, ML_OPT_STRING, &config_default, "VALUE", "print VALUE when KEY is not set",
	  NULL, ML_OPTF_CLI_ONLY },
	ML_OPT_END,
};

/* A scalar, or a sequence of scalars one a line; anything else is the file's fault. */
static int print_config_value(const char *file, const char *key, const json_t *v)
{
	if (json_is_string(v)) {
		printf("%s\n", json_string_value(v));
		return 0;
	}
	if (json_is_array(v)) {
		size_t i;
		const json_t *item;
		json_array_foreach(v, i, item)
			if (!json_is_string(item)) {
				ml_error("%s: %s: list items must be plain values", file, key);
				return ML_EXIT_CONFIG;
			}
		json_array_foreach(v, i, item)
			printf("%s\n", json_string_value(item));
		return 0;
	}
	ml_error("%s: %s is a mapping, not a value: name one of its keys (%s.KEY)", file, key, key);
	return ML_EXIT_CONFIG;
}

static int cmd_config(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	if (argc - first != 2)
		return ml_usage_error("config takes a file and a key: ml-model config FILE SECTION.KEY");
	const char *file = argv[first], *key = argv[first + 1];
	char env[256];
	if (!*key || ml_config_env_name(env, sizeof env, key) < 0)
		return ml_usage_error("config: bad key \"%s\": expected SECTION.KEY", key);
	const char *value = getenv(env);
	if (value) {
		printf("%s\n", value);
		return 0;
	}
	json_t *doc = ml_config_load_yaml(file, &err);
	if (!doc)
		return ml_fail(&err);
	const json_t *v = ml_config_get(doc, key);
	int rc = v ? print_config_value(file, key, v) : config_default ? (printf("%s\n", config_default), 0) : 1;
	json_decref(doc);
	return rc;
}

/* ---- the command ---- */

#define NO_REGISTRY 1	/* ml_subcommand.flags: works without --registry */

static const struct ml_subcommand subcommands[] = {
	{ "push", "ml-model push [OPTION]... --registry DIR|URI MODEL",
	  "Register MODEL as the next version of its name and move \"latest\" to it\n"
	  "(the first version of a name also becomes its \"best\"). Prints the new\n"
	  "version as a JSON line.",
	  push_opts, cmd_push },
	{ "list", "ml-model list [OPTION]... --registry DIR|URI [NAME]",
	  "List the registry's model names, or the versions of NAME.", list_opts, cmd_list },
	{ "show", "ml-model show [OPTION]... --registry DIR|URI NAME[@VERSION|@latest|@best]",
	  "Print a version's index entry (SHA-256, created, status, metrics, files) as JSON.", show_opts,
	  cmd_show },
	{ "promote", "ml-model promote [OPTION]... --registry DIR|URI NAME@VERSION",
	  "Make VERSION the best of NAME.", promote_opts, cmd_promote },
	{ "fetch", "ml-model fetch [OPTION]... --registry DIR|URI NAME[@VERSION|@latest|@best]",
	  "Write a registered model, after checking its SHA-256 against the registry's.", fetch_opts,
	  cmd_fetch },
	{ "config", "ml-model config [OPTION]... FILE SECTION.KEY",
	  "Print a setting of the YAML file FILE, such as pipeline.registry, for shell scripts:\n"
	  "the environment variable MLPIPE_SECTION_KEY when it is set, else the file's\n"
	  "value (a list one item a line), else --default. Exit 1 when it is not set.",
	  config_opts, cmd_config, NO_REGISTRY },
};

#define NSUB (sizeof subcommands / sizeof *subcommands)

static const char top_summary[] =
	"The model registry: versioned models by name, with \"latest\" and \"best\"\n"
	"pointers, in a directory or an s3:// prefix.\n\n"
	"Commands:\n"
	"  push      register a model as a new version\n"
	"  list      list names, or the versions of a name\n"
	"  show      print a version's entry\n"
	"  promote   make a version the best\n"
	"  fetch     write a registered model, SHA-256 checked\n"
	"  config    print a setting of a pipeline's YAML file\n\n"
	"Run 'ml-model COMMAND --help' for a command's options.";

static const char epilog[] = "Examples:\n"
			     "  ml-model push model.json --registry models/ --baseline baseline/\n"
			     "  ml-model list --registry models/ price\n"
			     "  ml-model fetch price@best --registry models/ -o best.json\n"
			     "  ml-model config pipeline.yaml pipeline.registry\n";

static int run_subcommand(const struct ml_subcommand *sc, int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	const struct ml_opt *tables[] = { sc->opts, registry_opts, NULL };
	const struct ml_opt *siblings[NSUB + 1];
	ml_subcommand_siblings(subcommands, NSUB, sc, siblings);
	const struct ml_cli cli = { .tool = "ml-model",
				    .section = "model",
				    .synopsis = sc->synopsis,
				    .summary = sc->summary,
				    .tables = tables,
				    .epilog = epilog,
				    .exit_status = exit_status,
				    .config_siblings = siblings };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (!registry && !(sc->flags & NO_REGISTRY))
		return ml_usage_error("a registry is required: --registry DIR|URI (or MLPIPE_MODEL_REGISTRY)");
	return sc->run(argc, argv, first);
}

static int cmd_model(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	const struct ml_subcommand *sc = ml_subcommand_find(subcommands, NSUB, name);
	if (sc)
		return run_subcommand(sc, argc - 1, argv + 1);
	const struct ml_opt *tables[] = { registry_opts, NULL };
	const struct ml_opt *siblings[NSUB + 1];
	ml_subcommand_siblings(subcommands, NSUB, NULL, siblings);
	const struct ml_cli cli = { .tool = "ml-model",
				    .section = "model",
				    .synopsis = "ml-model push|list|show|promote|fetch|config [OPTION]... [ARG]",
				    .summary = top_summary,
				    .tables = tables,
				    .epilog = epilog,
				    .exit_status = exit_status,
				    .config_siblings = siblings };
	struct ml_err err = ML_ERR_INIT;
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (!name || name[0] == '-')
		return ml_usage_error("a command is required: push, list, show, promote, fetch or config");
	return ml_usage_error("unknown command \"%s\": expected push, list, show, promote, fetch or config", name);
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_model);
}
