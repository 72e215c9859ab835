/*
 * ml-notify - send an alert (standard input, or a drift report) by e-mail,
 * webhook, SNS or to a file.
 */
#include "mlpipe/cli.h"

static struct {
	struct ml_strlist to;
	char *subject, *from, *sns_endpoint;
	int on_drift_only;
} N;

static const struct ml_opt notify_opts[] = {
	{ "to", 0, ML_OPT_LIST, &N.to, "URI",
	  "smtp://host:port/rcpt@x, https://hook, sns:ARN, file:PATH (repeatable)", NULL,
	  ML_OPTF_NO_SPLIT },
	{ "subject", 0, ML_OPT_STRING, &N.subject, "TEMPLATE", "subject line; {tool} {status} expand" },
	{ "from", 0, ML_OPT_STRING, &N.from, "ADDR", "sender address for e-mail" },
	{ "sns-endpoint", 0, ML_OPT_STRING, &N.sns_endpoint, "URL", "SNS API endpoint (tests, regions)" },
	{ "on-drift-only", 0, ML_OPT_FLAG, &N.on_drift_only, NULL,
	  "send only when the input reports violations" },
	ML_OPT_END,
};

static int cmd_notify(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	const struct ml_opt *tables[] = { notify_opts, NULL };
	static const char summary[] = "Send the text read from standard input (or FILE) to every --to destination.";
	const struct ml_cli cli = { .tool = "ml-notify", .section = "notify",
				    .synopsis = "ml-notify [OPTION]... --to URI [FILE]",
				    .summary = summary, .tables = tables };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (N.to.n == 0)
		return ml_usage_error("a destination is required: --to URI");
	return ml_not_built_yet("sending notifications");
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_notify);
}
