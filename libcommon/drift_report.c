/* drift_report.c - the HTML drift report (see drift_report.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mlpipe/buf.h"
#include "mlpipe/drift_report.h"
#include "mlpipe/uri.h"

#define REPORT_CAP ((size_t)256 << 20)
#define W 380		/* chart size in SVG units */
#define H 200
#define LEFT 34
#define BOTTOM 44
#define TOP 12

static void esc(struct ml_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': ml_buf_adds(b, "&amp;"); break;
		case '<': ml_buf_adds(b, "&lt;"); break;
		case '>': ml_buf_adds(b, "&gt;"); break;
		case '"': ml_buf_adds(b, "&quot;"); break;
		case '\'': ml_buf_adds(b, "&#39;"); break;
		default: ml_buf_addc(b, *s);
		}
	}
}

static void esc_json(struct ml_buf *b, const json_t *v)
{
	char num[64];
	if (json_is_string(v))
		esc(b, json_string_value(v));
	else if (json_is_integer(v))
		ml_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v)) {
		snprintf(num, sizeof num, "%.6g", json_real_value(v));
		ml_buf_adds(b, num);
	} else if (json_is_boolean(v))
		ml_buf_adds(b, json_is_true(v) ? "yes" : "no");
	else
		ml_buf_adds(b, "&#8212;");
}

static const char style[] =
	"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5em auto;max-width:1200px;"
	"padding:0 1em;color:#222}\n"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .5em}\n"
	"table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;"
	"text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	".ok{color:#1a7f37}.bad{color:#b42318;font-weight:600}.meta{color:#555}\n"
	".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(390px,1fr));gap:1em}\n"
	".card{border:1px solid #ddd;border-radius:6px;padding:.6em .8em}.card.drift{border-color:#b42318}\n"
	".card h3{font-size:1em;margin:0 0 .2em}.card p{margin:0 0 .3em;color:#555;font-size:.9em}\n"
	".key span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}\n"
	"svg{width:100%;height:auto}\n";

/* The record of feature name in records, or NULL. */
static const json_t *record_of(const json_t *records, const char *name)
{
	size_t i;
	const json_t *r;
	json_array_foreach(records, i, r) {
		const char *f = json_string_value(json_object_get(r, "feature"));
		if (f && !strcmp(f, name))
			return r;
	}
	return NULL;
}

static double share(const json_t *a, size_t i)
{
	const json_t *v = json_array_get(a, i);
	return json_is_number(v) ? json_number_value(v) : 0;
}

static void short_number(char *out, size_t n, double x)
{
	double ax = fabs(x);
	if (ax >= 1e6 || (ax > 0 && ax < 1e-3))
		snprintf(out, n, "%.2g", x);
	else if (ax >= 1000)
		snprintf(out, n, "%.0f", x);
	else
		snprintf(out, n, "%.3g", x);
}

/* Grouped bars: baseline (blue) and current (orange) share of each bucket or value. */
static void chart(struct ml_buf *b, const json_t *dist)
{
	const json_t *base = json_object_get(dist, "baseline"), *cur = json_object_get(dist, "current");
	const json_t *labels = json_object_get(dist, "labels"), *edges = json_object_get(dist, "edges");
	int numeric = json_is_array(edges);
	size_t n = json_array_size(base);
	double top = 0;
	for (size_t i = 0; i < n; i++)
		top = fmax(top, fmax(share(base, i), share(cur, i)));
	top = top > 0 ? top : 1;
	double plot_w = W - LEFT - 8, plot_h = H - TOP - BOTTOM, slot = n ? plot_w / (double)n : plot_w;
	ml_buf_printf(b, "<svg viewBox=\"0 0 %d %d\" role=\"img\">", W, H);
	ml_buf_adds(b, "<title>");
	esc(b, json_string_value(json_object_get(dist, "feature")));
	ml_buf_adds(b, ": baseline and current shares</title>");
	for (int g = 0; g <= 4; g++) {	/* grid lines at 0, 25, 50, 75, 100% of the tallest bar */
		double y = TOP + plot_h - plot_h * g / 4.0;
		ml_buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>", LEFT, W - 8, y, y);
		ml_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"9\" text-anchor=\"end\" fill=\"#666\">%.0f%%</text>",
			      LEFT - 3, y + 3, 100 * top * g / 4.0);
	}
	for (size_t i = 0; i < n; i++) {
		double x = LEFT + slot * (double)i, bw = slot * 0.38;
		double hb = plot_h * share(base, i) / top, hc = plot_h * share(cur, i) / top;
		ml_buf_printf(b, "<rect class=\"baseline\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4e79a7\">"
			      "<title>baseline %.2f%%</title></rect>",
			      x + slot * 0.1, TOP + plot_h - hb, bw, hb, 100 * share(base, i));
		ml_buf_printf(b, "<rect class=\"current\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f28e2b\">"
			      "<title>current %.2f%%</title></rect>",
			      x + slot * 0.1 + bw, TOP + plot_h - hc, bw, hc, 100 * share(cur, i));
		if (!numeric) {
			const char *l = json_string_value(json_array_get(labels, i));
			char cut[16];
			snprintf(cut, sizeof cut, "%.11s", l ? l : "");
			ml_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"end\" fill=\"#444\" "
				      "transform=\"rotate(-35 %.1f %.1f)\">",
				      x + slot / 2, (double)(H - BOTTOM + 10), x + slot / 2, (double)(H - BOTTOM + 10));
			esc(b, cut);
			ml_buf_adds(b, "<title>");
			esc(b, l);
			ml_buf_adds(b, "</title></text>");
		}
	}
	if (numeric)	/* bucket edges: every other one, to stay legible */
		for (size_t i = 0; i <= n; i += 2) {
			char num[32];
			short_number(num, sizeof num, share(edges, i));
			ml_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"%s\" fill=\"#444\">%s</text>",
				      LEFT + slot * (double)i, H - BOTTOM + 13, i == n ? "end" : "middle", num);
		}
	ml_buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/></svg>\n", LEFT, W - 8,
		      TOP + plot_h, TOP + plot_h);
}

