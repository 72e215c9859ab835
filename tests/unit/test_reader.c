/*
 * test_reader.c - the record stream: CSV and NDJSON syntax, columns, batches,
 * errors with file:line:column, --on-error skip with rejects, mark/reset,
 * and a corpus of hostile inputs that must give clear errors, never a crash
 * or a hang.
 */
#include <math.h>

#include "mlpipe/dict.h"
#include "mlpipe/stream.h"
#include "mlpipe/threads.h"
#include "testutil.h"


/* Open a reader over text written to a file named name. */
static struct ml_reader *open_text_as(const char *name, const char *text, size_t len,
				      const struct ml_reader_opts *opts, struct ml_err *err)
{
	struct ml_reader_opts defaults;
	ml_reader_opts_init(&defaults);
	test_write_file(test_dir(), name, text, len);
	return ml_reader_open(&name, 1, opts ? opts : &defaults, err);
}

static struct ml_reader *open_text(const char *text, const struct ml_reader_opts *opts, struct ml_err *err)
{
	return open_text_as("in.csv", text, strlen(text), opts, err);
}

static void field_is(const struct ml_record *rec, size_t i, const char *want)
{
	ck_assert_uint_lt(i, rec->nfields);
	ck_assert_msg(rec->fields[i].len == strlen(want) && !memcmp(rec->fields[i].ptr, want, strlen(want)),
		      "field %zu is \"%.*s\", want \"%s\"", i, (int)rec->fields[i].len, rec->fields[i].ptr, want);
}

/* Read every record; return the count, or -1 with err set. */
static long count_records(struct ml_reader *r, struct ml_err *err)
{
	struct ml_record rec;
	long n = 0;
	int rc;
	while ((rc = ml_reader_next(r, &rec, err)) > 0)
		n++;
	return rc < 0 ? -1 : n;
}

/* ---- CSV syntax ---- */

START_TEST(test_csv_rfc4180)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text("\xef\xbb\xbfid,text,n\r\n"
					"1,\"a, b\",2\r\n"
					"2,\"say \"\"hi\"\"\",3\r\n"
					"3,\"two\nlines\",4\r\n"
					"4,,5\n"
					"5,plain,6",
					NULL, &err);
	ck_assert_msg(r, "%s", err.msg);
	ck_assert_int_eq(ml_reader_format(r), ML_FMT_CSV);
	ck_assert_uint_eq(ml_reader_ncols(r), 3);
	ck_assert_str_eq(ml_reader_colname(r, 0), "id");	/* BOM stripped */
	ck_assert_str_eq(ml_reader_colname(r, 2), "n");	/* CR stripped */
	struct ml_record rec;
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	field_is(&rec, 1, "a, b");
	ck_assert_uint_eq(rec.line, 2);
	ck_assert_uint_eq(rec.row, 0);
	field_is(&rec, 2, "2");
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	field_is(&rec, 1, "say \"hi\"");
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	field_is(&rec, 1, "two\nlines");
	ck_assert_uint_eq(rec.line, 4);
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	ck_assert_uint_eq(rec.line, 6);	/* the quoted newline counted */
	field_is(&rec, 1, "");
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	field_is(&rec, 2, "6");	/* last record without a line end */
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 0);
	ml_reader_close(r);
}
END_TEST

START_TEST(test_csv_raw_text_is_verbatim)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text("a,b\n\"x\"\"y\",2\r\n", NULL, &err);
	struct ml_record rec;
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	ck_assert_uint_eq(rec.raw_len, 10);
	ck_assert(!memcmp(rec.raw, "\"x\"\"y\",2\r\n", 10));
	size_t hlen;
	const char *h = ml_reader_header_raw(r, &hlen);
	ck_assert_uint_eq(hlen, 4);
	ck_assert(!memcmp(h, "a,b\n", 4));
	ml_reader_close(r);
}
END_TEST

START_TEST(test_csv_blank_lines_skipped)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text("a,b\n\n1,2\r\n\r\n3,4\n\n", NULL, &err);
	ck_assert_int_eq(count_records(r, &err), 2);
	ml_reader_close(r);
}
END_TEST

