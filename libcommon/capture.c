/*
 * capture.c - SageMaker data capture: one JSON line per inference, hourly files.
 *
 * Into a store (s3://bucket/capture/), records go to the same hourly files
 * in a local spool folder, and each file is uploaded whole (one object,
 * YYYY/MM/DD/HH/<name>.jsonl under the prefix) when the hour changes and at
 * close, then removed from the spool.  S3 objects cannot be appended to, so
 * this is the way to get SageMaker's layout with one object per file.
 */
#define _GNU_SOURCE	/* nftw's FTW_DEPTH */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "mlpipe/buf.h"
#include "mlpipe/capture.h"
#include "mlpipe/cli.h"
#include "mlpipe/log.h"
#include "mlpipe/random.h"
#include "mlpipe/uri.h"
#include "reader_int.h"

struct ml_capture {
	pthread_mutex_t lock;
	char *dir;		/* local folder, or the spool of a store's prefix */
	char *remote;		/* the store's prefix (s3://bucket/capture/), or NULL */
	struct ml_strlist pending;	/* spooled files (relative to dir) not uploaded yet */
	char rel[64];		/* the current file, relative to dir */
	double percent;
	int fd;			/* the current hour's file, or -1 */
	long hour;		/* hours since the epoch of that file */
	unsigned long long count;
	uint64_t rng;		/* splitmix64 state, advanced atomically */
};

/* ml_random_next(), its state advanced atomically: requests sample from several threads. */
static uint64_t next_random(uint64_t *state)
{
	return ml_random_mix(__atomic_add_fetch(state, 0x9e3779b97f4a7c15ULL, __ATOMIC_RELAXED));
}

static uint64_t seed(void)
{
	uint64_t s;
	if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
	}
	return s;
}

void ml_uuid4(char out[37])
{
	static uint64_t state;	/* only if getrandom() fails */
	uint8_t b[16];
	if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
		if (!__atomic_load_n(&state, __ATOMIC_RELAXED))
			__atomic_store_n(&state, seed(), __ATOMIC_RELAXED);
		uint64_t x = next_random(&state), y = next_random(&state);
		memcpy(b, &x, 8);
		memcpy(b + 8, &y, 8);
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

struct ml_capture *ml_capture_open(const char *dir, double percent, struct ml_err *err)
{
	if (!(percent >= 0 && percent <= 100)) {
		ml_err_set(err, ML_ERR_USAGE, "capture sampling percentage must be 0 to 100, not %g", percent);
		return NULL;
	}
	if (ml_ensure_dir(dir, err) < 0)
		return NULL;
	struct ml_capture *c = ml_calloc(1, sizeof *c, err);
	if (!c)
		return NULL;
	if (ml_uri_is_remote(dir)) {
		const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		char spool[4096];
		snprintf(spool, sizeof spool, "%s/mlpipe-capture.XXXXXX", tmp);
		if (!mkdtemp(spool)) {
			ml_err_errno(err, errno, "capture: cannot make a spool folder in %s for %s", tmp, dir);
			free(c);
			return NULL;
		}
		if (!(c->remote = ml_strdup(dir, err)) || !(c->dir = ml_strdup(spool, err))) {
			rmdir(spool);
			free(c->remote);
			free(c);
			return NULL;
		}
	} else if (!(c->dir = ml_strdup(dir, err))) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->percent = percent;
	c->fd = -1;
	c->hour = -1;
	c->rng = seed();
	return c;
}

int ml_capture_sampled(struct ml_capture *c)
{
	if (c->percent >= 100)
		return 1;
	if (c->percent <= 0)
		return 0;
	return (double)(next_random(&c->rng) >> 11) * 0x1p-53 * 100.0 < c->percent;
}

/* DIR/YYYY/MM/DD/HH, each level made if missing. */
static int make_hour_dir(const char *dir, const struct tm *tm, char *path, size_t pathsz, struct ml_err *err)
{
	const char *fmt[] = { "%s/%04d", "%s/%04d/%02d", "%s/%04d/%02d/%02d", "%s/%04d/%02d/%02d/%02d" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, pathsz, fmt[i], dir, tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour);
		if (ml_ensure_dir(path, err) < 0)
			return -1;
	}
	return 0;
}

