/*
 * test_sigv4.c - AWS Signature Version 4 against AWS's published examples:
 * the SigV4 test suite (get-vanilla, post-vanilla,
 * get-vanilla-query-order-key-case; credentials AKIDEXAMPLE, 20150830T123600Z,
 * us-east-1, service "service") and the S3 API reference's signing examples
 * (GET object with a Range header, PUT object, ListObjects; 20130524T000000Z).
 * Also URI encoding and where credentials come from.
 */
#include <stdlib.h>

#include "mlpipe/sigv4.h"
#include "testutil.h"

#define SUITE_KEY "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static void sign_ok(const struct ml_sigv4_request *r, struct ml_sigv4 *sig)
{
	struct ml_err err = ML_ERR_INIT;
	int rc = ml_sigv4_sign(r, sig, &err);
	ck_assert_msg(rc == 0, "sign failed: %s", err.msg);
}

static struct ml_sigv4_request suite_request(const char *method, const char *query, const char *const *headers)
{
	return (struct ml_sigv4_request){ .method = method, .path = "/", .query = query, .headers = headers,
					  .payload_sha256 = ML_SIGV4_EMPTY_SHA256, .region = "us-east-1",
					  .service = "service", .amz_date = "20150830T123600Z",
					  .access_key = SUITE_KEY, .secret_key = SUITE_SECRET };
}