START_TEST(test_csv_no_header_and_delimiter)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.header = 0;
	o.delimiter = ';';
	struct ml_reader *r = open_text("9.5;1;x\n7;2;y\n", &o, &err);
	ck_assert_msg(r, "%s", err.msg);
	ck_assert_uint_eq(ml_reader_ncols(r), 3);
	ck_assert_str_eq(ml_reader_colname(r, 0), "c0");
	struct ml_record rec;
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);	/* the first row is data */
	field_is(&rec, 0, "9.5");
	ck_assert_int_eq(count_records(r, &err), 1);
	ml_reader_close(r);
}
END_TEST

START_TEST(test_long_record_across_reads)
{
	/* A 3 MB quoted field spans many reads and must come out whole. */
	size_t n = 3u << 20;
	char *text = malloc(n + 64);
	size_t len = (size_t)sprintf(text, "a,b\n1,\"");
	memset(text + len, 'x', n);
	len += n;
	len += (size_t)sprintf(text + len, "\"\n2,y\n");
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text_as("big.csv", text, len, NULL, &err);
	struct ml_record rec;
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	ck_assert_uint_eq(rec.fields[1].len, n);
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	field_is(&rec, 1, "y");
	ck_assert_uint_eq(rec.line, 3);
	ml_reader_close(r);
	free(text);
}
END_TEST

START_TEST(test_record_cap)
{
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.max_record = 1000;
	char text[5000] = "a\n";
	memset(text + 2, 'x', 4000);
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text(text, &o, &err);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(count_records(r, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(strstr(err.msg, "longer than 1000 bytes"), "%s", err.msg);
	ml_reader_close(r);
}
END_TEST

/* ---- errors ---- */

static const struct {
	const char *name;
	const char *text;
	const char *where;	/* "file:line:col" expected at the start */
	const char *what;	/* a substring of the message */
} csv_errors[] = {
	{ "ragged short", "a,b,c\n1,2,3\n4,5\n", "in.csv:3:3", "expected 3 fields as in the header, found 2" },
	{ "ragged long", "a,b\n1,2,3\n", "in.csv:2:5", "expected 2 fields as in the header, found 3" },
	{ "unterminated quote", "a,b\n1,\"open\n2,3\n", "in.csv:2:3", "quoted field is never closed" },
	{ "text after quote", "a,b\n1,\"x\"y\n", "in.csv:2:6", "unexpected text after a closing quote" },
	{ "nul byte", "a,b\n1,x\0y\n", "in.csv:2:4", "NUL byte" },
	{ "duplicate header", "a,b,a\n1,2,3\n", "in.csv:1:5", "duplicate column name \"a\"" },
};

START_TEST(test_csv_errors_name_place)
{
	struct ml_err err = ML_ERR_INIT;
	size_t len = strlen(csv_errors[_i].text);
	if (!strcmp(csv_errors[_i].name, "nul byte"))
		len = 11;
	struct ml_reader *r = open_text_as("in.csv", csv_errors[_i].text, len, NULL, &err);
	if (r) {
		ck_assert_int_eq(count_records(r, &err), -1);
		ml_reader_close(r);
	}
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(!strncmp(err.msg, csv_errors[_i].where, strlen(csv_errors[_i].where)) &&
			      strstr(err.msg, csv_errors[_i].what),
		      "%s: got \"%s\"", csv_errors[_i].name, err.msg);
}
END_TEST

START_TEST(test_skip_keeps_rejects_verbatim)
{
	char rejects[4200];
	snprintf(rejects, sizeof rejects, "%s/rejects.csv", test_dir());
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.on_error = ML_ON_ERROR_SKIP;
	o.rejects = rejects;
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text("a,b\n1,2\n3\n4,\"x\"y\n5,6\n7,8,9", &o, &err);
	ck_assert_int_eq(count_records(r, &err), 2);
	struct ml_stream_stats st;
	ml_reader_stats(r, &st);
	ck_assert_uint_eq(st.rows_read, 5);
	ck_assert_uint_eq(st.rows_rejected, 3);
	ml_reader_close(r);
	FILE *f = fopen(rejects, "r");
	char got[256] = { 0 };
	ck_assert_uint_gt(fread(got, 1, sizeof got - 1, f), 0);
	fclose(f);
	ck_assert_str_eq(got, "a,b\n3\n4,\"x\"y\n7,8,9\n");
}
END_TEST

/* ---- NDJSON ---- */

START_TEST(test_ndjson_values)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text("{\"price\": 22661.05, \"make\": \"Buick\", \"ok\": true}\n"
					"\n"
					"{\"make\": \"Sa\\u00e4b \\\"x\\\"\", \"price\": null, \"extra\": [1, {\"a\": \"]\"}]}\r\n"
					"{}\n",
					NULL, &err);
	ck_assert_msg(r, "%s", err.msg);
	ck_assert_int_eq(ml_reader_format(r), ML_FMT_NDJSON);
	ck_assert_uint_eq(ml_reader_ncols(r), 3);	/* known from the first record */
	struct ml_record rec;
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	field_is(&rec, 0, "22661.05");
	ck_assert(rec.fields[0].flags & ML_FIELD_JSON_NUMBER);
	field_is(&rec, 1, "Buick");
	field_is(&rec, 2, "true");
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	ck_assert_uint_eq(rec.line, 3);
	ck_assert(rec.fields[0].flags & ML_FIELD_ABSENT);
	field_is(&rec, 1, "Sa\xc3\xa4" "b \"x\"");
	ck_assert(rec.fields[2].flags & ML_FIELD_ABSENT);	/* "ok" not given */
	ck_assert_uint_eq(ml_reader_ncols(r), 4);
	ck_assert_str_eq(ml_reader_colname(r, 3), "extra");
	field_is(&rec, 3, "[1, {\"a\": \"]\"}]");
	ck_assert(rec.fields[3].flags & ML_FIELD_JSON_NESTED);
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	ck_assert(rec.fields[1].flags & ML_FIELD_ABSENT);
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 0);
	ml_reader_close(r);
}
END_TEST