/* ---- drift over time ---- */

#define MAX_POINTS 200	/* the latest runs plotted per feature */

/* The value a record is judged by: the p-value of a test, else the (adjusted) distance. */
static double judged(const json_t *r, int *is_p)
{
	const json_t *v = json_object_get(r, "p_value");
	*is_p = v != NULL;
	if (!v)
		v = json_object_get(r, "adjusted_distance");
	if (!v)
		v = json_object_get(r, "distance");
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int cmp_run_time(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "run_time"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "run_time"));
	return strcmp(x ? x : "", y ? y : "");
}

/* The feature's records with the current method, oldest first, the last MAX_POINTS; n in *n. */
static json_t **series(const json_t *history, const json_t *cur, size_t *n)
{
	const char *name = json_string_value(json_object_get(cur, "feature"));
	const char *method = json_string_value(json_object_get(cur, "method"));
	const char *now = json_string_value(json_object_get(cur, "run_time"));
	json_t **pts = calloc(json_array_size(history) + 1, sizeof *pts);
	size_t k = 0, i;
	const json_t *r;
	if (!pts)
		return NULL;
	json_array_foreach(history, i, r) {
		const char *f = json_string_value(json_object_get(r, "feature"));
		const char *m = json_string_value(json_object_get(r, "method"));
		const char *t = json_string_value(json_object_get(r, "run_time"));
		/* this run's own records may already be in the history file it appends to */
		if (f && m && t && name && method && !strcmp(f, name) && !strcmp(m, method) && (!now || strcmp(t, now)))
			pts[k++] = (json_t *)r;
	}
	pts[k++] = (json_t *)cur;
	qsort(pts, k, sizeof *pts, cmp_run_time);
	if (k > MAX_POINTS) {
		memmove(pts, pts + k - MAX_POINTS, MAX_POINTS * sizeof *pts);
		k = MAX_POINTS;
	}
	*n = k;
	return pts;
}

