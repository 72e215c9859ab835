/*
 * sigv4.h - AWS Signature Version 4 (HMAC-SHA256 over a canonical request),
 * and where AWS credentials and the region come from.  Used by the S3 store
 * and the SNS notifier; written with OpenSSL after AWS's "Create a signed
 * AWS API request" and checked against AWS's published examples
 * (tests/unit/test_sigv4.c).
 *
 *     const char *hdrs[] = { "host:examplebucket.s3.amazonaws.com",
 *                            "x-amz-content-sha256:" EMPTY_SHA256,
 *                            "x-amz-date:20130524T000000Z", NULL };
 *     struct ml_sigv4_request r = { .method = "GET", .path = "/test.txt",
 *             .query = "", .headers = hdrs, .payload_sha256 = EMPTY_SHA256,
 *             .region = "us-east-1", .service = "s3", .amz_date = "20130524T000000Z",
 *             .access_key = id, .secret_key = secret };
 *     struct ml_sigv4 sig;
 *     if (ml_sigv4_sign(&r, &sig, &err) == 0) {
 *             ... send "Authorization: <sig.authorization>" ...
 *             ml_sigv4_release(&sig);
 *     }
 *
 * The caller gives the path and the query already URI-encoded the way the
 * request is sent (ml_sigv4_uri_encode() encodes as AWS asks); the signer
 * sorts the query's parameters and the headers, lower-cases header names,
 * trims values and folds runs of spaces.  Secrets never appear in messages.
 */
#ifndef MLPIPE_SIGV4_H
#define MLPIPE_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define ML_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ML_SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"

struct ml_sigv4_request {
	const char *method;		/* "GET", "PUT", ... */
	const char *path;		/* URI-encoded absolute path, "/" at least */
	const char *query;		/* URI-encoded "a=1&b=2" in any order, or "" / NULL */
	const char *const *headers;	/* "Name:value" to sign, NULL-terminated; must hold host */
	const char *payload_sha256;	/* hex digest of the body, or ML_SIGV4_UNSIGNED */
	const char *region;		/* "us-east-1" */
	const char *service;		/* "s3", "sns" */
	const char *amz_date;		/* "20150830T123600Z", the x-amz-date header's value */
	const char *access_key;
	const char *secret_key;
};

/* The result; every string is owned by the struct until ml_sigv4_release(). */
struct ml_sigv4 {
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers;		/* "host;x-amz-date" */
	char signature[65];		/* hex */
	char *authorization;		/* the Authorization header's value */
};

int ml_sigv4_sign(const struct ml_sigv4_request *req, struct ml_sigv4 *out, struct ml_err *err);
void ml_sigv4_release(struct ml_sigv4 *sig);

/*
 * URI-encode s into a new string: unreserved characters (A-Z a-z 0-9 - _ . ~)
 * stay, every other byte becomes %XY (upper-case hex); '/' stays when
 * keep_slash (object key paths).  NULL when out of memory.
 */
char *ml_sigv4_uri_encode(const char *s, int keep_slash);

/* t as "YYYYMMDDTHHMMSSZ" (UTC). */
void ml_sigv4_amz_date(time_t t, char out[17]);

/* HMAC-SHA256 of data with key, as 32 bytes. */
int ml_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		   unsigned char out[32]);

/*
 * Credentials, in botocore's order: AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (these win even when
 * AWS_PROFILE is set), else the profile AWS_PROFILE (default "default") of
 * AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials, sections
 * "[name]"), else of AWS_CONFIG_FILE (default ~/.aws/config, sections
 * "[profile name]" and "[default]").  Missing credentials are
 * ML_ERR_CONFIG with a message saying where they were looked for.
 */
struct ml_aws_credentials {
	char *access_key;
	char *secret_key;
	char *session_token;		/* NULL unless temporary credentials */
};
int ml_aws_credentials_load(struct ml_aws_credentials *c, struct ml_err *err);
void ml_aws_credentials_release(struct ml_aws_credentials *c);

/*
 * The role's credentials from a container endpoint (ECS, EKS Pod Identity)
 * or EC2's instance metadata (IMDSv2), botocore's last providers
 * (aws_role.c, which needs libcurl): 0, 1 when neither is there, or -1.
 */
int ml_aws_role_credentials(struct ml_aws_credentials *c, struct ml_err *err);
/* The whole chain: ml_aws_credentials_load(), then ml_aws_role_credentials(). */
int ml_aws_credentials_find(struct ml_aws_credentials *c, struct ml_err *err);

/*
 * AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region in the
 * config file (AWS_CONFIG_FILE or ~/.aws/config), else fallback.  The
 * string is valid until the next call.
 */
const char *ml_aws_region(const char *fallback);

#endif
