/*
 * ml-drift - compare new data (or new predictions with labels) with a
 * baseline; report violations and exit 1 when drift is found.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "mlpipe/artifact.h"
#include "mlpipe/bookmark.h"
#include "mlpipe/capture_read.h"
#include "mlpipe/cli.h"
#include "mlpipe/drift.h"
#include "mlpipe/drift_report.h"
#include "mlpipe/log.h"
#include "mlpipe/quality.h"
#include "mlpipe/stream.h"
#include "mlpipe/truth.h"
#include "mlpipe/uri.h"

static struct ml_stream_cli stream;
static struct {
	char *baseline, *output, *bookmark, *report, *history, *ground_truth, *join_on, *label, *prediction;
	int model_quality;
	double threshold, numeric_threshold, categorical_threshold;
	int numeric_method, categorical_method;
	struct ml_strlist capture_columns;
} D = { .threshold = NAN, .numeric_threshold = NAN, .categorical_threshold = NAN };

/* The choices of --numeric-method and --categorical-method, in order. */
static const enum ml_drift_method numeric_methods[] = { ML_DRIFT_LINF, ML_DRIFT_PSI, ML_DRIFT_KS,
							ML_DRIFT_WASSERSTEIN, ML_DRIFT_JS };
static const enum ml_drift_method categorical_methods[] = { ML_DRIFT_LINF, ML_DRIFT_PSI, ML_DRIFT_JS,
							    ML_DRIFT_CHI2 };

static const struct ml_opt drift_opts[] = {
	{ "baseline", 'b', ML_OPT_STRING, &D.baseline, "DIR",
	  "the directory with statistics.json and constraints.json" },
	{ "output-dir", 'o', ML_OPT_STRING, &D.output, "DIR",
	  "write constraint_violations.json here (default: the current directory)" },
	{ "threshold", 0, ML_OPT_DOUBLE, &D.threshold, "X",
	  "distribution distance above which a column has drifted (default: the baseline's, 0.1)" },
	{ "numeric-method", 0, ML_OPT_CHOICE, &D.numeric_method, "M",
	  "distance for numeric columns: linf (default), psi, ks, wasserstein, js", "linf|psi|ks|wasserstein|js" },
	{ "numeric-threshold", 0, ML_OPT_DOUBLE, &D.numeric_threshold, "X",
	  "its threshold (defaults: psi 0.2, ks p-value 0.05, wasserstein 0.1 std_dev, js 0.1)" },
	{ "categorical-method", 0, ML_OPT_CHOICE, &D.categorical_method, "M",
	  "distance for categorical columns: linf (default), psi, js, chi2", "linf|psi|js|chi2" },
	{ "categorical-threshold", 0, ML_OPT_DOUBLE, &D.categorical_threshold, "X",
	  "its threshold (defaults: psi 0.2, js 0.1, chi2 p-value 0.05)" },
	{ "capture-columns", 0, ML_OPT_LIST, &D.capture_columns, "LIST",
	  "capture files: the baseline columns a CSV payload holds, in order (default: all but --prediction)" },
	{ "bookmark", 0, ML_OPT_STRING, &D.bookmark, "FILE",
	  "remember what was processed (FILE may be s3://...); the next run reads only new files, objects and bytes" },
	{ "report", 0, ML_OPT_STRING, &D.report, "FILE.html", "write an HTML drift report with plots" },
	{ "history", 0, ML_OPT_STRING, &D.history, "FILE",
	  "earlier runs' drift records (NDJSON) for the report's drift-over-time charts" },
	{ "model-quality", 0, ML_OPT_FLAG, &D.model_quality, NULL, "check model quality, not data" },
	{ "label", 0, ML_OPT_STRING, &D.label, "COL", "the true value column" },
	{ "prediction", 0, ML_OPT_STRING, &D.prediction, "COL",
	  "the predicted value column (capture files: filled from endpointOutput)" },
	{ "ground-truth", 0, ML_OPT_STRING, &D.ground_truth, "FILE",
	  "labels arriving separately, joined to the predictions (implies --model-quality)" },
	{ "join-on", 0, ML_OPT_STRING, &D.join_on, "COL",
	  "the key column of --ground-truth and the predictions (default inferenceId; capture files: "
	  "their inferenceId, else eventId)" },
	ML_OPT_END,
};