static void trend(struct ml_buf *b, const json_t *history, const json_t *cur)
{
	size_t n = 0;
	json_t **pts = series(history, cur, &n);
	if (!pts)
		return;
	int is_p;
	double top = 0, threshold = json_number_value(json_object_get(cur, "threshold"));
	judged(cur, &is_p);
	for (size_t i = 0; i < n; i++) {
		int p;
		double v = judged(pts[i], &p);
		if (!isnan(v))
			top = fmax(top, v);
	}
	top = is_p ? 1 : fmax(top, threshold) * 1.1;
	top = top > 0 ? top : 1;
	double plot_w = W - LEFT - 8, plot_h = H - TOP - BOTTOM;
	const char *name = json_string_value(json_object_get(cur, "feature"));
	ml_buf_adds(b, "<div class=\"card\"><h3>");
	esc(b, name);
	ml_buf_printf(b, "</h3><p>%s over %zu run%s; dashed: threshold ", is_p ? "p-value" : "distance", n, n == 1 ? "" : "s");
	esc_json(b, json_object_get(cur, "threshold"));
	ml_buf_printf(b, "</p><svg class=\"trend\" viewBox=\"0 0 %d %d\" role=\"img\"><title>", W, H);
	esc(b, name);
	ml_buf_adds(b, ": drift over time</title>");
	for (int g = 0; g <= 4; g++) {
		double y = TOP + plot_h - plot_h * g / 4.0;
		ml_buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>", LEFT, W - 8, y, y);
		ml_buf_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"9\" text-anchor=\"end\" fill=\"#666\">%.3g</text>",
			      LEFT - 3, y + 3, top * g / 4.0);
	}
	double ty = TOP + plot_h - plot_h * fmin(threshold / top, 1);
	ml_buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#b42318\" stroke-dasharray=\"4 3\"/>",
		      LEFT, W - 8, ty, ty);
	struct ml_buf line;
	ml_buf_init(&line, 1 << 20);
	for (size_t i = 0; i < n; i++) {
		int p;
		double v = judged(pts[i], &p);
		if (isnan(v))
			continue;
		double x = LEFT + (n > 1 ? plot_w * (double)i / (double)(n - 1) : plot_w / 2);
		double y = TOP + plot_h - plot_h * fmin(v / top, 1);
		ml_buf_printf(&line, "%s%.1f,%.1f", line.len ? " " : "", x, y);
	}
	if (line.len)
		ml_buf_printf(b, "<polyline points=\"%s\" fill=\"none\" stroke=\"#4e79a7\" stroke-width=\"1.5\"/>", line.data);
	ml_buf_release(&line);
	for (size_t i = 0; i < n; i++) {
		int p;
		double v = judged(pts[i], &p);
		if (isnan(v))
			continue;
		int drifted = json_is_true(json_object_get(pts[i], "drifted"));
		double x = LEFT + (n > 1 ? plot_w * (double)i / (double)(n - 1) : plot_w / 2);
		double y = TOP + plot_h - plot_h * fmin(v / top, 1);
		ml_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", x, y,
			      drifted ? "#b42318" : "#4e79a7");
		esc_json(b, json_object_get(pts[i], "run_time"));
		ml_buf_printf(b, ": %.4g%s</title></circle>", v, drifted ? " (drifted)" : "");
	}
	for (size_t i = 0; i < n; i += n > 1 ? n - 1 : 1) {	/* the first and the last run's time */
		const char *t = json_string_value(json_object_get(pts[i], "run_time"));
		double x = LEFT + (n > 1 ? plot_w * (double)i / (double)(n - 1) : plot_w / 2);
		ml_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"%s\" fill=\"#444\">", x,
			      H - BOTTOM + 13, n == 1 ? "middle" : i == 0 ? "start" : "end");
		esc(b, t);
		ml_buf_adds(b, "</text>");
	}
	ml_buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/></svg></div>\n", LEFT,
		      W - 8, TOP + plot_h, TOP + plot_h);
	free(pts);
}

