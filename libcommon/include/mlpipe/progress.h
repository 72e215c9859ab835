/*
 * progress.h - a progress line on stderr for long work.
 *
 * Shown only when enabled: --progress forces it, --no-progress suppresses it,
 * and by default it appears when stderr is a terminal.  Redraws at most ten
 * times a second, so calling ml_progress_update() per batch costs nothing.
 *
 *     struct ml_progress p;
 *     ml_progress_start(&p, "training", 100, "rounds");
 *     for (...) ml_progress_update(&p, round + 1);
 *     ml_progress_finish(&p);
 */
#ifndef MLPIPE_PROGRESS_H
#define MLPIPE_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct ml_progress {
	const char *label;
	const char *unit;
	uint64_t total;		/* 0: unknown, show a count and rate */
	uint64_t done;
	double started;		/* monotonic seconds */
	double last_draw;
	int enabled;
	FILE *out;		/* stderr unless a test says otherwise */
};

/* mode: -1 auto (isatty(2)), 0 off, 1 on; set from --progress/--no-progress. */
void ml_progress_set_mode(int mode);

void ml_progress_start(struct ml_progress *p, const char *label, uint64_t total, const char *unit);
void ml_progress_update(struct ml_progress *p, uint64_t done);
void ml_progress_finish(struct ml_progress *p);

/* Erase the line being drawn, so a message can take its place (it comes back at the next update). */
void ml_progress_clear(void);

/* Format one progress line (no terminal codes) into buf; for tests. */
int ml_progress_format(const struct ml_progress *p, double now, char *buf, size_t bufsz);

#endif