static const struct {
	const char *text;
	const char *where;
	const char *what;
} ndjson_errors[] = {
	{ "{\"a\":1}\n{\"a\":1,}\n", "in.json:2:8", "expected a quoted key" },
	{ "{\"a\":1}\n[1,2]\n", "in.json:2:1", "expected a JSON object" },
	{ "{\"a\":1}\n{\"a\":01}\n", "in.json:2:7", "expected ',' or '}'" },
	{ "{\"a\":1}\n{\"a\":1} x\n", "in.json:2:9", "unexpected text after the object" },
	{ "{\"a\":1}\n{\"a\":\"x\xff\"}\n", "in.json:2:8", "invalid UTF-8" },
	{ "{\"a\":1}\n{\"a\":1,\"a\":2}\n", "in.json:2:8", "duplicate key" },
	{ "{\"a\":1}\n{\"a\":\"\\q\"}\n", "in.json:2:7", "invalid escape" },
	{ "{\"a\":1}\n{\"a\":\"\\ud800\"}\n", "in.json:2:7", "invalid \\u escape" },
	{ "{\"a\":1}\n{\"a\":[[[}\n", "in.json:2:9", "mismatched bracket" },
	{ "{\"a\":1}\n{\"a\":tru}\n", "in.json:2:6", "invalid value" },
	{ "{\"a\":1}\n{\"a\":\"open}\n", "in.json:2:6", "string is never closed" },
};

START_TEST(test_ndjson_errors_name_place)
{
	struct ml_err err = ML_ERR_INIT;
	const char *text = ndjson_errors[_i].text;
	struct ml_reader *r = open_text_as("in.json", text, strlen(text), NULL, &err);
	ck_assert_msg(r, "%s", err.msg);
	ck_assert_int_eq(count_records(r, &err), -1);
	ml_reader_close(r);
	ck_assert_msg(!strncmp(err.msg, ndjson_errors[_i].where, strlen(ndjson_errors[_i].where)) &&
			      strstr(err.msg, ndjson_errors[_i].what),
		      "case %d: got \"%s\"", _i, err.msg);
}
END_TEST

/* ---- batches ---- */

static void schema_of(struct ml_schema *s, const char *spec)
{
	/* "name:type:role,..." with n/c/t and f/t/i/p/x */
	char *copy = strdup(spec), *save = NULL;
	ml_schema_init(s);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *c1 = strchr(tok, ':');
		*c1 = '\0';
		enum ml_type t = c1[1] == 'n' ? ML_TYPE_NUMERIC : c1[1] == 'c' ? ML_TYPE_CATEGORICAL : ML_TYPE_TEXT;
		enum ml_role r = c1[3] == 't' ? ML_ROLE_TARGET : c1[3] == 'x' ? ML_ROLE_IGNORE : ML_ROLE_FEATURE;
		ck_assert_int_eq(ml_schema_add(s, tok, t, r, NULL), 0);
	}
	free(copy);
}

