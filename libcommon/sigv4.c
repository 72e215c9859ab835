/*
 * sigv4.c - AWS Signature Version 4 and AWS credentials (see sigv4.h).
 *
 *   canonical request = METHOD \n PATH \n sorted query \n
 *                       name:value\n per sorted header \n signed;headers \n payload hash
 *   string to sign    = AWS4-HMAC-SHA256 \n amz-date \n date/region/service/aws4_request \n
 *                       hex(sha256(canonical request))
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service), "aws4_request")
 *   signature         = hex(HMAC(signing key, string to sign))
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mlpipe/artifact.h"
#include "mlpipe/buf.h"
#include "mlpipe/sigv4.h"

#define MAX_PARTS 256
#define MAX_TEXT (1 << 20)

int ml_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32])
{
	unsigned int outlen = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) || outlen != 32)
		return -1;
	return 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

char *ml_sigv4_uri_encode(const char *s, int keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = digits[*p >> 4];
			*o++ = digits[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

void ml_sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* ---- canonical request ---- */

struct part {
	const char *name;	/* query: "key=value"; header: lower-case name */
	size_t namelen;
	const char *value;	/* header value (trimmed, not yet folded) */
	size_t valuelen;
};

static int cmp_query(const void *a, const void *b)
{
	const struct part *x = a, *y = b;
	/* Sort by key, then by value: compare the key parts first. */
	const char *xe = memchr(x->name, '=', x->namelen), *ye = memchr(y->name, '=', y->namelen);
	size_t xk = xe ? (size_t)(xe - x->name) : x->namelen, yk = ye ? (size_t)(ye - y->name) : y->namelen;
	int c = memcmp(x->name, y->name, xk < yk ? xk : yk);
	if (c || xk != yk)
		return c ? c : (xk < yk ? -1 : 1);
	c = memcmp(x->name, y->name, x->namelen < y->namelen ? x->namelen : y->namelen);
	return c ? c : (x->namelen < y->namelen ? -1 : x->namelen > y->namelen);
}

static int add_query(struct ml_buf *b, const char *query, struct ml_err *err)
{
	struct part parts[MAX_PARTS];
	size_t n = 0;
	for (const char *p = query ? query : ""; *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > 0) {
			if (n == MAX_PARTS)
				return ml_err_set(err, ML_ERR_USAGE, "too many query parameters to sign");
			parts[n++] = (struct part){ p, len, NULL, 0 };
		}
		p += len + (amp != NULL);
	}
	qsort(parts, n, sizeof parts[0], cmp_query);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ml_buf_addc(b, '&');
		ml_buf_add(b, parts[i].name, parts[i].namelen);
		if (!memchr(parts[i].name, '=', parts[i].namelen))
			ml_buf_addc(b, '=');
	}
	return ml_buf_addc(b, '\n');
}

static int cmp_header(const void *a, const void *b)
{
	const struct part *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->namelen < y->namelen ? x->namelen : y->namelen);
	return c ? c : (x->namelen < y->namelen ? -1 : x->namelen > y->namelen);
}

/* A value trimmed, with runs of spaces folded to one. */
static void add_value(struct ml_buf *b, const char *v, size_t n)
{
	int space = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == ' ' || v[i] == '\t') {
			space = 1;
			continue;
		}
		if (space)
			ml_buf_addc(b, ' ');
		space = 0;
		ml_buf_addc(b, v[i]);
	}
}

/* Headers "name:value\n" (duplicates joined by ','), then the signed-header list. */
static int add_headers(struct ml_buf *b, const char *const *headers, char *names, size_t namecap,
		       struct ml_err *err)
{
	struct part parts[MAX_PARTS];
	char lower[MAX_PARTS][64];
	size_t n = 0;
	for (size_t i = 0; headers && headers[i]; i++) {
		const char *h = headers[i], *colon = strchr(h, ':');
		if (!colon || colon == h || (size_t)(colon - h) >= sizeof lower[0])
			return ml_err_set(err, ML_ERR_USAGE, "header to sign is malformed: %.40s", h);
		if (n == MAX_PARTS)
			return ml_err_set(err, ML_ERR_USAGE, "too many headers to sign");
		size_t len = (size_t)(colon - h);
		while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
			len--;
		for (size_t k = 0; k < len; k++)
			lower[n][k] = (char)tolower((unsigned char)h[k]);
		const char *v = colon + 1, *end = v + strlen(v);
		while (*v == ' ' || *v == '\t')
			v++;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
			end--;
		parts[n] = (struct part){ lower[n], len, v, (size_t)(end - v) };
		n++;
	}
	/* Duplicate names (rare) are joined in the order qsort leaves them. */
	qsort(parts, n, sizeof parts[0], cmp_header);
	size_t used = 0;
	names[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int dup = i > 0 && cmp_header(&parts[i - 1], &parts[i]) == 0;
		if (!dup) {
			if (i > 0)
				ml_buf_addc(b, '\n');
			ml_buf_add(b, parts[i].name, parts[i].namelen);
			ml_buf_addc(b, ':');
			if (used + parts[i].namelen + 2 > namecap)
				return ml_err_set(err, ML_ERR_USAGE, "too many headers to sign");
			used += (size_t)snprintf(names + used, namecap - used, "%s%.*s", used ? ";" : "",
						 (int)parts[i].namelen, parts[i].name);
		} else {
			ml_buf_addc(b, ',');
		}
		add_value(b, parts[i].value, parts[i].valuelen);
	}
	ml_buf_adds(b, "\n\n");
	ml_buf_adds(b, names);
	return ml_buf_addc(b, '\n');
}