/* Copy the spooled file rel to the store, then remove it from the spool. */
static int upload(struct ml_capture *c, const char *rel, struct ml_err *err)
{
	char local[4096], remote[4096], buf[65536];
	if (ml_uri_join(local, sizeof local, c->dir, rel, err) < 0 ||
	    ml_uri_join(remote, sizeof remote, c->remote, rel, err) < 0)
		return -1;
	int fd = open(local, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_err_errno(err, errno, "capture: cannot open %s", local);
	struct ml_ostream *out = ml_open_write(remote, ML_WRITE_ATOMIC, err);
	int rc = out ? 0 : -1;
	while (rc == 0) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = ml_err_errno(err, errno, "capture: reading %s", local);
		else if (n == 0)
			break;
		else
			rc = ml_ostream_write(out, buf, (size_t)n, err);
	}
	close(fd);
	if (out && ml_ostream_close(out, rc == 0, rc == 0 ? err : NULL) < 0)
		rc = -1;
	if (rc == 0)
		unlink(local);
	return rc;
}

/* Upload the spooled files, oldest first; those that fail stay pending.  -1 if any did. */
static int upload_pending(struct ml_capture *c, struct ml_err *err)
{
	size_t kept = 0;
	int rc = 0;
	for (size_t i = 0; i < c->pending.n; i++) {
		if (rc == 0 && upload(c, c->pending.items[i], err) == 0) {
			free(c->pending.items[i]);
			continue;
		}
		rc = -1;	/* keep this one and the ones after it, in order */
		c->pending.items[kept++] = c->pending.items[i];
	}
	c->pending.n = kept;
	return rc;
}

/* Under the lock: the current file is complete; into a store it goes. */
static int finish_file(struct ml_capture *c, struct ml_err *err)
{
	if (c->fd >= 0) {
		fsync(c->fd);
		close(c->fd);
		c->fd = -1;
		if (c->remote && ml_strlist_push(&c->pending, c->rel, err) < 0)
			return -1;
	}
	return c->remote ? upload_pending(c, err) : 0;
}

/* Under the lock: the file of the hour of now, opened when the hour changes. */
static int hour_file(struct ml_capture *c, const struct timeval *now, const struct tm *tm, struct ml_err *err)
{
	long hour = (long)(now->tv_sec / 3600);
	if (c->fd >= 0 && hour == c->hour)
		return 0;
	char path[4096];
	if (make_hour_dir(c->dir, tm, path, sizeof path - 64, err) < 0)
		return -1;
	size_t n = strlen(path);
	snprintf(path + n, sizeof path - n, "/%02d-%02d-%03ld-%08llx.jsonl", tm->tm_min, tm->tm_sec,
		 (long)(now->tv_usec / 1000), (unsigned long long)(next_random(&c->rng) & 0xffffffffULL));
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return ml_err_errno(err, errno, "capture: cannot open %s", path);
	struct ml_err up = ML_ERR_INIT;
	if (finish_file(c, &up) < 0)	/* the record still goes to the new file; retried later */
		ml_warn("capture: %s (kept in %s; tried again at the next hour and at the end)", up.msg, c->dir);
	c->fd = fd;
	c->hour = hour;
	snprintf(c->rel, sizeof c->rel, "%s", path + strlen(c->dir) + 1);
	return 0;
}

static const char *encoding_of(const char *type, const char *data, size_t len)
{
	if (ml_utf8_valid_prefix(data, len) != len || memchr(data, '\0', len))
		return "BASE64";
	if (type && !strncmp(type, "text/csv", 8))
		return "CSV";
	if (type && (!strncmp(type, "application/json", 16) || !strncmp(type, "application/jsonlines", 21) ||
		     !strncmp(type, "application/x-ndjson", 20)))
		return "JSON";
	return "BASE64";
}

