/* test_cli.c - option precedence (CLI > env > YAML > default) and messages. */
#include "mlpipe/cli.h"
#include "mlpipe/log.h"
#include "testutil.h"

static long num_round = 10;
static double eta = 0.3;
static char *objective;
static int metric;
static int early;
static struct ml_strlist drop;

static const struct ml_opt train_opts[] = {
	{ "num_round", 'n', ML_OPT_INT, &num_round, "N", "rounds", NULL, 0, NULL, 1, 100000 },
	{ "eta", 0, ML_OPT_DOUBLE, &eta, "X", "learning rate" },
	{ "objective", 0, ML_OPT_STRING, &objective, "NAME", "objective" },
	{ "eval-metric", 0, ML_OPT_CHOICE, &metric, "M", "metric", "rmse|mae" },
	{ "early", 0, ML_OPT_FLAG, &early, NULL, "early stopping" },
	{ "drop", 0, ML_OPT_LIST, &drop, "COLS", "columns to drop" },
	ML_OPT_END,
};
static const struct ml_opt *const tables[] = { train_opts, NULL };
static const struct ml_cli cli = { .tool = "ml-train", .section = "train",
				   .synopsis = "ml-train [OPTION]...", .tables = tables };

/* Parse a NULL-terminated argument list. */
static int parse(struct ml_err *err, int *first, ...)
{
	static char *argv[32];
	va_list ap;
	va_start(ap, first);
	int argc = 0;
	argv[argc++] = "ml-train";
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return ml_cli_parse(&cli, argc, argv, first, err);
}

static const char *write_config(const char *text)
{
	return test_write_file(test_tmpdir(), "p.yaml", text, strlen(text));
}

START_TEST(test_defaults_kept)
{
	struct ml_err err = ML_ERR_INIT;
	int first = -1;
	ck_assert_int_eq(parse(&err, &first, "data.csv", NULL), ML_CLI_CONTINUE);
	ck_assert_int_eq(num_round, 10);
	ck_assert(eta == 0.3);
	ck_assert_int_eq(first, 1);
}
END_TEST

START_TEST(test_precedence)
{
	struct ml_err err = ML_ERR_INIT;
	char config[4200];
	snprintf(config, sizeof config, "--config=%s",
		 write_config("train:\n  num_round: 50\n  eta: 0.05\n  objective: reg:tweedie\n"
			      "  drop: [a, b]\nscore:\n  num_round: bogus\n"));
	setenv("MLPIPE_ETA", "0.2", 1);		/* generic name */
	setenv("MLPIPE_TRAIN_ETA", "0.1", 1);	/* section name wins over generic */
	setenv("MLPIPE_NUM_ROUND", "70", 1);
	int first;
	int rc = parse(&err, &first, config, "--num_round", "200", "x.csv", NULL);
	ck_assert_msg(rc == ML_CLI_CONTINUE, "%s", err.msg);
	ck_assert_int_eq(num_round, 200);		/* CLI > env */
	ck_assert(eta == 0.1);				/* env > YAML */
	ck_assert_str_eq(objective, "reg:tweedie");	/* YAML > default */
	ck_assert_uint_eq(drop.n, 2);
	ck_assert_str_eq(drop.items[1], "b");
	ck_assert_int_eq(first, 4);	/* operands start at x.csv */
}
END_TEST

START_TEST(test_list_replaced_by_higher_source)
{
	struct ml_err err = ML_ERR_INIT;
	char config[4200];
	snprintf(config, sizeof config, "--config=%s", write_config("train:\n  drop: [a, b]\n"));
	ck_assert_int_eq(parse(&err, NULL, config, "--drop", "c,d", "--drop", "e", NULL), ML_CLI_CONTINUE);
	ck_assert_uint_eq(drop.n, 3);
	ck_assert_str_eq(drop.items[0], "c");
	ck_assert_str_eq(drop.items[2], "e");
}
END_TEST

START_TEST(test_unknown_option_suggests)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(parse(&err, NULL, "--num_rounds", "5", NULL), ML_CLI_ERROR);
	ck_assert_int_eq(ml_exit_code(&err), 64);
	ck_assert_str_eq(err.msg, "unrecognized option '--num_rounds'; did you mean '--num_round'?");
}
END_TEST

START_TEST(test_bad_values)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(parse(&err, NULL, "--num_round", "ten", NULL), ML_CLI_ERROR);
	ck_assert_str_eq(err.msg, "option --num_round: expected a whole number, got \"ten\"");
	ck_assert_int_eq(parse(&err, NULL, "-n", "0", NULL), ML_CLI_ERROR);
	ck_assert_str_eq(err.msg, "option --num_round: 0 is out of range (1 to 100000)");
	ck_assert_int_eq(parse(&err, NULL, "--eta", "nan", NULL), ML_CLI_ERROR);
	ck_assert_int_eq(parse(&err, NULL, "--eval-metric", "mape", NULL), ML_CLI_ERROR);
	ck_assert_str_eq(err.msg, "option --eval-metric: \"mape\" is not one of rmse|mae");
	ck_assert_int_eq(parse(&err, NULL, "--eta", NULL), ML_CLI_ERROR);
	ck_assert_str_eq(err.msg, "option '--eta' requires an argument");
}
END_TEST

