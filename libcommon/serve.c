/*
 * serve.c - GET /ping and POST /invocations with libmicrohttpd; signals for
 * reload (SIGHUP) and graceful shutdown (SIGTERM, SIGINT).
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "mlpipe/capture.h"
#include "mlpipe/log.h"
#include "mlpipe/serve.h"

/*
 * libmicrohttpd is opened when a server starts, not linked: it brings GnuTLS
 * and seven more libraries, whose loading cost every batch run of ml-score
 * 5 ms.  The header still gives the types, and each pointer the exact type
 * of the function it stands for.
 */
static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_quiesce_daemon) *quiesce_daemon;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
} mhd;

static int bind_mhd(void *lib)
{
#define BIND(f) (*(void **)&mhd.f = dlsym(lib, "MHD_" #f)) != NULL
	return BIND(start_daemon) && BIND(stop_daemon) && BIND(quiesce_daemon) && BIND(get_daemon_info) &&
	       BIND(lookup_connection_value) && BIND(create_response_from_buffer) && BIND(add_response_header) &&
	       BIND(queue_response) && BIND(destroy_response);
#undef BIND
}

static int open_mhd(struct ml_err *err)
{
	static const char *const names[] = { "libmicrohttpd.so.12", "libmicrohttpd.so" };
	if (mhd.start_daemon)
		return 0;
	void *lib = NULL;
	for (size_t i = 0; !lib && i < sizeof names / sizeof *names; i++)
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "--serve needs libmicrohttpd: %s; install libmicrohttpd12",
				  dlerror());
	if (!bind_mhd(lib)) {
		memset(&mhd, 0, sizeof mhd);
		return ml_err_set(err, ML_ERR_UNAVAILABLE, "libmicrohttpd lacks a function --serve uses: %s", dlerror());
	}
	return 0;	/* kept open for the life of the process */
}

struct server {
	const struct ml_serve_opts *o;
	const struct ml_serve_ops *ops;
	void *ctx;
	long inflight;			/* POST /invocations begun and not completed */
	unsigned long long served;
};

/* What one request accumulates between the handler's calls. */
struct request {
	int is_invoke;
	int too_big;
	struct ml_buf body;
};

double ml_serve_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
			     size_t len)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof msg - 2)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	return reply(c, status, "text/plain; charset=utf-8", msg, (size_t)n);
}

static void capture(struct server *s, const struct ml_serve_request *rq, const struct ml_serve_response *rs)
{
	struct ml_err err = ML_ERR_INIT;
	if (!s->o->capture || !ml_capture_sampled(s->o->capture))
		return;
	if (ml_capture_record_id(s->o->capture, rq->inference_id, rq->content_type, rq->body, rq->len,
				 rs->content_type, rs->body.data ? rs->body.data : "", rs->body.len, &err) < 0)
		ml_error("%s", err.msg);
}

static enum MHD_Result invoke(struct server *s, struct MHD_Connection *c, struct request *rq)
{
	struct ml_serve_request req = {
		.content_type = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		.accept = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
		.inference_id = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "X-Amzn-SageMaker-Inference-Id"),
		.body = rq->body.data ? rq->body.data : "",
		.len = rq->body.len,
		.deadline = ml_serve_now() + s->o->timeout,
	};
	struct ml_serve_response resp = { 500, "text/plain; charset=utf-8" };
	ml_buf_init(&resp.body, (size_t)1 << 31);
	s->ops->invoke(s->ctx, &req, &resp);
	if (resp.status == 200)
		capture(s, &req, &resp);
	enum MHD_Result ret = reply(c, (unsigned)resp.status, resp.content_type,
				    resp.body.data ? resp.body.data : "", resp.body.len);
	ml_buf_release(&resp.body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct server *s = cls;
	struct request *rq = *req_cls;
	(void)version;
	if (!rq) {
		int is_invoke = !strcmp(url, "/invocations");
		if (!is_invoke && strcmp(url, "/ping") != 0)
			return reply_text(c, MHD_HTTP_NOT_FOUND, "no %s here: GET /ping or POST /invocations", url);
		if (strcmp(method, is_invoke ? "POST" : "GET") != 0)
			return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s wants %s, not %s", url,
					  is_invoke ? "POST" : "GET", method);
		if (!is_invoke)
			return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "", 0);
		if (!(rq = calloc(1, sizeof *rq)))
			return MHD_NO;
		rq->is_invoke = 1;
		ml_buf_init(&rq->body, s->o->max_body);
		*req_cls = rq;
		__atomic_add_fetch(&s->inflight, 1, __ATOMIC_SEQ_CST);
		const char *cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > s->o->max_body)
			return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
					  "the body is %s bytes; at most %zu are accepted (--max-request-size)", cl,
					  s->o->max_body);
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!rq->too_big && ml_buf_add(&rq->body, upload_data, *upload_data_size) < 0)
			rq->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than %zu bytes (--max-request-size)",
				  s->o->max_body);
	return invoke(s, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct request *rq = *req_cls;
	(void)c;
	(void)toe;
	if (!rq)
		return;
	ml_buf_release(&rq->body);
	free(rq);
	*req_cls = NULL;
	__atomic_add_fetch(&s->served, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&s->inflight, 1, __ATOMIC_SEQ_CST);
}