static json_t *capture_part(const char *type, const char *mode, const char *data, size_t len)
{
	const char *enc = encoding_of(type, data, len);
	json_t *j = json_object();
	json_object_set_new(j, "observedContentType", json_string(type ? type : "application/octet-stream"));
	json_object_set_new(j, "mode", json_string(mode));
	if (strcmp(enc, "BASE64") == 0) {
		size_t n = 4 * ((len + 2) / 3) + 1;
		unsigned char *b64 = malloc(n);
		if (b64) {
			int got = EVP_EncodeBlock(b64, (const unsigned char *)data, (int)len);
			json_object_set_new(j, "data", json_stringn((const char *)b64, (size_t)got));
		}
		free(b64);
	} else {
		json_object_set_new(j, "data", json_stringn(data, len));
	}
	json_object_set_new(j, "encoding", json_string(enc));
	return j;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ml_capture_record(struct ml_capture *c, const char *in_type, const char *in, size_t in_len,
		      const char *out_type, const char *out, size_t out_len, struct ml_err *err)
{
	return ml_capture_record_id(c, NULL, in_type, in, in_len, out_type, out, out_len, err);
}

int ml_capture_record_id(struct ml_capture *c, const char *inference_id, const char *in_type, const char *in,
			 size_t in_len, const char *out_type, const char *out, size_t out_len, struct ml_err *err)
{
	struct timeval now;
	struct tm tm;
	char when[32], uuid[37];
	gettimeofday(&now, NULL);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	ml_uuid4(uuid);

	json_t *data = json_object(), *meta = json_object(), *rec = json_object();
	json_object_set_new(data, "endpointInput", capture_part(in_type, "INPUT", in, in_len));
	json_object_set_new(data, "endpointOutput", capture_part(out_type, "OUTPUT", out, out_len));
	json_object_set_new(meta, "eventId", json_string(uuid));
	if (inference_id && ml_utf8_valid_prefix(inference_id, strlen(inference_id)) == strlen(inference_id))
		json_object_set_new(meta, "inferenceId", json_string(inference_id));
	json_object_set_new(meta, "inferenceTime", json_string(when));
	json_object_set_new(rec, "captureData", data);
	json_object_set_new(rec, "eventMetadata", meta);
	json_object_set_new(rec, "eventVersion", json_string("0"));
	size_t n = json_dumpb(rec, NULL, 0, JSON_COMPACT);
	char *line = n ? malloc(n + 1) : NULL;
	if (!line) {
		json_decref(rec);
		return ml_err_set(err, ML_ERR_INTERNAL, "capture: out of memory for a record");
	}
	json_dumpb(rec, line, n, JSON_COMPACT);
	json_decref(rec);
	line[n] = '\n';

	int rc = 0;
	pthread_mutex_lock(&c->lock);
	if (hour_file(c, &now, &tm, err) < 0)
		rc = -1;
	else if (write_all(c->fd, line, n + 1) < 0)
		rc = ml_err_errno(err, errno, "capture: write failed in %s", c->dir);
	else
		c->count++;
	pthread_mutex_unlock(&c->lock);
	free(line);
	return rc;
}

unsigned long long ml_capture_count(const struct ml_capture *c)
{
	return c->count;
}

/* The spool's folders, emptied by the uploads (a file left there is kept). */
static int remove_spool_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	return 0;
}

int ml_capture_close(struct ml_capture *c, struct ml_err *err)
{
	if (!c)
		return 0;
	int rc = 0;
	if (c->remote) {
		struct ml_err up = ML_ERR_INIT;
		if (finish_file(c, &up) < 0) {
			ml_err_prefix(&up, "capture: %zu file%s not uploaded to %s, kept in %s", c->pending.n,
				      c->pending.n == 1 ? "" : "s", c->remote, c->dir);
			if (err)
				*err = up;
			else	/* the run failed already; still say where the captured data is */
				ml_warn("%s", up.msg);
			rc = -1;
		} else {
			nftw(c->dir, remove_spool_entry, 8, FTW_DEPTH | FTW_PHYS);
		}
	} else if (c->fd >= 0 && (fsync(c->fd) < 0 || close(c->fd) < 0)) {
		rc = ml_err_errno(err, errno, "capture: closing a file in %s", c->dir);
	}
	pthread_mutex_destroy(&c->lock);
	ml_strlist_clear(&c->pending);
	free(c->remote);
	free(c->dir);
	free(c);
	return rc;
}