static void card(struct ml_buf *b, const json_t *dist, const json_t *rec)
{
	const char *name = json_string_value(json_object_get(dist, "feature"));
	int drifted = json_is_true(json_object_get(rec, "drifted"));
	ml_buf_printf(b, "<div class=\"card%s\"><h3>", drifted ? " drift" : "");
	esc(b, name);
	ml_buf_printf(b, " <span class=\"%s\">%s</span></h3><p>", drifted ? "bad" : "ok", drifted ? "drifted" : "no drift");
	if (rec) {
		esc_json(b, json_object_get(rec, "method"));
		ml_buf_adds(b, " ");
		esc_json(b, json_object_get(rec, "distance"));
		if (json_object_get(rec, "p_value")) {
			ml_buf_adds(b, ", p-value ");
			esc_json(b, json_object_get(rec, "p_value"));
		}
		ml_buf_adds(b, ", threshold ");
		esc_json(b, json_object_get(rec, "threshold"));
		ml_buf_adds(b, "; rows ");
		esc_json(b, json_object_get(rec, "baseline_count"));
		ml_buf_adds(b, " / ");
		esc_json(b, json_object_get(rec, "current_count"));
	}
	ml_buf_adds(b, "</p>");
	chart(b, dist);
	ml_buf_adds(b, "</div>\n");
}

static void records_table(struct ml_buf *b, const json_t *records)
{
	static const char *const cols[] = { "feature", "method", "distance", "p_value", "threshold", "drifted",
					    "baseline_count", "current_count" };
	ml_buf_adds(b, "<table><tr>");
	for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
		ml_buf_printf(b, "<th>%s</th>", cols[i]);
	ml_buf_adds(b, "</tr>\n");
	size_t k;
	const json_t *r;
	json_array_foreach(records, k, r) {
		int drifted = json_is_true(json_object_get(r, "drifted"));
		ml_buf_adds(b, "<tr>");
		for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
			const json_t *v = json_object_get(r, cols[i]);
			ml_buf_printf(b, "<td%s>", json_is_number(v) ? " class=\"n\"" : !strcmp(cols[i], "drifted") ?
						   (drifted ? " class=\"bad\"" : " class=\"ok\"") : "");
			esc_json(b, v);
			ml_buf_adds(b, "</td>");
		}
		ml_buf_adds(b, "</tr>\n");
	}
	ml_buf_adds(b, "</table>\n");
}

static void violations_table(struct ml_buf *b, const json_t *violations)
{
	if (!json_array_size(violations)) {
		ml_buf_adds(b, "<p class=\"ok\">No constraint violations.</p>\n");
		return;
	}
	ml_buf_adds(b, "<table><tr><th>feature</th><th>check</th><th>description</th></tr>\n");
	size_t i;
	const json_t *v;
	json_array_foreach(violations, i, v) {
		const json_t *f = json_object_get(v, "feature_name");
		ml_buf_adds(b, "<tr><td>");
		esc_json(b, f ? f : json_object_get(v, "metric_name"));
		ml_buf_adds(b, "</td><td class=\"bad\">");
		esc_json(b, json_object_get(v, "constraint_check_type"));
		ml_buf_adds(b, "</td><td>");
		esc_json(b, json_object_get(v, "description"));
		ml_buf_adds(b, "</td></tr>\n");
	}
	ml_buf_adds(b, "</table>\n");
}