static const char exit_status[] = "  0   no drift and no constraint violations\n"
				  "  1   drift or violations found (listed in the output)\n";

static json_t *load_baseline_file(const char *dir, const char *name, struct ml_err *err)
{
	char path[4096];
	if (ml_uri_join(path, sizeof path, dir, name, err) < 0)
		return NULL;
	json_t *doc = ml_json_load(path, err);
	if (doc && !json_is_object(doc)) {
		ml_err_set(err, ML_ERR_DATA, "%s: expected a JSON object", path);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int write_violations(json_t *violations, struct ml_err *err)
{
	const char *dir = D.output ? D.output : ".";
	char path[4096];
	json_t *doc = json_pack("{s:O}", "violations", violations);
	int rc = !doc ? ml_err_set(err, ML_ERR_INTERNAL, "out of memory")
	       : ml_uri_join(path, sizeof path, dir, "constraint_violations.json", err) < 0 || ml_ensure_dir(dir, err) < 0
		       ? -1
		       : ml_json_save(doc, path, 15, err);
	json_decref(doc);
	return rc;
}

/* One NDJSON line per feature on stdout, for dashboards and the drift history. */
static void print_records(json_t *records, json_t *inputs)
{
	char now[32];
	ml_utc_now_iso8601(now);
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r) {
		json_object_set_new(r, "run_time", json_string(now));
		json_object_set(r, "inputs", inputs);
		char *line = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(15));
		if (line)
			printf("%s\n", line);
		free(line);
	}
}

static int unsupported_options(void)
{
	if (D.bookmark && D.model_quality)
		return ml_not_built_yet("--bookmark with --model-quality");
	if (D.history && !D.report)
		return ml_usage_error("--history is for --report's charts: give --report FILE.html too");
	if (D.report && D.model_quality)
		return ml_not_built_yet("the HTML report of model quality (--report with --model-quality)");
	if (D.join_on && !D.ground_truth)
		return ml_usage_error("--join-on is the key of --ground-truth: give --ground-truth FILE too");
	if (D.model_quality && (!D.label || !D.prediction))
		return ml_usage_error(D.ground_truth ? "--ground-truth needs --label COL (its label) and --prediction COL"
						     : "--model-quality needs --label COL and --prediction COL");
	return 0;
}

/* ---- data drift over CSV, NDJSON and capture inputs ---- */

struct run {
	struct ml_drift *d;
	struct ml_capture_dec *dec;	/* made for the first capture input */
	const char **names;		/* the baseline's columns, borrowed by dec */
	struct ml_reader_opts ro;
	uint64_t capture_records;
};

static int on_capture_row(void *arg, const struct ml_field *fields, struct ml_err *err)
{
	return ml_drift_add_row(arg, fields, err);
}

static struct ml_capture_dec *capture_decoder(struct run *run, struct ml_err *err)
{
	struct ml_drift *d = run->d;
	size_t n = ml_drift_ncols(d), *pos = NULL, npos = 0;
	long out = -1;
	const char **names = run->names = ml_calloc(n + 1, sizeof *names, err);
	struct ml_capture_dec *dec = NULL;
	if (!names)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		names[i] = ml_drift_colname(d, i);
		if (D.prediction && !strcmp(names[i], D.prediction))
			out = (long)i;
	}
	if (D.prediction && out < 0) {
		ml_err_set(err, ML_ERR_USAGE, "--prediction %s is not a column of the baseline", D.prediction);
		goto out;
	}
	if (D.capture_columns.n) {
		if (!(pos = ml_calloc(D.capture_columns.n, sizeof *pos, err)))
			goto out;
		for (; npos < D.capture_columns.n; npos++) {
			const char *want = D.capture_columns.items[npos];
			size_t i = 0;
			while (i < n && strcmp(names[i], want))
				i++;
			if (i == n) {
				ml_err_set(err, ML_ERR_USAGE, "--capture-columns: %s is not a column of the baseline", want);
				goto out;
			}
			pos[npos] = i;
		}
	}
	struct ml_capture_read_opts co = { .names = names, .ncols = n, .positions = pos, .npositions = npos,
					   .output_col = out };
	dec = ml_capture_dec_new(&co, err);
out:
	free(pos);
	return dec;	/* names stay borrowed by dec: freed in run_release() */
}

