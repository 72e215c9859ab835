/*
 * aws_role.c - credentials of the role a container or an EC2 instance runs
 * as: botocore's last two providers, after the environment and the files
 * (sigv4.c).  Linked only into what uses them (the S3 store and the SNS
 * notifier, which link libcurl).
 *
 *   container  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS: on 169.254.170.2)
 *              or AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity, or any
 *              https URL; http only to a loopback or link-local host), with
 *              AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) as the Authorization
 *              header.
 *   instance   EC2's instance metadata, IMDSv2: a session token (PUT), the
 *              role's name, then its credentials; at
 *              AWS_EC2_METADATA_SERVICE_ENDPOINT (default
 *              http://169.254.169.254), not at all when
 *              AWS_EC2_METADATA_DISABLED=true.  AWS_METADATA_SERVICE_TIMEOUT
 *              seconds (default 1) per request, as botocore: off EC2 the
 *              lookup costs at most that.
 *
 * Each open of an s3:// object asks again, so rotated keys are picked up.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "mlpipe/buf.h"
#include "mlpipe/sigv4.h"
#include "mlpipe/uri.h"

#define ANSWER_MAX (64 * 1024)

static size_t keep_answer(char *p, size_t size, size_t n, void *arg)
{
	return ml_buf_add(arg, p, size * n) < 0 ? 0 : size * n;
}

static long metadata_timeout_ms(void)
{
	const char *v = getenv("AWS_METADATA_SERVICE_TIMEOUT");
	double s = v && *v ? atof(v) : 1;
	return s > 0 && s < 60 ? (long)(s * 1000) : 1000;
}

/*
 * One request; the answer's body in out.  0 on a 2xx answer, else -1 with
 * *status (0: no answer) and why, which holds no secret.
 */
static int fetch(const char *method, const char *url, const char *header, struct ml_buf *out, long *status,
		 char *why, size_t whylen)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = header ? curl_slist_append(NULL, header) : NULL;
	if (!curl || (header && !headers)) {
		snprintf(why, whylen, "out of memory");
		curl_easy_cleanup(curl);
		return -1;
	}
	long timeout = metadata_timeout_ms();
	*status = 0;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");	/* the metadata services are never behind a proxy */
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK)
		snprintf(why, whylen, "%s %s: %s", method, url, curl_easy_strerror(rc));
	else if (*status < 200 || *status > 299)
		snprintf(why, whylen, "%s %s: HTTP %ld", method, url, *status);
	return rc == CURLE_OK && *status >= 200 && *status <= 299 ? 0 : -1;
}

/* A refusal (4xx) is a configuration to fix; no answer or a 5xx, a temporary failure. */
static int fetch_failed(long status, const char *what, const char *why, struct ml_err *err)
{
	return ml_err_set(err, status >= 400 && status < 500 ? ML_ERR_CONFIG : ML_ERR_TEMPFAIL, "%s: %s", what, why);
}

/* {"AccessKeyId", "SecretAccessKey", "Token"} from a container or instance answer. */
static int parse_keys(struct ml_buf *answer, const char *from, struct ml_aws_credentials *c,
		      struct ml_err *err)
{
	json_t *doc = json_loadb(answer->data ? answer->data : "", answer->len, 0, NULL);
	const char *id = json_string_value(json_object_get(doc, "AccessKeyId"));
	const char *secret = json_string_value(json_object_get(doc, "SecretAccessKey"));
	const char *token = json_string_value(json_object_get(doc, "Token"));
	int rc = 0;
	if (!id || !*id || !secret || !*secret)
		rc = ml_err_set(err, ML_ERR_CONFIG, "%s answered without AccessKeyId and SecretAccessKey", from);
	else if (!(c->access_key = strdup(id)) || !(c->secret_key = strdup(secret)) ||
		 (token && !(c->session_token = strdup(token))))
		rc = ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	json_decref(doc);
	if (answer->data)	/* the keys do not stay behind in freed memory */
		memset(answer->data, 0, answer->len);
	if (rc < 0)
		ml_aws_credentials_release(c);
	return rc;
}

/*
 * http is fine to this host or the link-local addresses ECS and EKS answer
 * on; anything else must be https.  The whole host is compared (a prefix
 * would let "127.example.com" through).
 */