START_TEST(test_config_errors_are_class_config)
{
	struct ml_err err = ML_ERR_INIT;
	char config[4200];
	const char *path = write_config("train:\n  num_rounds: 5\n");
	snprintf(config, sizeof config, "--config=%s", path);
	ck_assert_int_eq(parse(&err, NULL, config, NULL), ML_CLI_ERROR);
	ck_assert_int_eq(ml_exit_code(&err), 78);
	ck_assert_ptr_nonnull(strstr(err.msg, "has no option \"num_rounds\"; did you mean \"num_round\"?"));

	setenv("MLPIPE_TRAIN_EARLY", "maybe", 1);
	ck_assert_int_eq(parse(&err, NULL, NULL), ML_CLI_ERROR);
	ck_assert_int_eq(ml_exit_code(&err), 78);
	ck_assert_str_eq(err.msg, "MLPIPE_TRAIN_EARLY: expected true or false, got \"maybe\"");
}
END_TEST

START_TEST(test_environment_not_read_for_options_on_the_command_line)
{
	struct ml_err err = ML_ERR_INIT;
	setenv("MLPIPE_TRAIN_NUM_ROUND", "bogus", 1);
	ck_assert_int_eq(parse(&err, NULL, "--num_round", "7", NULL), ML_CLI_CONTINUE);
	ck_assert_int_eq(num_round, 7);
	ck_assert_int_eq(parse(&err, NULL, NULL), ML_CLI_ERROR);	/* without it, the variable counts */
	ck_assert_int_eq(ml_exit_code(&err), 78);
}
END_TEST

START_TEST(test_missing_config_file)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(parse(&err, NULL, "--config", "/nonexistent/p.yaml", NULL), ML_CLI_ERROR);
	ck_assert_int_eq(ml_exit_code(&err), 66);
}
END_TEST

START_TEST(test_common_options)
{
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(parse(&err, NULL, "-vv", "--early", NULL), ML_CLI_CONTINUE);
	ck_assert_int_eq(ml_verbosity(), 2);
	ck_assert_int_eq(early, 1);
	ck_assert_int_eq(parse(&err, NULL, "-q", NULL), ML_CLI_CONTINUE);
	ck_assert_int_eq(ml_verbosity(), -1);
	ck_assert_int_eq(parse(&err, NULL, "--plugin-dir", "relative/dir", NULL), ML_CLI_ERROR);
}
END_TEST

START_TEST(test_help_and_version_served)
{
	struct ml_err err = ML_ERR_INIT;
	/* --help wins even over an unreadable config. */
	ck_assert_int_eq(parse(&err, NULL, "--config", "/nonexistent", "--help", NULL), ML_CLI_DONE);
	ck_assert_int_eq(parse(&err, NULL, "--version", NULL), ML_CLI_DONE);
}
END_TEST

START_TEST(test_strlist_split)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_strlist l = { 0 };
	ck_assert_int_eq(ml_strlist_push_split(&l, "a,b,c", &err), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_int_eq(ml_strlist_push_split(&l, "a,,c", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "empty item"));
	ml_strlist_clear(&l);
}
END_TEST

static int run_nothing(int argc, char **argv, int first)
{
	(void)argc, (void)argv, (void)first;
	return 0;
}

START_TEST(test_subcommands)
{
	static const struct ml_opt a[] = { ML_OPT_END }, b[] = { ML_OPT_END }, c[] = { ML_OPT_END };
	static const struct ml_subcommand subs[] = {
		{ "fit", "", "", a, run_nothing, 0 }, { "apply", "", "", b, run_nothing, 0 }, { "split", "", "", c, run_nothing, 1 },
	};
	ck_assert_ptr_eq(ml_subcommand_find(subs, 3, "split"), &subs[2]);
	ck_assert_ptr_null(ml_subcommand_find(subs, 3, "spl"));
	ck_assert_ptr_null(ml_subcommand_find(subs, 3, NULL));
	const struct ml_opt *out[4] = { a, a, a, a };
	ck_assert_uint_eq(ml_subcommand_siblings(subs, 3, &subs[1], out), 2);
	ck_assert_ptr_eq(out[0], a);
	ck_assert_ptr_eq(out[1], c);
	ck_assert_ptr_null(out[2]);
	ck_assert_uint_eq(ml_subcommand_siblings(subs, 3, NULL, out), 3);
	ck_assert_ptr_eq(out[2], c);
	ck_assert_ptr_null(out[3]);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_defaults_kept);
	tcase_add_test(tc, test_subcommands);
	tcase_add_test(tc, test_precedence);
	tcase_add_test(tc, test_list_replaced_by_higher_source);
	tcase_add_test(tc, test_unknown_option_suggests);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_config_errors_are_class_config);
	tcase_add_test(tc, test_missing_config_file);
	tcase_add_test(tc, test_environment_not_read_for_options_on_the_command_line);
	tcase_add_test(tc, test_common_options);
	tcase_add_test(tc, test_help_and_version_served);
	tcase_add_test(tc, test_strlist_split);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