static int signing_key(const struct ml_sigv4_request *r, unsigned char key[32])
{
	size_t slen = strlen(r->secret_key);
	char *k = malloc(slen + 5);
	if (!k)
		return -1;
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, r->secret_key, slen + 1);
	unsigned char a[32], b[32];
	int rc = ml_hmac_sha256(k, slen + 4, r->amz_date, 8, a) < 0 ||
			 ml_hmac_sha256(a, 32, r->region, strlen(r->region), b) < 0 ||
			 ml_hmac_sha256(b, 32, r->service, strlen(r->service), a) < 0 ||
			 ml_hmac_sha256(a, 32, "aws4_request", 12, key) < 0
		 ? -1
		 : 0;
	OPENSSL_cleanse(k, slen + 4);
	OPENSSL_cleanse(a, sizeof a);
	OPENSSL_cleanse(b, sizeof b);
	free(k);
	return rc;
}

void ml_sigv4_release(struct ml_sigv4 *sig)
{
	free(sig->canonical_request);
	free(sig->string_to_sign);
	free(sig->signed_headers);
	free(sig->authorization);
	memset(sig, 0, sizeof *sig);
}

int ml_sigv4_sign(const struct ml_sigv4_request *r, struct ml_sigv4 *out, struct ml_err *err)
{
	memset(out, 0, sizeof *out);
	if (!r->method || !r->path || !r->payload_sha256 || !r->region || !r->service || !r->amz_date ||
	    strlen(r->amz_date) != 16 || !r->access_key || !r->secret_key)
		return ml_err_set(err, ML_ERR_USAGE, "a request to sign lacks a field");
	struct ml_buf b;
	ml_buf_init(&b, MAX_TEXT);
	char names[4096];
	unsigned char key[32], mac[32];
	char digest[ML_SHA256_HEX];
	ml_buf_printf(&b, "%s\n%s\n", r->method, r->path);
	if (add_query(&b, r->query, err) < 0 || add_headers(&b, r->headers, names, sizeof names, err) < 0)
		goto fail;
	if (ml_buf_adds(&b, r->payload_sha256) < 0) {
		ml_err_set(err, ML_ERR_USAGE, "the request to sign is too long");
		goto fail;
	}
	out->canonical_request = ml_buf_detach(&b);
	if (!out->canonical_request || ml_sha256_hex(out->canonical_request, strlen(out->canonical_request), digest,
						      err) < 0)
		goto fail_oom;
	ml_buf_printf(&b, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", r->amz_date, r->amz_date, r->region,
		      r->service, digest);
	out->string_to_sign = ml_buf_detach(&b);
	out->signed_headers = strdup(names);
	if (!out->string_to_sign || !out->signed_headers || signing_key(r, key) < 0 ||
	    ml_hmac_sha256(key, 32, out->string_to_sign, strlen(out->string_to_sign), mac) < 0)
		goto fail_oom;
	OPENSSL_cleanse(key, sizeof key);
	hex(mac, 32, out->signature);
	ml_buf_printf(&b, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
		      r->access_key, r->amz_date, r->region, r->service, names, out->signature);
	if (!(out->authorization = ml_buf_detach(&b)))
		goto fail_oom;
	return 0;
fail_oom:
	if (err && err->class == ML_ERR_NONE)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory signing a request");
fail:
	OPENSSL_cleanse(key, sizeof key);
	ml_buf_release(&b);
	ml_sigv4_release(out);
	return -1;
}

/* ---- credentials ---- */

static char *dup_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? strdup(v) : NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/*
 * The keys of a profile in an INI file, as botocore reads them: in the
 * credentials file a section is the profile's name ("[ci]"); in the config
 * file it is "[profile ci]", the default profile "[default]" (or "[profile
 * default]").  Only keys not yet set are filled: region is optional.
 */