/* Read one reader (several inputs, or one file's new bytes) into the checks. */
static int read_input(struct run *run, const char *const *uris, size_t n, struct ml_err *err)
{
	struct ml_reader *r = ml_reader_open(uris, n, &run->ro, err);
	int rc = -1;
	if (!r)
		return -1;
	if (!ml_capture_detect(r)) {
		rc = ml_drift_read(run->d, r, err);
	} else if (run->dec || (run->dec = capture_decoder(run, err))) {
		rc = ml_capture_read(run->dec, r, on_capture_row, run->d, err);
	}
	ml_reader_close(r);
	return rc;
}

static void run_release(struct run *run)
{
	if (run->dec) {
		struct ml_capture_stats st;
		ml_capture_stats(run->dec, &st);
		ml_debug("%llu capture records, %llu rows", (unsigned long long)st.records, (unsigned long long)st.rows);
	}
	ml_capture_dec_free(run->dec);
	free(run->names);
}

/* Capture columns seen, for the missing and extra column checks. */
static int note_capture_columns(struct run *run, struct ml_err *err)
{
	if (!run->dec)
		return 0;
	size_t n = ml_drift_ncols(run->d);
	uint8_t *present = ml_calloc(n + 1, 1, err);
	if (!present)
		return -1;
	for (size_t i = 0; i < n; i++)
		present[i] = (uint8_t)ml_capture_seen(run->dec, i);
	struct ml_capture_stats st;
	ml_capture_stats(run->dec, &st);
	ml_drift_input_columns(run->d, present, st.extra_fields);
	free(present);
	return 0;
}

struct capture_objects {
	struct ml_strlist *out;
	json_t *listed;		/* URI -> {bytes, etag} as listed, for --bookmark; or NULL */
	struct ml_err *err;
};

/* A store's object whose name (after the last '/') is *.jsonl and not hidden. */
static int collect_capture_object(const struct ml_store_object *o, void *arg)
{
	struct capture_objects *c = arg;
	const char *base = strrchr(o->uri, '/');
	base = base ? base + 1 : o->uri;
	size_t n = strlen(base);
	if (base[0] == '.' || n <= 6 || strcmp(base + n - 6, ".jsonl"))
		return 0;
	if (c->listed) {
		json_t *bytes = o->bytes == ML_OBJECT_BYTES_UNKNOWN ? json_null() : json_integer((json_int_t)o->bytes);
		if (json_object_set_new(c->listed, o->uri, json_pack("{s:o, s:s?}", "bytes", bytes, "etag", o->etag)) < 0)
			return ml_err_set(c->err, ML_ERR_INTERNAL, "out of memory");
	}
	return ml_strlist_push(c->out, o->uri, c->err);
}

/*
 * Operands with directories replaced by the capture files under them; a
 * store URI ending in '/' (s3://bucket/capture/) is a prefix, replaced by
 * the capture objects under it, whose lengths and ETags go to listed
 * (unless NULL).
 */