START_TEST(test_batch_columns_by_name)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.batch_rows = 2;
	o.keep_raw = 1;
	struct ml_reader *r = open_text("make,price,skip,note\n"
					"Buick,100.5,zz,hello\n"
					"Saab,,zz,\n"
					"Buick,NA,zz,\"a,b\"\n",
					&o, &err);
	struct ml_schema s;
	schema_of(&s, "price:n:t,make:c:f,note:t:f");
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
	struct ml_batch b;
	ml_batch_init(&b);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 2);
	ck_assert_uint_eq(b.ncols, 3);
	ck_assert_double_eq(b.cols[0].num[0], 100.5);
	ck_assert(isnan(b.cols[0].num[1]));
	ck_assert_int_eq(b.cols[1].cat[0], 0);
	ck_assert_int_eq(b.cols[1].cat[1], 1);
	ck_assert_str_eq(ml_dict_name(b.cols[1].dict, 1, NULL), "Saab");
	ck_assert_uint_eq(b.cols[2].text_len[0], 5);
	ck_assert(!memcmp(b.text.data + b.cols[2].text_off[0], "hello", 5));
	ck_assert_uint_eq(b.line[1], 3);
	ck_assert(!memcmp(b.raw.data + b.raw_off[1], "Saab,,zz,\n", b.raw_len[1]));
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 1);
	ck_assert(isnan(b.cols[0].num[0]));
	ck_assert_int_eq(b.cols[1].cat[0], 0);	/* ids stable across batches */
	ck_assert(!memcmp(b.text.data + b.cols[2].text_off[0], "a,b", 3));
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 0);
	ml_batch_release(&b);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

START_TEST(test_batch_bad_number_is_located)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text_as("cars.csv", "price,mileage\n1,2\n3,12k\n", 23, NULL, &err);
	struct ml_schema s;
	schema_of(&s, "mileage:n:f");
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
	struct ml_batch b;
	ml_batch_init(&b);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), -1);
	ck_assert_str_eq(err.msg, "cars.csv:3:3: expected a number in column \"mileage\", got \"12k\"");
	ck_assert_int_eq(ml_exit_code(&err), 65);
	ml_batch_release(&b);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

START_TEST(test_batch_skip_bad_values)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.on_error = ML_ON_ERROR_SKIP;
	struct ml_reader *r = open_text("x\n1\n1e400\nabc\n4\n", &o, &err);
	struct ml_schema s;
	schema_of(&s, "x:n:f");
	ml_reader_bind(r, &s, 0, &err);
	struct ml_batch b;
	ml_batch_init(&b);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 2);
	ck_assert_double_eq(b.cols[0].num[1], 4);
	ck_assert_uint_eq(b.row[1], 3);	/* row numbers still count the skipped rows */
	struct ml_stream_stats st;
	ml_reader_stats(r, &st);
	ck_assert_uint_eq(st.rows_rejected, 2);
	ml_batch_release(&b);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

START_TEST(test_bind_missing_column)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text("a,b\n1,2\n", NULL, &err);
	struct ml_schema s;
	schema_of(&s, "a:n:f,zz:n:f");
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), -1);
	ck_assert_msg(strstr(err.msg, "no column \"zz\""), "%s", err.msg);
	ck_assert_int_eq(ml_reader_bind(r, &s, 1, &err), 0);
	struct ml_batch b;
	ml_batch_init(&b);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 1);
	ck_assert(isnan(b.cols[1].num[0]));
	ml_batch_release(&b);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

/* A copy keeps its rows while the reader reuses its own batch (ml-train keeps batches so). */
START_TEST(test_batch_copy_survives_next_read)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.batch_rows = 2;
	struct ml_reader *r = open_text("x,c,t\n1.5,red,\"a,b\"\n,blue,\n3,red,z\n", &o, &err);
	struct ml_schema s;
	schema_of(&s, "x:n:f,c:c:f,t:t:p");
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
	struct ml_batch b, copy;
	ml_batch_init(&b);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 2);
	ck_assert_int_eq(ml_batch_copy(&copy, &b, &err), 0);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 1);	/* b now holds row 3 */
	ck_assert_uint_eq(copy.nrows, 2);
	ck_assert(copy.cols[0].num[0] == 1.5 && isnan(copy.cols[0].num[1]));
	size_t len;
	ck_assert_str_eq(ml_dict_name(copy.cols[1].dict, copy.cols[1].cat[1], &len), "blue");
	ck_assert_uint_eq(copy.cols[2].text_len[0], 3);
	ck_assert(!memcmp(copy.text.data + copy.cols[2].text_off[0], "a,b", 3));
	ck_assert_uint_eq(copy.line[1], 3);
	ml_batch_release(&copy);
	ml_batch_release(&b);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