START_TEST(test_get_vanilla)
{
	const char *h[] = { "Host:example.amazonaws.com", "X-Amz-Date:20150830T123600Z", NULL };
	struct ml_sigv4_request r = suite_request("GET", "", h);
	struct ml_sigv4 sig;
	sign_ok(&r, &sig);
	ck_assert_str_eq(sig.canonical_request, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
						"host;x-amz-date\n" ML_SIGV4_EMPTY_SHA256);
	ck_assert_str_eq(sig.string_to_sign, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
					     "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	ck_assert_str_eq(sig.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	ck_assert_str_eq(sig.authorization,
			 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
			 "SignedHeaders=host;x-amz-date, "
			 "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	ml_sigv4_release(&sig);
}
END_TEST

START_TEST(test_post_vanilla)
{
	const char *h[] = { "X-Amz-Date:20150830T123600Z", "Host:example.amazonaws.com", NULL };
	struct ml_sigv4_request r = suite_request("POST", NULL, h);
	struct ml_sigv4 sig;
	sign_ok(&r, &sig);
	ck_assert_str_eq(sig.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
	ml_sigv4_release(&sig);
}
END_TEST

START_TEST(test_query_order_key_case)
{
	const char *h[] = { "Host:example.amazonaws.com", "X-Amz-Date:20150830T123600Z", NULL };
	struct ml_sigv4_request r = suite_request("GET", "Param2=value2&Param1=value1", h);
	struct ml_sigv4 sig;
	sign_ok(&r, &sig);
	ck_assert_ptr_nonnull(strstr(sig.canonical_request, "\nParam1=value1&Param2=value2\n"));
	ck_assert_str_eq(sig.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	ml_sigv4_release(&sig);
}
END_TEST

static struct ml_sigv4_request s3_request(const char *method, const char *path, const char *query,
					  const char *const *headers, const char *payload)
{
	return (struct ml_sigv4_request){ .method = method, .path = path, .query = query, .headers = headers,
					  .payload_sha256 = payload, .region = "us-east-1", .service = "s3",
					  .amz_date = "20130524T000000Z", .access_key = SUITE_KEY,
					  .secret_key = S3_SECRET };
}

START_TEST(test_s3_get_object_range)
{
	/* Values with extra spaces are trimmed, as the example's "bytes=0-9 " is. */
	const char *h[] = { "Host: examplebucket.s3.amazonaws.com", "Range: bytes=0-9 ",
			    "x-amz-content-sha256:" ML_SIGV4_EMPTY_SHA256, "x-amz-date: 20130524T000000Z ", NULL };
	struct ml_sigv4_request r = s3_request("GET", "/test.txt", "", h, ML_SIGV4_EMPTY_SHA256);
	struct ml_sigv4 sig;
	sign_ok(&r, &sig);
	ck_assert_str_eq(sig.canonical_request,
			 "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
			 "x-amz-content-sha256:" ML_SIGV4_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
			 "host;range;x-amz-content-sha256;x-amz-date\n" ML_SIGV4_EMPTY_SHA256);
	ck_assert_str_eq(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	ml_sigv4_release(&sig);
}
END_TEST

START_TEST(test_s3_put_object)
{
	const char *payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
	char hash[128];
	snprintf(hash, sizeof hash, "x-amz-content-sha256:%s", payload);
	const char *h[] = { "Host:examplebucket.s3.amazonaws.com", "Date:Fri, 24 May 2013 00:00:00 GMT",
			    "x-amz-date:20130524T000000Z", "x-amz-storage-class:REDUCED_REDUNDANCY", hash, NULL };
	char *path = ml_sigv4_uri_encode("/test$file.text", 1);
	ck_assert_str_eq(path, "/test%24file.text");
	struct ml_sigv4_request r = s3_request("PUT", path, "", h, payload);
	struct ml_sigv4 sig;
	sign_ok(&r, &sig);
	ck_assert_str_eq(sig.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
	ck_assert_str_eq(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	ml_sigv4_release(&sig);
	free(path);
}
END_TEST

START_TEST(test_s3_list_objects)
{
	const char *h[] = { "Host:examplebucket.s3.amazonaws.com", "x-amz-content-sha256:" ML_SIGV4_EMPTY_SHA256,
			    "x-amz-date:20130524T000000Z", NULL };
	struct ml_sigv4_request r = s3_request("GET", "/", "prefix=J&max-keys=2", h, ML_SIGV4_EMPTY_SHA256);
	struct ml_sigv4 sig;
	sign_ok(&r, &sig);
	ck_assert_ptr_nonnull(strstr(sig.canonical_request, "\nmax-keys=2&prefix=J\n"));
	ck_assert_str_eq(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	ml_sigv4_release(&sig);
}
END_TEST

START_TEST(test_wrong_secret_changes_signature)
{
	const char *h[] = { "Host:example.amazonaws.com", "X-Amz-Date:20150830T123600Z", NULL };
	struct ml_sigv4_request r = suite_request("GET", "", h);
	r.secret_key = "not-the-secret";
	struct ml_sigv4 sig;
	sign_ok(&r, &sig);
	ck_assert_str_ne(sig.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	ck_assert_ptr_null(strstr(sig.authorization, "not-the-secret"));
	ml_sigv4_release(&sig);
}
END_TEST

START_TEST(test_uri_encode)
{
	static const struct {
		const char *in;
		int keep_slash;
		const char *want;
	} cases[] = {
		{ "a b~c", 0, "a%20b~c" },
		{ "/a b/c", 0, "%2Fa%20b%2Fc" },
		{ "/a b/c", 1, "/a%20b/c" },
		{ "key=val&x", 0, "key%3Dval%26x" },
		{ "caf\xc3\xa9.csv", 1, "caf%C3%A9.csv" },
		{ "A-Z_0.9~", 0, "A-Z_0.9~" },
		{ "", 0, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = ml_sigv4_uri_encode(cases[i].in, cases[i].keep_slash);
		ck_assert_str_eq(got, cases[i].want);
		free(got);
	}
}
END_TEST

START_TEST(test_amz_date)
{
	char d[17];
	ml_sigv4_amz_date(1440938160, d);
	ck_assert_str_eq(d, "20150830T123600Z");
}
END_TEST

START_TEST(test_malformed_header_refused)
{
	const char *h[] = { "no colon here", NULL };
	struct ml_sigv4_request r = suite_request("GET", "", h);
	struct ml_sigv4 sig;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(ml_sigv4_sign(&r, &sig, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_USAGE);
	ck_assert_ptr_null(sig.authorization);
}
END_TEST

START_TEST(test_credentials_from_env_and_profile)
{
	char *dir = test_tmpdir();
	/* botocore's spellings: "[name]" in the credentials file, "[profile name]" in the config file. */
	static const char ini[] = "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n"
				  "[ci]\naws_access_key_id=CIKEY\naws_secret_access_key=cisecret\n"
				  "aws_session_token = tok\n"
				  "[profile cfg]\naws_access_key_id=WRONG\naws_secret_access_key=wrong\n";
	static const char cfg[] = "[default]\nregion = eu-north-1\n"
				  "[cfg]\naws_access_key_id=NOTTHIS\naws_secret_access_key=notthis\n"
				  "[profile cfg]\nregion=sa-east-1\naws_access_key_id = CFGKEY\n"
				  "aws_secret_access_key = cfgsecret\n"
				  "[profile ci]\naws_access_key_id=CICONFIG\naws_secret_access_key=ciconfig\n";
	char file[4096], cfile[4096];	/* test_write_file's buffer is static */
	snprintf(file, sizeof file, "%s", test_write_file(dir, "credentials", ini, strlen(ini)));
	snprintf(cfile, sizeof cfile, "%s", test_write_file(dir, "config", cfg, strlen(cfg)));
	struct ml_aws_credentials c;
	setenv("AWS_CONFIG_FILE", cfile, 1);
	struct ml_err err = ML_ERR_INIT;

	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_SHARED_CREDENTIALS_FILE", file, 1);
	ck_assert_int_eq(ml_aws_credentials_load(&c, &err), 0);
	ck_assert_str_eq(c.access_key, "ENVKEY");
	ck_assert_ptr_null(c.session_token);
	ml_aws_credentials_release(&c);

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_PROFILE");
	ck_assert_int_eq(ml_aws_credentials_load(&c, &err), 0);
	ck_assert_str_eq(c.access_key, "DEF");
	ck_assert_str_eq(c.secret_key, "defsecret");
	ml_aws_credentials_release(&c);

	setenv("AWS_PROFILE", "ci", 1);
	ck_assert_int_eq(ml_aws_credentials_load(&c, &err), 0);
	ck_assert_str_eq(c.access_key, "CIKEY");
	ck_assert_str_eq(c.session_token, "tok");
	ml_aws_credentials_release(&c);

	/* Not in the credentials file ("[profile cfg]" there is no profile "cfg"): the config file's. */
	setenv("AWS_PROFILE", "cfg", 1);
	ck_assert_int_eq(ml_aws_credentials_load(&c, &err), 0);
	ck_assert_str_eq(c.access_key, "CFGKEY");
	ck_assert_str_eq(c.secret_key, "cfgsecret");
	ck_assert_ptr_null(c.session_token);
	ml_aws_credentials_release(&c);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	ck_assert_str_eq(ml_aws_region("us-east-1"), "sa-east-1");
	setenv("AWS_PROFILE", "ci", 1);
	ck_assert_str_eq(ml_aws_region("us-east-1"), "us-east-1");	/* no region for ci */
	unsetenv("AWS_PROFILE");
	ck_assert_str_eq(ml_aws_region("us-east-1"), "eu-north-1");

	/* Environment keys win over AWS_PROFILE, as in botocore. */
	setenv("AWS_PROFILE", "ci", 1);
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	ck_assert_int_eq(ml_aws_credentials_load(&c, &err), 0);
	ck_assert_str_eq(c.access_key, "ENVKEY");
	ml_aws_credentials_release(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	setenv("AWS_PROFILE", "nobody", 1);
	ck_assert_int_eq(ml_aws_credentials_load(&c, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "\"nobody\""));
	ck_assert_ptr_nonnull(strstr(err.msg, cfile));
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	unlink(file);
	unlink(cfile);
	rmdir(dir);
}
END_TEST

START_TEST(test_region)
{
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	ck_assert_str_eq(ml_aws_region("us-east-1"), "us-east-1");
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	ck_assert_str_eq(ml_aws_region("us-east-1"), "eu-west-1");
	setenv("AWS_REGION", "ap-south-1", 1);
	ck_assert_str_eq(ml_aws_region("us-east-1"), "ap-south-1");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_get_vanilla);
	tcase_add_test(tc, test_post_vanilla);
	tcase_add_test(tc, test_query_order_key_case);
	tcase_add_test(tc, test_s3_get_object_range);
	tcase_add_test(tc, test_s3_put_object);
	tcase_add_test(tc, test_s3_list_objects);
	tcase_add_test(tc, test_wrong_secret_changes_signature);
	tcase_add_test(tc, test_uri_encode);
	tcase_add_test(tc, test_amz_date);
	tcase_add_test(tc, test_malformed_header_refused);
	tcase_add_test(tc, test_credentials_from_env_and_profile);
	tcase_add_test(tc, test_region);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
