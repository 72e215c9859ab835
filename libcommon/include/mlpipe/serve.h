/*
 * serve.h - the SageMaker inference container contract over HTTP
 * (libmicrohttpd), for ml-score --serve.
 *
 *     GET  /ping          200 while the models are loaded
 *     POST /invocations   the body scored by ops->invoke(), answered with
 *                         its status, content type and body
 *
 * Everything else is 404 (405 for a wrong method).  A body larger than
 * max_body is refused with 413 before it is read whole (Content-Length) or
 * as soon as it passes the limit.  Requests run on a pool of threads, so
 * invoke() must be safe to call concurrently.  When capture is set, every
 * request answered 200 that the sampling picks is recorded (capture.h)
 * with its content types.
 *
 * ml_serve_run() blocks SIGTERM, SIGINT and SIGHUP in every thread and waits
 * for them:
 *
 *   SIGHUP           ops->reload(): load anew and swap; a failed reload is
 *                    logged and the old models keep serving;
 *   SIGTERM, SIGINT  stop accepting connections, let requests in flight
 *                    finish (up to timeout + 5 s), stop, return 0.
 */
#ifndef MLPIPE_SERVE_H
#define MLPIPE_SERVE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct ml_capture;

struct ml_serve_request {
	const char *content_type;	/* Content-Type as sent, or NULL */
	const char *accept;		/* Accept as sent, or NULL */
	const char *body;		/* NUL-terminated; len bytes */
	size_t len;
	double deadline;		/* ml_serve_now() value when scoring should give up */
	const char *inference_id;	/* X-Amzn-SageMaker-Inference-Id as sent, or NULL */
};

struct ml_serve_response {
	int status;			/* 200, 400, ... */
	const char *content_type;	/* static string */
	struct ml_buf body;		/* initialised by the server; filled by invoke */
};

struct ml_serve_ops {
	void (*invoke)(void *ctx, const struct ml_serve_request *req, struct ml_serve_response *resp);
	int (*reload)(void *ctx, struct ml_err *err);	/* may be NULL */
};

struct ml_serve_opts {
	const char *addr;		/* "127.0.0.1:8080", ":8080", "[::1]:8080" or "8080" */
	size_t max_body;		/* bytes; 413 above */
	double timeout;			/* seconds a request may take (idle connections too) */
	size_t threads;			/* request threads */
	struct ml_capture *capture;	/* or NULL */
};

/* Serve until SIGTERM or SIGINT; 0 after a graceful stop, -1 if it could not start. */
int ml_serve_run(const struct ml_serve_opts *o, const struct ml_serve_ops *ops, void *ctx, struct ml_err *err);

/* Monotonic seconds, for deadlines. */
double ml_serve_now(void);

#endif