START_TEST(test_ndjson_batch_late_keys)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text_as("in.json", "{\"a\":1}\n{\"a\":2,\"b\":\"x\"}\n", 24, NULL, &err);
	struct ml_schema s;
	schema_of(&s, "a:n:f,b:c:f");
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
	struct ml_batch b;
	ml_batch_init(&b);
	ck_assert_int_eq(ml_reader_read_batch(r, &b, &err), 2);
	ck_assert_int_eq(b.cols[1].cat[0], -1);
	ck_assert_int_eq(b.cols[1].cat[1], 0);
	ml_batch_release(&b);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

/* ---- inference and mark/reset ---- */

START_TEST(test_infer_does_not_consume)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_text("price,make,doors,desc\n"
					"1.5,Buick,4,a b c\n"
					"2,Saab,,d e f\n"
					"NA,Buick,2,g h i\n",
					NULL, &err);
	struct ml_schema s;
	struct ml_infer_opts io = { 100, 2, 0.5 };
	ck_assert_int_eq(ml_schema_infer(r, &io, &s, &err), 0);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.cols[0].type, ML_TYPE_NUMERIC);
	ck_assert_int_eq(s.cols[1].type, ML_TYPE_CATEGORICAL);
	ck_assert_int_eq(s.cols[2].type, ML_TYPE_NUMERIC);
	ck_assert_int_eq(s.cols[3].type, ML_TYPE_TEXT);	/* 3 distinct > max 2 */
	ck_assert_int_eq(count_records(r, &err), 3);
	ml_reader_close(r);
	ml_schema_release(&s);
}
END_TEST

/* ---- multiple inputs ---- */

START_TEST(test_several_inputs)
{
	struct ml_err err = ML_ERR_INIT;
	char p1[4200], p2[4200], p3[4200];
	snprintf(p1, sizeof p1, "%s", test_write_file(test_dir(), "1.csv", "a,b\n1,2\n", 8));
	snprintf(p2, sizeof p2, "%s", test_write_file(test_dir(), "2.csv", "a,b\n3,4\n5,6\n", 12));
	snprintf(p3, sizeof p3, "%s", test_write_file(test_dir(), "3.csv", "b,a\n7,8\n", 8));
	const char *ok[] = { p1, p2 }, *bad[] = { p1, p3 };
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	struct ml_reader *r = ml_reader_open(ok, 2, &o, &err);
	struct ml_record rec;
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	ck_assert_int_eq(ml_reader_next(r, &rec, &err), 1);
	ck_assert_uint_eq(rec.line, 2);
	ck_assert_uint_eq(rec.row, 1);
	ck_assert_int_eq(count_records(r, &err), 1);
	ml_reader_close(r);
	r = ml_reader_open(bad, 2, &o, &err);
	ck_assert_int_eq(count_records(r, &err), -1);
	ck_assert_msg(strstr(err.msg, "3.csv:1: header differs"), "%s", err.msg);
	ml_reader_close(r);
	const char *missing[] = { p1, "/nonexistent/x.csv" };
	r = ml_reader_open(missing, 2, &o, &err);
	ck_assert_int_eq(count_records(r, &err), -1);
	ck_assert_int_eq(ml_exit_code(&err), 66);
	ml_reader_close(r);
}
END_TEST

/* ---- hostile corpus: every file must end in records or a clear error ---- */

