/* progress.c - a self-redrawing progress line on stderr, only for people. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mlpipe/progress.h"

#define REDRAW_INTERVAL 0.1	/* seconds: at most ten redraws a second */

static int progress_mode = -1;

void ml_progress_set_mode(int mode)
{
	progress_mode = mode;
}

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ml_progress_start(struct ml_progress *p, const char *label, uint64_t total, const char *unit)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->unit = unit;
	p->total = total;
	p->out = stderr;
	p->enabled = progress_mode < 0 ? isatty(STDERR_FILENO) : progress_mode;
	p->started = monotonic_seconds();
}

int ml_progress_format(const struct ml_progress *p, double now, char *buf, size_t bufsz)
{
	double elapsed = now - p->started;
	double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
	if (!p->total)
		return snprintf(buf, bufsz, "%s: %llu %s (%.0f/s)", p->label,
				(unsigned long long)p->done, p->unit, rate);
	double frac = (double)p->done / (double)p->total;
	if (frac > 1)
		frac = 1;
	char bar[21];
	int filled = (int)(frac * 20);
	for (int i = 0; i < 20; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[20] = '\0';
	double eta = rate > 0 ? (double)(p->total - (p->done < p->total ? p->done : p->total)) / rate : 0;
	return snprintf(buf, bufsz, "%s [%s] %3.0f%% %llu/%llu %s, %.0fs left", p->label, bar,
			frac * 100, (unsigned long long)p->done, (unsigned long long)p->total, p->unit,
			eta);
}

static struct ml_progress *on_screen;	/* the line drawn last, until finished */

void ml_progress_clear(void)
{
	if (!on_screen)
		return;
	fputs("\r\033[K", on_screen->out);
	on_screen->last_draw = 0;	/* drawn again at its next update */
	on_screen = NULL;
}

static void draw(struct ml_progress *p, double now)
{
	char line[256];
	ml_progress_format(p, now, line, sizeof line);
	/* \r and erase-to-end-of-line: the line redraws itself in place. */
	fprintf(p->out, "\r%s\033[K", line);
	fflush(p->out);
	p->last_draw = now;
	on_screen = p;
}

void ml_progress_update(struct ml_progress *p, uint64_t done)
{
	p->done = done;
	if (!p->enabled)
		return;
	double now = monotonic_seconds();
	if (now - p->last_draw >= REDRAW_INTERVAL)
		draw(p, now);
}

void ml_progress_finish(struct ml_progress *p)
{
	if (!p->enabled)
		return;
	draw(p, monotonic_seconds());
	fputc('\n', p->out);
	fflush(p->out);
	on_screen = NULL;
}
