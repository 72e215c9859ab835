/*
 * drift_report.h - a drift check as one self-contained HTML page: a summary,
 * the constraint violations, the drift record of every feature, and per
 * feature an inline SVG bar chart of the baseline's and the current
 * distribution.  No scripts, fonts, images or styles from anywhere else: the
 * page opens offline and can be mailed as an attachment.
 *
 *     json_t *dist = ml_drift_distributions(d, 12);
 *     ml_drift_report_html("drift.html", meta, records, violations, dist, NULL, &err);
 *
 * meta: {"baseline": "...", "inputs": [...], "run_time": "..."} (any may be
 * missing); records and violations as ml_drift_results() gives them;
 * history, or NULL, earlier runs' drift records (ml-drift's standard output,
 * with run_time): then a line chart per feature of the value judged (the
 * p-value of a test, else the adjusted distance) over the runs, against the
 * threshold.  All borrowed.  Written atomically.
 */
#ifndef MLPIPE_DRIFT_REPORT_H
#define MLPIPE_DRIFT_REPORT_H

#include <jansson.h>

#include "err.h"

int ml_drift_report_html(const char *uri, const json_t *meta, const json_t *records, const json_t *violations,
			 const json_t *distributions, const json_t *history, struct ml_err *err);

/*
 * Earlier runs' drift records from an NDJSON file (ml-drift's standard
 * output appended run after run): a new JSON array, empty when the file is
 * missing; NULL with err for a line that is not a JSON object (file:line).
 */
json_t *ml_drift_history_load(const char *uri, struct ml_err *err);

#endif