START_TEST(test_hostile_corpus)
{
	static const char *const files[] = {
		"empty.csv", "header_only.csv", "unterminated_quote.csv", "ragged.csv", "nul_bytes.csv",
		"invalid_utf8.csv", "huge_field.csv", "numbers.csv", "only_newlines.csv", "bom_only.csv",
		"crlf_quotes.csv", "binary.bin", "deep_nesting.ndjson", "truncated.ndjson", "mixed.ndjson",
		"control_chars.ndjson",
	};
	const char *root = getenv("MLPIPE_ROOT") ? getenv("MLPIPE_ROOT") : ".";
	char path[4200];
	snprintf(path, sizeof path, "%s/tests/data/hostile/%s", root, files[_i]);
	const char *p = path;
	for (int skip = 0; skip < 2; skip++) {
		struct ml_err err = ML_ERR_INIT;
		struct ml_reader_opts o;
		ml_reader_opts_init(&o);
		o.on_error = skip ? ML_ON_ERROR_SKIP : ML_ON_ERROR_FAIL;
		struct ml_reader *r = ml_reader_open(&p, 1, &o, &err);
		if (!r) {
			ck_assert_msg(err.msg[0] && err.class != ML_ERR_NONE, "%s: no message", files[_i]);
			continue;
		}
		struct ml_schema s;
		ck_assert_int_eq(ml_schema_infer(r, NULL, &s, &err) < 0 && !err.msg[0], 0);
		struct ml_batch b;
		ml_batch_init(&b);
		long n = 0;
		if (ml_reader_bind(r, &s, 0, &err) == 0)
			while ((n = ml_reader_read_batch(r, &b, &err)) > 0)
				;
		if (n < 0)
			ck_assert_msg(strstr(err.msg, files[_i]) || err.class == ML_ERR_INTERNAL,
				      "%s: message does not name the file: %s", files[_i], err.msg);
		ml_batch_release(&b);
		ml_schema_release(&s);
		ml_reader_close(r);
	}
}
END_TEST

/* ml_reader_each_batch: the sum of rows in order, a bad row's error, the callback's error. */
struct each {
	double sum, last;
	long batches, stop_at;
};

static int each_cb(const struct ml_batch *b, void *arg, struct ml_err *err)
{
	struct each *e = arg;
	for (size_t i = 0; i < b->nrows; i++) {
		ck_assert(b->cols[0].num[i] == e->last + 1);	/* rows in order, none lost or repeated */
		e->last = b->cols[0].num[i];
		e->sum += e->last;
	}
	if (++e->batches == e->stop_at)
		return ml_err_set(err, ML_ERR_DATA, "stop here");
	return 0;
}

START_TEST(test_each_batch)
{
	char *text = malloc(200000);
	size_t len = (size_t)sprintf(text, "x,c\n");
	for (int i = 1; i <= 10000; i++)
		len += (size_t)sprintf(text + len, "%d,k%d\n", i, i % 3);
	static const char *const specs[] = { "x:n:f", "x:n:f,c:c:f", "x:n:f,c:t:f" };
	for (long threads = 1; threads <= 2; threads++)
		for (size_t k = 0; k < 3; k++) {
			ml_set_threads(threads);
			struct ml_err err = ML_ERR_INIT;
			struct ml_reader_opts o;
			ml_reader_opts_init(&o);
			o.batch_rows = 333;
			struct ml_reader *r = open_text_as("in.csv", text, len, &o, &err);
			struct ml_schema s;
			schema_of(&s, specs[k]);
			ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
			struct each e = { 0 };
			ck_assert_int_eq(ml_reader_each_batch(r, each_cb, &e, &err), 0);
			ck_assert_double_eq(e.sum, 10000.0 * 10001 / 2);
			ck_assert_int_eq(e.batches, (10000 + 332) / 333);
			ml_reader_close(r);
			r = open_text_as("in.csv", text, len, &o, &err);
			ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
			e = (struct each){ .stop_at = 5 };
			ck_assert_int_eq(ml_reader_each_batch(r, each_cb, &e, &err), -1);
			ck_assert_str_eq(err.msg, "stop here");
			ck_assert_int_eq(e.batches, 5);
			ml_reader_close(r);
			ml_schema_release(&s);
		}
	strstr(text, "\n9990,")[1] = 'z';	/* a bad number near the end: the error comes through */
	ml_set_threads(2);
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.batch_rows = 333;
	struct ml_reader *r = open_text_as("bad.csv", text, len, &o, &err);
	struct ml_schema s;
	schema_of(&s, "x:n:f");
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, &err), 0);
	struct each e = { 0 };
	ck_assert_int_eq(ml_reader_each_batch(r, each_cb, &e, &err), -1);
	ck_assert_msg(strstr(err.msg, "bad.csv:9991:1:") != NULL, "%s", err.msg);
	ml_reader_close(r);
	ml_schema_release(&s);
	ml_set_threads(0);
	free(text);
}
END_TEST


/* ---- parts: the input cut at line ends, read on worker threads ---- */