int ml_drift_report_html(const char *uri, const json_t *meta, const json_t *records, const json_t *violations,
			 const json_t *distributions, const json_t *history, struct ml_err *err)
{
	struct ml_buf b;
	ml_buf_init(&b, REPORT_CAP);
	size_t ndrift = 0, i;
	const json_t *r;
	json_array_foreach(records, i, r)
		ndrift += json_is_true(json_object_get(r, "drifted"));
	ml_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
			"<title>Drift report</title><style>\n");
	ml_buf_adds(&b, style);
	ml_buf_adds(&b, "</style></head><body>\n<h1>Drift report</h1>\n<p class=\"meta\">Baseline ");
	esc_json(&b, json_object_get(meta, "baseline"));
	ml_buf_adds(&b, ", checked ");
	esc_json(&b, json_object_get(meta, "run_time"));
	ml_buf_adds(&b, "; inputs: ");
	const json_t *inputs = json_object_get(meta, "inputs");
	json_array_foreach(inputs, i, r) {
		if (i == 8) {
			ml_buf_printf(&b, "and %zu more", json_array_size(inputs) - 8);
			break;
		}
		esc_json(&b, r);
		ml_buf_adds(&b, i + 1 < json_array_size(inputs) ? ", " : "");
	}
	ml_buf_printf(&b, "</p>\n<p><span class=\"%s\">%zu of %zu features drifted</span>, %zu constraint violation%s.</p>\n",
		      ndrift ? "bad" : "ok", ndrift, json_array_size(records), json_array_size(violations),
		      json_array_size(violations) == 1 ? "" : "s");
	ml_buf_adds(&b, "<h2>Constraint violations</h2>\n");
	violations_table(&b, violations);
	ml_buf_adds(&b, "<h2>Distributions</h2>\n<p class=\"key\"><span style=\"background:#4e79a7\"></span>baseline"
			"<span style=\"background:#f28e2b\"></span>current (share of rows in each bucket or value)</p>\n"
			"<div class=\"grid\">\n");
	json_array_foreach(distributions, i, r)
		card(&b, r, record_of(records, json_string_value(json_object_get(r, "feature"))));
	ml_buf_adds(&b, "</div>\n");
	if (json_array_size(history)) {
		ml_buf_adds(&b, "<h2>Drift over time</h2>\n<p class=\"meta\">This run and the earlier ones in the "
				"history, by the method of this run; red points drifted.</p>\n<div class=\"grid\">\n");
		json_array_foreach(records, i, r)
			trend(&b, history, r);
		ml_buf_adds(&b, "</div>\n");
	}
	ml_buf_adds(&b, "<h2>Drift records</h2>\n");
	records_table(&b, records);
	ml_buf_adds(&b, "</body></html>\n");
	int rc;
	if (b.len + 1 >= REPORT_CAP || !b.data)
		rc = ml_err_set(err, ML_ERR_INTERNAL, "%s: the report does not fit in memory", uri);
	else
		rc = ml_write_all_atomic(uri, b.data, b.len, err);
	ml_buf_release(&b);
	return rc;
}

#define HISTORY_CAP ((size_t)256 << 20)

json_t *ml_drift_history_load(const char *uri, struct ml_err *err)
{
	size_t len;
	struct stat st;
	const char *path = ml_uri_local_path(uri);
	if (path && stat(path, &st) < 0)
		return json_array();
	char *text = ml_read_all(uri, HISTORY_CAP, &len, err);
	json_t *all = text ? json_array() : NULL;
	size_t line = 0;
	for (char *p = text, *nl; all && p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		if (strspn(p, " \t\r") >= n)
			continue;
		json_error_t je;
		json_t *r = json_loadb(p, n, 0, &je);
		if (!json_is_object(r)) {
			ml_err_set(err, ML_ERR_DATA, "%s:%zu: not a drift record: %s", uri, line, r ? "not an object" : je.text);
			json_decref(r);
			json_decref(all);
			all = NULL;
		} else {
			json_array_append_new(all, r);
		}
	}
	free(text);
	return all;
}