static int expand_inputs(int argc, char **argv, int first, struct ml_strlist *out, json_t *listed,
			 struct ml_err *err)
{
	for (int i = first; i < argc; i++) {
		struct stat st;
		const char *path = ml_uri_local_path(argv[i]);
		size_t len = strlen(argv[i]);
		int local_dir = path && strcmp(argv[i], "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
		int prefix = !path && len && argv[i][len - 1] == '/';
		if (local_dir || prefix) {
			size_t before = out->n;
			struct capture_objects c = { out, listed, err };
			if (local_dir ? ml_capture_list_dir(path, out, err) < 0
				      : ml_uri_list_objects(argv[i], collect_capture_object, &c, err) != 0)
				return -1;
			if (out->n == before && !D.bookmark)
				return ml_err_set(err, ML_ERR_NOINPUT, "%s: no capture files (*.jsonl) in this %s", argv[i],
						  local_dir ? "directory" : "prefix");
		} else if (ml_strlist_push(out, argv[i], err) < 0) {
			return -1;
		}
	}
	if (first == argc && ml_strlist_push(out, "-", err) < 0)
		return -1;
	return 0;
}

/* Is the local file CSV with a header (its first byte, after a BOM, not '{')? */
static int has_csv_header(const char *path)
{
	if (stream.no_header)
		return 0;
	FILE *f = fopen(path, "rb");
	unsigned char b[4] = { 0 };
	size_t n = f ? fread(b, 1, sizeof b, f) : 0;
	if (f)
		fclose(f);
	size_t i = n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf ? 3 : 0;
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	return i < n && b[i] != '{';
}

/* A local file's new complete lines (its tail through a pipe, under its header line if it is CSV). */
static int read_file_new(struct run *run, struct ml_bookmark *bm, const char *in, json_t *read, struct ml_err *err)
{
	const char *path = ml_uri_local_path(in);
	struct ml_bookmark_span sp;
	if (!strcmp(in, "-"))
		return ml_err_set(err, ML_ERR_USAGE,
				  "--bookmark needs files, directories or store objects, not standard input");
	if (ml_bookmark_plan(bm, path, &sp, err) < 0)
		return -1;
	if (sp.restarted)
		ml_warn("%s was replaced or truncated since the last run: reading all of it", in);
	if (sp.to == sp.from)
		return 0;
	ml_info("%s: reading bytes %llu to %llu", in, (unsigned long long)sp.from, (unsigned long long)sp.to);
	int whole = sp.from == 0 && sp.to == sp.size;
	struct ml_tail *t = whole ? NULL : ml_tail_open(path, sp.from, sp.to, sp.from && has_csv_header(path), err);
	struct ml_err feed = ML_ERR_INIT;
	const char *uri = t ? ml_tail_uri(t) : in;
	int rc = !whole && !t ? -1 : read_input(run, &uri, 1, err);
	if (ml_tail_close(t, &feed) < 0 && rc == 0) {
		*err = feed;
		rc = -1;
	}
	if (rc < 0 && t)
		ml_err_prefix(err, "%s (from byte %llu)", in, (unsigned long long)sp.from);
	if (rc < 0 || ml_bookmark_done(bm, &sp, err) < 0)
		return -1;
	return json_array_append_new(read, json_string(in)) < 0 ? ml_err_set(err, ML_ERR_INTERNAL, "out of memory") : 0;
}

/* Is the store object uri new?  Its length and ETag as listed, else from a listing of its key. */
static int plan_object(struct ml_bookmark *bm, const char *uri, const json_t *listed, struct ml_bookmark_span *sp,
		       struct ml_err *err)
{
	const json_t *e = json_object_get(listed, uri);
	char etag[256] = "";
	uint64_t bytes = ML_OBJECT_BYTES_UNKNOWN;
	if (e) {
		const json_t *b = json_object_get(e, "bytes");
		if (json_is_integer(b))
			bytes = (uint64_t)json_integer_value(b);
		snprintf(etag, sizeof etag, "%s", json_string_value(json_object_get(e, "etag")) ?: "");
	} else if (ml_uri_object_info(uri, &bytes, etag, sizeof etag, err) < 0) {
		return -1;
	}
	const struct ml_store_object o = { sizeof o, uri, bytes, etag[0] ? etag : NULL };
	return ml_bookmark_plan_object(bm, &o, sp, err);
}

/* A store object not read before (or replaced since), whole: objects do not grow. */
static int read_object_new(struct run *run, struct ml_bookmark *bm, const char *in, const json_t *listed, json_t *read,
			   struct ml_err *err)
{
	struct ml_bookmark_span sp;
	if (plan_object(bm, in, listed, &sp, err) < 0)
		return -1;
	if (sp.to == sp.from)
		return 0;
	if (sp.restarted)
		ml_warn("%s was replaced since the last run (its length or ETag changed): reading all of it", in);
	ml_info("%s: a new object, reading it", in);
	if (read_input(run, &in, 1, err) < 0 || ml_bookmark_done(bm, &sp, err) < 0)
		return -1;
	return json_array_append_new(read, json_string(in)) < 0 ? ml_err_set(err, ML_ERR_INTERNAL, "out of memory") : 0;
}

/*
 * --bookmark: each input on its own reader, only what is new: a local
 * file's new complete lines, a store object not read before.  The inputs
 * read are added to *read.
 */
static int read_new(struct run *run, struct ml_bookmark *bm, const struct ml_strlist *inputs, const json_t *listed,
		    json_t *read, struct ml_err *err)
{
	for (size_t i = 0; i < inputs->n; i++) {
		const char *in = inputs->items[i];
		int rc = ml_uri_is_remote(in) ? read_object_new(run, bm, in, listed, read, err)
					      : read_file_new(run, bm, in, read, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}

#define REPORT_VALUES 12	/* categories plotted; the rest as "(other)" */
static int write_report(struct run *run, json_t *records, json_t *violations, json_t *inputs, struct ml_err *err)
{
	json_t *dist = ml_drift_distributions(run->d, REPORT_VALUES), *history = NULL;
	json_t *first = json_array_get(records, 0);
	json_t *meta = json_pack("{s:s, s:O, s:O?}", "baseline", D.baseline, "inputs", inputs, "run_time",
				 json_object_get(first, "run_time"));
	int rc = -1;
	if (!dist || !meta)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	else if (!D.history || (history = ml_drift_history_load(D.history, err)))
		rc = ml_drift_report_html(D.report, meta, records, violations, dist, history, err);
	json_decref(dist);
	json_decref(meta);
	json_decref(history);
	return rc;
}

static int report(struct run *run, json_t *inputs, struct ml_err *err)
{
	json_t *violations = NULL, *records = NULL;
	int rc = -1;
	if (note_capture_columns(run, err) == 0 && ml_drift_results(run->d, &violations, &records, err) == 0 &&
	    write_violations(violations, err) == 0) {
		print_records(records, inputs);
		if (D.report && write_report(run, records, violations, inputs, err) < 0)
			goto out;
		size_t n = json_array_size(violations);
		if (n)
			ml_warn("%zu constraint violation%s (see constraint_violations.json)", n, n == 1 ? "" : "s");
		rc = n ? ML_EXIT_FOUND : 0;
	}
out:
	json_decref(violations);
	json_decref(records);
	return rc;
}

static int check_data(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	struct run run = { 0 };
	struct ml_strlist in = { 0 };
	struct ml_bookmark *bm = NULL;
	json_t *stats = load_baseline_file(D.baseline, "statistics.json", &err);
	json_t *cons = stats ? load_baseline_file(D.baseline, "constraints.json", &err) : NULL;
	json_t *inputs = json_array(), *listed = json_object();
	int rc = -1;
	if (!cons || !(run.d = ml_drift_new(stats, cons, D.baseline, &err)))
		goto out;
	if (!isnan(D.threshold))
		ml_drift_set_threshold(run.d, D.threshold);
	if (ml_drift_set_method(run.d, 1, numeric_methods[D.numeric_method], D.numeric_threshold, &err) < 0 ||
	    ml_drift_set_method(run.d, 0, categorical_methods[D.categorical_method], D.categorical_threshold, &err) < 0 ||
	    ml_stream_cli_reader_opts(&stream, &run.ro, &err) < 0 ||
	    expand_inputs(argc, argv, first, &in, D.bookmark ? listed : NULL, &err) < 0)
		goto out;
	if (D.bookmark) {
		if (!(bm = ml_bookmark_load(D.bookmark, &err)) || read_new(&run, bm, &in, listed, inputs, &err) < 0)
			goto out;
	} else {
		for (size_t i = 0; i < in.n; i++)
			json_array_append_new(inputs, json_string(in.items[i]));
		if (read_input(&run, (const char *const *)in.items, in.n, &err) < 0)
			goto out;
	}
	if (D.bookmark && !json_array_size(inputs)) {
		if (ml_verbosity() >= 0)	/* the answer to the run, as a message: -q hides it */
			fprintf(stderr, "%s: no new data since the last run (%s)\n", ml_progname(), D.bookmark);
		rc = 0;
		goto out;
	}
	rc = report(&run, inputs, &err);
	if (rc >= 0 && bm && ml_bookmark_save(bm, &err) < 0)
		rc = -1;
out:
	if (rc < 0)
		rc = ml_fail(&err);
	run_release(&run);
	ml_bookmark_free(bm);
	ml_drift_free(run.d);
	ml_strlist_clear(&in);
	json_decref(inputs);
	json_decref(listed);
	json_decref(stats);
	json_decref(cons);
	return rc;
}

/* ---- model drift ---- */

/* The join's counts, for the NDJSON record. */
static json_t *join_summary(const struct ml_truth_stats *st)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "file", D.ground_truth, "join_on", D.join_on,
			 "labels", (json_int_t)st->truth, "labels_empty", (json_int_t)st->truth_unlabelled, "predictions",
			 (json_int_t)st->predictions, "matched", (json_int_t)st->matched, "without_ground_truth",
			 (json_int_t)st->no_truth, "without_prediction", (json_int_t)st->no_prediction);
}

/* The (label, prediction) pairs: from the inputs' two columns, or joined with --ground-truth. */
static int quality_pairs(struct ml_reader *r, const char *name, struct ml_pairs *p, json_t **join,
			 const struct ml_reader_opts *ro, struct ml_err *err)
{
	if (!D.ground_truth)
		return ml_pairs_read(r, D.label, D.prediction, name, p, err);
	const struct ml_truth_join_opts o = { D.ground_truth, D.join_on, D.label, D.prediction };
	struct ml_truth_stats st;
	if (ml_truth_join_file(&o, r, ro, p, &st, err) < 0)
		return -1;
	if (!(*join = join_summary(&st)))
		return ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return 0;
}

/* Model drift: the current metrics against the model-quality baseline's constraints. */
static int check_quality(int argc, char **argv, int first)
{
	struct ml_err err = ML_ERR_INIT;
	const char *name = first < argc ? argv[first] : "<stdin>";
	json_t *cons = load_baseline_file(D.baseline, "constraints.json", &err);
	json_t *violations = json_array(), *join = NULL;
	struct ml_reader_opts ro;
	struct ml_reader *r = NULL;
	struct ml_strlist in = { 0 };
	struct ml_pairs p = { 0 };
	int rc = 0;
	if (!cons || ml_stream_cli_reader_opts(&stream, &ro, &err) < 0 ||
	    expand_inputs(argc, argv, first, &in, NULL, &err) < 0 ||
	    !(r = ml_reader_open((const char *const *)in.items, in.n, &ro, &err)) ||
	    quality_pairs(r, name, &p, &join, &ro, &err) < 0 ||
	    ml_quality_check(&p, cons, D.baseline, violations, &err) < 0 || write_violations(violations, &err) < 0) {
		rc = ml_fail(&err);
	} else {
		json_t *stats = ml_quality_statistics(&p);
		if (stats && join)
			json_object_set(stats, "ground_truth", join);
		char *line = stats ? json_dumps(stats, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
		if (line)
			printf("%s\n", line);
		free(line);
		json_decref(stats);
		size_t n = json_array_size(violations);
		if (n)
			ml_warn("%zu model-quality violation%s (see constraint_violations.json)", n, n == 1 ? "" : "s");
		rc = n ? ML_EXIT_FOUND : 0;
	}
	ml_pairs_release(&p);
	ml_reader_close(r);
	ml_strlist_clear(&in);
	json_decref(join);
	json_decref(violations);
	json_decref(cons);
	return rc;
}

static int cmd_drift(int argc, char **argv)
{
	struct ml_err err = ML_ERR_INIT;
	ml_stream_cli_init(&stream);
	const struct ml_opt *tables[] = { drift_opts, ml_stream_cli_options(&stream), NULL };
	static const char summary[] =
		"Compare data with an ml-baseline (or SageMaker Model Monitor) baseline: data\n"
		"types, completeness, distribution drift, missing and extra columns, category\n"
		"domains. Reads CSV, NDJSON and data-capture files (a directory: every *.jsonl\n"
		"under it). Violations go to DIR/constraint_violations.json, one drift record\n"
		"per feature to standard output as NDJSON.";
	const struct ml_cli cli = { .tool = "ml-drift", .section = "drift",
				    .synopsis = "ml-drift [OPTION]... --baseline DIR [FILE|DIR]...",
				    .summary = summary, .tables = tables,
				    .exit_status = exit_status };
	int first;
	int status = ml_cli_parse(&cli, argc, argv, &first, &err);
	if (status != ML_CLI_CONTINUE)
		return ml_cli_exit(status, &err);
	if (!D.baseline)
		return ml_usage_error("a baseline is required: --baseline DIR");
	if (D.ground_truth) {
		D.model_quality = 1;
		if (!D.join_on)
			D.join_on = "inferenceId";
	}
	int rc = unsupported_options();
	if (rc)
		return rc;
	return D.model_quality ? check_quality(argc, argv, first) : check_data(argc, argv, first);
}

int main(int argc, char **argv)
{
	return ml_main(argc, argv, cmd_drift);
}