/* Each row as "x,c,t": the number, the category's name (the part's dictionary), the text. */
static int write_part(struct ml_reader *r, struct ml_writer *out, void *worker, struct ml_err *err)
{
	struct ml_batch b;
	long n;
	int *calls = worker;
	if (*calls >= 0) {	/* a worker's (the caller's own count is -1) */
		(*calls)++;
		ck_assert_uint_eq(ml_threads(), 1);	/* the workers are the parallelism */
	}
	ml_batch_init(&b);
	while ((n = ml_reader_read_batch(r, &b, err)) > 0)
		for (long i = 0; i < n; i++) {
			for (size_t c = 0; c < 3; c++)
				if (ml_writer_cell(out, &b, c, (size_t)i, err) < 0)
					return -1;
			if (ml_writer_end_row(out, err) < 0)
				return -1;
		}
	ml_batch_release(&b);
	return n < 0 ? -1 : 0;
}

/* What a reader of text gives through write_part: in parts when parts, else in one; its rc, output in out. */
static int read_in_parts(const char *name, const char *text, size_t len, const struct ml_reader_opts *o, int parts,
			 char **out, int *calls, struct ml_err *err)
{
	struct ml_reader *r = open_text_as(name, text, len, o, err);
	ck_assert_msg(r, "%s", err->msg);
	struct ml_schema s;
	schema_of(&s, "x:n:f,c:c:f,t:t:f");
	ck_assert_int_eq(ml_reader_bind(r, &s, 0, err), 0);
	struct ml_writer_opts wo;
	ml_writer_opts_init(&wo);
	struct ml_writer *w = ml_writer_open_mem(&wo, err);
	const char *names[] = { "x", "c", "t" };
	ck_assert_int_eq(ml_writer_set_columns(w, names, 3, err), 0);
	int here = -1, ones[2] = { 0, 0 };
	void *workers[2] = { &ones[0], &ones[1] };
	int rc = parts ? ml_reader_each_part(r, w, write_part, workers, 2, err) : 1;
	if (rc == 1)	/* what the parts did not take, in this thread */
		rc = write_part(r, w, &here, err);
	struct ml_stream_stats st;
	ml_reader_stats(r, &st);
	if (rc == 0)
		ck_assert_uint_eq(st.rows_read, ml_writer_rows(w));
	size_t n;
	const char *data = ml_writer_mem_data(w, &n);
	*out = strndup(data, n);
	*calls = ones[0] + ones[1];
	ml_writer_close(w, 0, NULL);
	ml_reader_close(r);
	ml_schema_release(&s);
	return rc;
}

/* rows lines of x,c,t (about 30 bytes each, some CRLF) after a header; quoted from row quote_from on. */
static char *rows_text(size_t rows, size_t quote_from, size_t *len)
{
	char *text = malloc(rows * 48 + 64);
	*len = (size_t)sprintf(text, "x,c,t\n");
	for (size_t i = 1; i <= rows; i++)
		*len += (size_t)sprintf(text + *len, i >= quote_from ? "%zu.5,k%zu,\"say, %zu\"%s\n" : "%zu.5,k%zu,w%zu%s\n",
				       i, i % 7, i * 3, i % 5 ? "" : "\r");
	return text;
}

START_TEST(test_parts_same_as_one_reader)
{
	size_t len;
	char *text = rows_text(200000, SIZE_MAX, &len);	/* 4 MB: four parts */
	char *one, *parts;
	int calls;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(read_in_parts("in.csv", text, len, NULL, 0, &one, &calls, &err), 0);
	ck_assert_int_eq(read_in_parts("in.csv", text, len, NULL, 1, &parts, &calls, &err), 0);
	ck_assert_int_ge(calls, 4);
	ck_assert_str_eq(parts, one);
	ck_assert_uint_eq(strlen(one), strlen("x,c,t\n") + (len - 6) - 200000 / 5);	/* CR dropped on output */
	free(one);
	free(parts);
	free(text);
}
END_TEST