/* "host:port", ":port", "[v6]:port" or "port". */
static int resolve(const char *addr, struct addrinfo **res, struct ml_err *err)
{
	char host[256] = "", port[32];
	const char *colon = strrchr(addr, ':');
	if (!colon) {
		snprintf(port, sizeof port, "%s", addr);
	} else {
		size_t n = (size_t)(colon - addr);
		if (n && addr[0] == '[' && addr[n - 1] == ']') {
			addr++;
			n -= 2;
		}
		if (n >= sizeof host)
			return ml_err_set(err, ML_ERR_USAGE, "--serve %s: host name too long", addr);
		memcpy(host, addr, n);
		host[n] = '\0';
		snprintf(port, sizeof port, "%s", colon + 1);
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		return ml_err_set(err, ML_ERR_USAGE, "--serve %s: expected ADDR:PORT, e.g. 127.0.0.1:8080", addr);
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	int rc = getaddrinfo(*host ? host : NULL, port, &hints, res);
	if (rc)
		return ml_err_set(err, ML_ERR_USAGE, "--serve %s: %s", addr, gai_strerror(rc));
	return 0;
}

static struct MHD_Daemon *start(struct server *s, const struct addrinfo *ai, struct ml_err *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	unsigned timeout = (unsigned)(s->o->timeout + 0.999);
	struct MHD_Daemon *d = mhd.start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(s->o->threads ? s->o->threads : 1),
		MHD_OPTION_CONNECTION_TIMEOUT, timeout ? timeout : 1, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 512u, MHD_OPTION_END);
	if (!d)
		ml_err_set(err, ML_ERR_UNAVAILABLE, "cannot serve on %s (address in use, or not this host's?)",
			   s->o->addr);
	return d;
}

static void stop_gracefully(struct server *s, struct MHD_Daemon *d)
{
	MHD_socket listener = mhd.quiesce_daemon(d);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	double until = ml_serve_now() + s->o->timeout + 5;
	while (__atomic_load_n(&s->inflight, __ATOMIC_SEQ_CST) > 0 && ml_serve_now() < until) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	long left = __atomic_load_n(&s->inflight, __ATOMIC_SEQ_CST);
	if (left)
		ml_warn("stopping with %ld request%s still running", left, left == 1 ? "" : "s");
	mhd.stop_daemon(d);
}

int ml_serve_run(const struct ml_serve_opts *o, const struct ml_serve_ops *ops, void *ctx, struct ml_err *err)
{
	struct server s = { .o = o, .ops = ops, .ctx = ctx };
	struct addrinfo *ai;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (open_mhd(err) < 0 || resolve(o->addr, &ai, err) < 0)
		return -1;
	pthread_sigmask(SIG_BLOCK, &set, &old);	/* the server's threads inherit it */
	struct MHD_Daemon *d = start(&s, ai, err);
	freeaddrinfo(ai);
	if (!d) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	const union MHD_DaemonInfo *info = mhd.get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	ml_info("serving on %s (port %u), %zu threads; SIGHUP reloads, SIGTERM stops", o->addr,
		info ? (unsigned)info->port : 0u, o->threads);
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			struct ml_err e = ML_ERR_INIT;
			if (!ops->reload)
				ml_warn("SIGHUP: nothing to reload");
			else if (ops->reload(ctx, &e) < 0)
				ml_error("reload failed, still serving the models loaded before: %s", e.msg);
			else
				ml_info("reloaded the models");
			continue;
		}
		ml_info("signal %d: finishing the requests in flight", sig);
		break;
	}
	stop_gracefully(&s, d);
	ml_info("stopped after %llu requests", s.served);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}