static int trusted_url(const char *url)
{
	if (!strncmp(url, "https://", 8))
		return 1;
	if (strncmp(url, "http://", 7))
		return 0;
	const char *host = url + 7;
	size_t len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
	char name[256];
	if (len >= sizeof name)
		return 0;
	memcpy(name, host, len);
	name[len] = '\0';
	static const char *const local[] = { "localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]" };
	for (size_t i = 0; i < sizeof local / sizeof *local; i++)
		if (!strcmp(name, local[i]))
			return 1;
	struct in_addr a;	/* 127.0.0.0/8 */
	return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static char *container_token(struct ml_err *err)
{
	const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (file && *file) {
		size_t len;
		char *t = ml_read_all(file, 16384, &len, err);
		if (t)
			t[strcspn(t, "\r\n")] = '\0';
		return t;
	}
	const char *t = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	return strdup(t && *t ? t : "");
}

/* 1 when no container endpoint is configured. */
static int from_container(struct ml_aws_credentials *c, struct ml_err *err)
{
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	char url[2048], why[2300];
	if (rel && *rel)
		snprintf(url, sizeof url, "http://169.254.170.2%s", rel);
	else if (full && *full)
		snprintf(url, sizeof url, "%s", full);
	else
		return 1;
	if (!trusted_url(url))
		return ml_err_set(err, ML_ERR_CONFIG,
				  "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s: http only to a loopback or link-local host; "
				  "use https",
				  url);
	char *token = container_token(err), header[20000];
	if (!token)
		return -1;
	snprintf(header, sizeof header, "Authorization: %s", token);
	free(token);
	struct ml_buf answer;
	long status;
	ml_buf_init(&answer, ANSWER_MAX);
	int rc = fetch("GET", url, strcmp(header, "Authorization: ") ? header : NULL, &answer, &status, why,
		       sizeof why) < 0
			 ? fetch_failed(status, "container credentials", why, err)
			 : parse_keys(&answer, "the container credentials endpoint", c, err);
	memset(header, 0, sizeof header);
	ml_buf_release(&answer);
	return rc;
}

/* 1 when instance metadata is off or does not answer (not on EC2). */
static int from_instance(struct ml_aws_credentials *c, struct ml_err *err)
{
	const char *off = getenv("AWS_EC2_METADATA_DISABLED");
	if (off && !strcasecmp(off, "true"))
		return 1;
	const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	if (!base || !*base)
		base = "http://169.254.169.254";
	size_t blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;
	char url[1200], header[512], why[1400];
	struct ml_buf answer;
	long status;
	ml_buf_init(&answer, ANSWER_MAX);
	snprintf(url, sizeof url, "%.*s/latest/api/token", (int)blen, base);
	int rc = 1;	/* no answer to the token request: not on EC2 */
	if (fetch("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600", &answer, &status, why, sizeof why) == 0) {
		snprintf(header, sizeof header, "X-aws-ec2-metadata-token: %.*s", (int)answer.len,
			 answer.data ? answer.data : "");
		ml_buf_reset(&answer);
		snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/", (int)blen, base);
		if (fetch("GET", url, header, &answer, &status, why, sizeof why) < 0) {
			rc = fetch_failed(status, "instance metadata (has the instance a role?)", why, err);
		} else {
			char role[256];
			snprintf(role, sizeof role, "%.*s", (int)strcspn(answer.data ? answer.data : "", "\r\n"),
				 answer.data ? answer.data : "");
			ml_buf_reset(&answer);
			snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/%s", (int)blen, base,
				 role);
			if (!*role || strchr(role, '/'))
				rc = ml_err_set(err, ML_ERR_CONFIG, "instance metadata names no role");
			else if (fetch("GET", url, header, &answer, &status, why, sizeof why) < 0)
				rc = fetch_failed(status, "instance metadata", why, err);
			else
				rc = parse_keys(&answer, "the instance metadata service", c, err);
		}
		memset(header, 0, sizeof header);
	}
	ml_buf_release(&answer);
	return rc;
}

int ml_aws_role_credentials(struct ml_aws_credentials *c, struct ml_err *err)
{
	memset(c, 0, sizeof *c);
	int rc = from_container(c, err);
	return rc == 1 ? from_instance(c, err) : rc;
}

int ml_aws_credentials_find(struct ml_aws_credentials *c, struct ml_err *err)
{
	struct ml_err files = ML_ERR_INIT;
	if (ml_aws_credentials_load(c, &files) == 0)
		return 0;
	if (files.class != ML_ERR_CONFIG) {
		if (err)
			*err = files;
		return -1;
	}
	int rc = ml_aws_role_credentials(c, err);
	if (rc == 1)	/* nothing anywhere: the files' message, with where else we looked */
		return ml_err_set(err, ML_ERR_CONFIG,
				  "%s, and neither a container credentials endpoint nor EC2 instance metadata answered",
				  files.msg);
	return rc;
}