START_TEST(test_parts_error_names_the_line)
{
	size_t len;
	char *text = rows_text(200000, SIZE_MAX, &len);
	strstr(text, "\n170000.5,")[1] = 'z';	/* line 170001, in the last part */
	char *one, *parts;
	int calls;
	struct ml_err e1 = ML_ERR_INIT, e2 = ML_ERR_INIT;
	ck_assert_int_eq(read_in_parts("bad.csv", text, len, NULL, 0, &one, &calls, &e1), -1);
	ck_assert_int_eq(read_in_parts("bad.csv", text, len, NULL, 1, &parts, &calls, &e2), -1);
	ck_assert_msg(strstr(e2.msg, "bad.csv:170001:1:") != NULL, "%s", e2.msg);
	ck_assert_str_eq(e2.msg, e1.msg);
	ck_assert_int_eq(e2.class, ML_ERR_DATA);
	/* the parts before the bad one reached the output, in order */
	size_t got = strlen(parts);
	ck_assert_uint_gt(got, 3u << 20);
	ck_assert(!strncmp(parts, one, got < strlen(one) ? got : strlen(one)) || !strncmp(one, parts, strlen(one)));
	free(one);
	free(parts);
	free(text);
}
END_TEST

START_TEST(test_parts_give_back_at_a_quote)
{
	size_t len;
	char *text = rows_text(200000, 120000, &len);	/* quoted fields (with the delimiter) from 2.4 MB on */
	char *one, *parts;
	int calls;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(read_in_parts("q.csv", text, len, NULL, 0, &one, &calls, &err), 0);
	ck_assert_int_eq(read_in_parts("q.csv", text, len, NULL, 1, &parts, &calls, &err), 0);
	ck_assert_int_ge(calls, 2);	/* the parts before the first quote */
	ck_assert_str_eq(parts, one);
	free(one);
	free(parts);
	free(text);
}
END_TEST

START_TEST(test_parts_ndjson_and_refusals)
{
	char *text = malloc(200000 * 64);
	size_t len = 0;
	for (size_t i = 1; i <= 200000; i++)
		len += (size_t)sprintf(text + len, "{\"x\": %zu.5, \"c\": \"k%zu\", \"t\": \"w%zu\"}\n", i, i % 7, i);
	char *one, *parts;
	int calls;
	struct ml_err err = ML_ERR_INIT;
	ck_assert_int_eq(read_in_parts("in.ndjson", text, len, NULL, 0, &one, &calls, &err), 0);
	ck_assert_int_eq(read_in_parts("in.ndjson", text, len, NULL, 1, &parts, &calls, &err), 0);
	ck_assert_int_ge(calls, 5);
	ck_assert_str_eq(parts, one);
	free(parts);
	/* skipping bad records keeps the input's order in the rejects: not cut, all read by the reader */
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.on_error = ML_ON_ERROR_SKIP;
	ck_assert_int_eq(read_in_parts("in.ndjson", text, len, &o, 1, &parts, &calls, &err), 0);
	ck_assert_int_eq(calls, 0);
	ck_assert_str_eq(parts, one);
	free(one);
	free(parts);
	free(text);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_csv_rfc4180);
	tcase_add_test(tc, test_csv_raw_text_is_verbatim);
	tcase_add_test(tc, test_csv_blank_lines_skipped);
	tcase_add_test(tc, test_csv_no_header_and_delimiter);
	tcase_add_test(tc, test_long_record_across_reads);
	tcase_add_test(tc, test_record_cap);
	tcase_add_loop_test(tc, test_csv_errors_name_place, 0, sizeof csv_errors / sizeof csv_errors[0]);
	tcase_add_test(tc, test_skip_keeps_rejects_verbatim);
	tcase_add_test(tc, test_ndjson_values);
	tcase_add_loop_test(tc, test_ndjson_errors_name_place, 0, sizeof ndjson_errors / sizeof ndjson_errors[0]);
	tcase_add_test(tc, test_batch_columns_by_name);
	tcase_add_test(tc, test_batch_bad_number_is_located);
	tcase_add_test(tc, test_batch_skip_bad_values);
	tcase_add_test(tc, test_bind_missing_column);
	tcase_add_test(tc, test_ndjson_batch_late_keys);
	tcase_add_test(tc, test_batch_copy_survives_next_read);
	tcase_add_test(tc, test_infer_does_not_consume);
	tcase_add_test(tc, test_several_inputs);
	tcase_add_loop_test(tc, test_hostile_corpus, 0, 16);
	tcase_add_test(tc, test_each_batch);
	tcase_add_test(tc, test_parts_same_as_one_reader);
	tcase_add_test(tc, test_parts_error_names_the_line);
	tcase_add_test(tc, test_parts_give_back_at_a_quote);
	tcase_add_test(tc, test_parts_ndjson_and_refusals);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