struct aws_profile_keys {
	char *access_key, *secret_key, *session_token, *region;
};

static int section_is(char *name, const char *profile, int config)
{
	if (!config)
		return !strcmp(name, profile);
	if (!strncmp(name, "profile", 7) && (name[7] == ' ' || name[7] == '\t'))
		return !strcmp(trim(name + 8), profile);
	return !strcmp(profile, "default") && !strcmp(name, "default");
}

static void read_profile(const char *path, const char *profile, int config, struct aws_profile_keys *k)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char line[4096];
	int in = 0;
	while (fgets(line, sizeof line, f)) {
		char *s = trim(line);
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (end) {
				*end = '\0';
				in = section_is(trim(s + 1), profile, config);
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!in || !eq || *s == '#' || *s == ';')
			continue;
		*eq = '\0';
		char *key = trim(s), *v = trim(eq + 1);
		char **slot = !strcmp(key, "aws_access_key_id")	      ? &k->access_key
			      : !strcmp(key, "aws_secret_access_key") ? &k->secret_key
			      : !strcmp(key, "aws_session_token")     ? &k->session_token
			      : !strcmp(key, "region")		      ? &k->region
								      : NULL;
		if (slot && !*slot && *v)
			*slot = strdup(v);
	}
	OPENSSL_cleanse(line, sizeof line);
	fclose(f);
}

static void profile_keys_release(struct aws_profile_keys *k)
{
	if (k->secret_key)
		OPENSSL_cleanse(k->secret_key, strlen(k->secret_key));
	free(k->access_key);
	free(k->secret_key);
	free(k->session_token);
	free(k->region);
	memset(k, 0, sizeof *k);
}

static const char *aws_profile(void)
{
	const char *p = getenv("AWS_PROFILE");
	if (!p || !*p)
		p = getenv("AWS_DEFAULT_PROFILE");	/* botocore's older name */
	return p && *p ? p : "default";
}

/* AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials; AWS_CONFIG_FILE or ~/.aws/config. */
static void aws_file(char *path, size_t n, const char *env, const char *name)
{
	const char *file = getenv(env);
	if (file && *file)
		snprintf(path, n, "%s", file);
	else
		snprintf(path, n, "%s/.aws/%s", getenv("HOME") ? getenv("HOME") : "", name);
}

void ml_aws_credentials_release(struct ml_aws_credentials *c)
{
	if (c->secret_key)
		OPENSSL_cleanse(c->secret_key, strlen(c->secret_key));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	memset(c, 0, sizeof *c);
}

int ml_aws_credentials_load(struct ml_aws_credentials *c, struct ml_err *err)
{
	memset(c, 0, sizeof *c);
	c->access_key = dup_env("AWS_ACCESS_KEY_ID");
	c->secret_key = dup_env("AWS_SECRET_ACCESS_KEY");
	if (c->access_key && c->secret_key) {
		c->session_token = dup_env("AWS_SESSION_TOKEN");
		return 0;
	}
	ml_aws_credentials_release(c);
	/* botocore's order: the credentials file, then the config file, each whole. */
	const char *profile = aws_profile();
	char files[2][4096];
	aws_file(files[0], sizeof files[0], "AWS_SHARED_CREDENTIALS_FILE", "credentials");
	aws_file(files[1], sizeof files[1], "AWS_CONFIG_FILE", "config");
	for (int config = 0; config < 2; config++) {
		struct aws_profile_keys k = { 0 };
		read_profile(files[config], profile, config, &k);
		if (k.access_key && k.secret_key) {
			c->access_key = k.access_key;
			c->secret_key = k.secret_key;
			c->session_token = k.session_token;
			free(k.region);
			return 0;
		}
		profile_keys_release(&k);
	}
	return ml_err_set(err, ML_ERR_CONFIG,
			  "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile \"%s\" "
			  "(AWS_PROFILE) in %s or %s",
			  profile, files[0], files[1]);
}

const char *ml_aws_region(const char *fallback)
{
	static char from_config[64];
	const char *r = getenv("AWS_REGION");
	if (!r || !*r)
		r = getenv("AWS_DEFAULT_REGION");
	if (r && *r)
		return r;
	char path[4096];
	struct aws_profile_keys k = { 0 };
	aws_file(path, sizeof path, "AWS_CONFIG_FILE", "config");
	read_profile(path, aws_profile(), 1, &k);
	snprintf(from_config, sizeof from_config, "%s", k.region ? k.region : "");
	profile_keys_release(&k);
	return from_config[0] ? from_config : fallback;
}
