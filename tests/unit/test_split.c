/*
 * test_split.c - the one-pass train/validation/test split: ratio parsing,
 * share boundaries, a deterministic and uniform hash, every record written
 * verbatim to exactly one output, --by keeping a key's rows together, and
 * outputs that are all-or-nothing when the input turns out to be bad.
 */
#include <dirent.h>
#include <math.h>

#include "mlpipe/split.h"
#include "mlpipe/stream.h"
#include "testutil.h"


/* ---- ratios ---- */

START_TEST(test_parse_ratios_accepts)
{
	static const struct {
		const char *text;
		size_t n;
		double r[ML_SPLIT_MAX];
	} ok[] = {
		{ "0.7,0.15,0.15", 3, { 0.7, 0.15, 0.15 } },
		{ "0.8,0.2", 2, { 0.8, 0.2 } },
		{ "1", 1, { 1 } },
		{ "0.5,0.5", 2, { 0.5, 0.5 } },
		{ ".25,.25,.5", 3, { 0.25, 0.25, 0.5 } },
		{ "0.125,0.125,0.125,0.125,0.125,0.125,0.125,0.125", 8,
		  { 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125 } },
		{ "0.1,0.2,0.3,0.4", 4, { 0.1, 0.2, 0.3, 0.4 } },	/* 1 within rounding */
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct ml_err err = ML_ERR_INIT;
		double r[ML_SPLIT_MAX];
		size_t n = 99;
		ck_assert_msg(ml_split_parse_ratios(ok[i].text, r, &n, &err) == 0, "%s: %s", ok[i].text, err.msg);
		ck_assert_uint_eq(n, ok[i].n);
		for (size_t k = 0; k < n; k++)
			ck_assert_double_eq(r[k], ok[i].r[k]);
	}
}
END_TEST

START_TEST(test_parse_ratios_refuses)
{
	static const char *const bad[] = {
		"",			/* nothing */
		"0.7,0.2",		/* adds up to 0.9 */
		"0.7,0.4",		/* 1.1 */
		"0.5,0.5,0.5",
		"0.5,0.49",		/* close is not enough */
		"0.5,0.5000001",
		"1,0",			/* a zero share */
		"0,1",
		"1.5,-0.5",		/* negative */
		"-0.5,1.5",
		"abc",			/* junk */
		"0.5,abc",
		"0.5x,0.5",
		"0.5;0.5",
		"0.5,,0.5",		/* empty item */
		",0.5,0.5",
		"nan,1",
		"inf",
		"0.5 0.5",
		"2",			/* a share above 1 */
		/* nine shares (ML_SPLIT_MAX is 8), even though they add up to 1 */
		"0.2,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ml_err err = ML_ERR_INIT;
		double r[ML_SPLIT_MAX + 4];
		size_t n;
		ck_assert_msg(ml_split_parse_ratios(bad[i], r, &n, &err) == -1, "\"%s\" accepted", bad[i]);
		ck_assert_int_eq(err.class, ML_ERR_USAGE);
		ck_assert_msg(strstr(err.msg, "--ratios"), "%s", err.msg);
		ck_assert_msg(bad[i][0] == '\0' || strstr(err.msg, bad[i]), "message does not quote the input: %s",
			      err.msg);
		ck_assert_uint_le(n, ML_SPLIT_MAX);	/* never wrote past the array */
	}
}
END_TEST

START_TEST(test_choose_boundaries)
{
	const double r[] = { 0.5, 0.25, 0.25 };
	ck_assert_uint_eq(ml_split_choose(r, 3, 0.0), 0);
	ck_assert_uint_eq(ml_split_choose(r, 3, nextafter(0.5, 0)), 0);
	ck_assert_uint_eq(ml_split_choose(r, 3, 0.5), 1);	/* shares are [lo, hi) */
	ck_assert_uint_eq(ml_split_choose(r, 3, nextafter(0.75, 0)), 1);
	ck_assert_uint_eq(ml_split_choose(r, 3, 0.75), 2);
	ck_assert_uint_eq(ml_split_choose(r, 3, nextafter(1.0, 0)), 2);
	/* Rounding in the running sum never sends a u < 1 past the last share. */
	const double r3[] = { 0.1, 0.2, 0.3, 0.4 };
	ck_assert_uint_eq(ml_split_choose(r3, 4, nextafter(1.0, 0)), 3);
	ck_assert_uint_eq(ml_split_choose(r3, 4, 0.05), 0);
	ck_assert_uint_eq(ml_split_choose(r3, 4, 0.15), 1);
	ck_assert_uint_eq(ml_split_choose(r3, 4, 0.45), 2);
	ck_assert_uint_eq(ml_split_choose(r3, 4, 0.65), 3);
	const double one[] = { 1 };
	ck_assert_uint_eq(ml_split_choose(one, 1, 0), 0);
	ck_assert_uint_eq(ml_split_choose(one, 1, nextafter(1.0, 0)), 0);
}
END_TEST

/* ---- the hash ---- */

START_TEST(test_hash_deterministic_and_seeded)
{
	size_t same_row_other_seed = 0, same_key_other_seed = 0;
	for (uint64_t row = 0; row < 1000; row++) {
		double u = ml_split_hash_row(row, 42);
		ck_assert(u >= 0 && u < 1);
		ck_assert_double_eq(u, ml_split_hash_row(row, 42));
		same_row_other_seed += u == ml_split_hash_row(row, 43);
		char key[32];
		int len = snprintf(key, sizeof key, "car-%llu", (unsigned long long)row);
		double k = ml_split_hash_key(key, (size_t)len, 42);
		ck_assert(k >= 0 && k < 1);
		ck_assert_double_eq(k, ml_split_hash_key(key, (size_t)len, 42));
		same_key_other_seed += k == ml_split_hash_key(key, (size_t)len, 43);
	}
	ck_assert_uint_eq(same_row_other_seed, 0);
	ck_assert_uint_eq(same_key_other_seed, 0);
	/* Only the key's bytes count, not what follows them. */
	ck_assert_double_eq(ml_split_hash_key("abcdef", 3, 7), ml_split_hash_key("abc", 3, 7));
	ck_assert(ml_split_hash_key("abc", 3, 7) != ml_split_hash_key("abd", 3, 7));
	ck_assert(ml_split_hash_key("", 0, 7) >= 0 && ml_split_hash_key("", 0, 7) < 1);
}
END_TEST

/* Pearson's statistic over 10 equal buckets; 9 degrees of freedom. */
static double chi_square(const uint64_t *counts, size_t buckets, double expected)
{
	double chi = 0;
	for (size_t i = 0; i < buckets; i++)
		chi += ((double)counts[i] - expected) * ((double)counts[i] - expected) / expected;
	return chi;
}

START_TEST(test_hash_uniform)
{
	const uint64_t n = 100000;
	/* chi-square(9) exceeds 27.9 with probability 0.001 */
	const double limit = 27.9;
	for (uint64_t seed = 0; seed < 3; seed++) {
		uint64_t rows[10] = { 0 }, keys[10] = { 0 };
		for (uint64_t i = 0; i < n; i++) {
			rows[(int)(ml_split_hash_row(i, seed) * 10)]++;
			char key[32];
			int len = snprintf(key, sizeof key, "%llu", (unsigned long long)i);
			keys[(int)(ml_split_hash_key(key, (size_t)len, seed) * 10)]++;
		}
		double cr = chi_square(rows, 10, n / 10.0), ck = chi_square(keys, 10, n / 10.0);
		ck_assert_msg(cr < limit, "row hash, seed %llu: chi-square %.1f", (unsigned long long)seed, cr);
		ck_assert_msg(ck < limit, "key hash, seed %llu: chi-square %.1f", (unsigned long long)seed, ck);
	}
	/* And the shares come out in the asked proportions. */
	const double r[] = { 0.7, 0.15, 0.15 };
	uint64_t shares[3] = { 0 };
	for (uint64_t i = 0; i < n; i++)
		shares[ml_split_choose(r, 3, ml_split_hash_row(i, 1))]++;
	for (int s = 0; s < 3; s++)
		ck_assert_msg(fabs((double)shares[s] / (double)n - r[s]) < 0.01, "share %d: %llu", s,
			      (unsigned long long)shares[s]);
}
END_TEST

/* ---- ml_split_run ---- */

struct file {
	char *data;
	size_t len;
};

static int read_file(const char *path, struct file *f)
{
	FILE *fp = fopen(path, "rb");
	f->data = NULL;
	f->len = 0;
	if (!fp)
		return -1;
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	long len = ftell(fp);
	rewind(fp);
	f->data = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(f->data);
	ck_assert_uint_eq(fread(f->data, 1, (size_t)len, fp), (size_t)len);
	f->data[len] = '\0';
	f->len = (size_t)len;
	fclose(fp);
	return 0;
}

static size_t occurrences(const struct file *f, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = f->data; (p = strstr(p, needle)) != NULL; p += len)
		n++;
	return n;
}

static struct ml_reader *open_csv(const char *name, const char *text, enum ml_on_error on_error,
				  struct ml_err *err)
{
	struct ml_reader_opts o;
	ml_reader_opts_init(&o);
	o.on_error = on_error;
	test_write_file(test_dir(), name, text, strlen(text));
	return ml_reader_open(&name, 1, &o, err);
}

static void opts3(struct ml_split_opts *o, uint64_t seed, const char *by)
{
	memset(o, 0, sizeof *o);
	o->n = 3;
	o->uris[0] = "train.csv";
	o->uris[1] = "valid.csv";
	o->uris[2] = "test.csv";
	o->ratios[0] = 0.6;
	o->ratios[1] = 0.2;
	o->ratios[2] = 0.2;
	o->seed = seed;
	o->by = by;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Names in the scratch directory other than in.csv, sorted into one comma-separated string. */
static void list_dir(char *out, size_t outsz)
{
	DIR *d = opendir(".");
	ck_assert_ptr_nonnull(d);
	char names[16][256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "in.csv"))
			continue;
		ck_assert_uint_lt(n, 16);
		snprintf(names[n++], sizeof names[0], "%s", e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], by_name);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strncat(out, names[i], outsz - strlen(out) - 2);
		if (i + 1 < n)
			strcat(out, ",");
	}
}

#define NROWS 300

/* A CSV whose records are all distinct; one is quoted over two lines, one
 * ends in CRLF, and the last has no line end. */
static char *make_input(char *row_text[NROWS])
{
	size_t cap = 64 + NROWS * 64, len = 0;
	char *text = malloc(cap);
	len += (size_t)sprintf(text, "id,make,price\n");
	for (int i = 0; i < NROWS; i++) {
		char rec[64];
		if (i == 7)
			snprintf(rec, sizeof rec, "r%03d,\"Buick,\n LeSabre\",%d\n", i, 1000 + i);
		else if (i == 8)
			snprintf(rec, sizeof rec, "r%03d,Ford,%d\r\n", i, 1000 + i);
		else if (i == NROWS - 1)
			snprintf(rec, sizeof rec, "r%03d,Kia,%d", i, 1000 + i);
		else
			snprintf(rec, sizeof rec, "r%03d,%s,%d\n", i, i % 3 ? "Ford" : "Saab", 1000 + i);
		row_text[i] = strdup(rec);
		len += (size_t)sprintf(text + len, "%s", rec);
	}
	return text;
}

START_TEST(test_run_every_row_once_verbatim)
{
	char *rows[NROWS];
	char *text = make_input(rows);
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_csv("in.csv", text, ML_ON_ERROR_FAIL, &err);
	ck_assert_msg(r, "%s", err.msg);
	struct ml_split_opts o;
	opts3(&o, 7, NULL);
	uint64_t counts[3] = { 99, 99, 99 };
	ck_assert_msg(ml_split_run(r, &o, counts, &err) == 0, "%s", err.msg);
	ml_reader_close(r);
	ck_assert_uint_eq(counts[0] + counts[1] + counts[2], NROWS);
	for (int s = 0; s < 3; s++)
		ck_assert_uint_gt(counts[s], 0);

	struct file out[3];
	size_t total_len = 0;
	for (int s = 0; s < 3; s++) {
		ck_assert_int_eq(read_file(o.uris[s], &out[s]), 0);
		ck_assert_msg(!strncmp(out[s].data, "id,make,price\n", 14), "%s lacks the header", o.uris[s]);
		ck_assert_uint_eq(occurrences(&out[s], "id,make,price\n"), 1);
		ck_assert_int_eq(out[s].data[out[s].len - 1], '\n');	/* every share ends its last line */
		total_len += out[s].len;
	}
	uint64_t seen[3] = { 0 };
	size_t rows_len = 0;
	for (int i = 0; i < NROWS; i++) {
		/* The record as it was, plus a line end where the input had none. */
		char want[80];
		snprintf(want, sizeof want, "%s%s", rows[i], i == NROWS - 1 ? "\n" : "");
		rows_len += strlen(want);
		int where = -1;
		for (int s = 0; s < 3; s++) {
			size_t k = occurrences(&out[s], want);
			ck_assert_msg(k <= 1, "row %d written %zu times to %s", i, k, o.uris[s]);
			if (k) {
				ck_assert_msg(where < 0, "row %d in both %s and %s", i, o.uris[where], o.uris[s]);
				where = s;
			}
		}
		ck_assert_msg(where >= 0, "row %d (%s) is in no output", i, rows[i]);
		/* The share the hash of its row number names. */
		ck_assert_int_eq(where, (int)ml_split_choose(o.ratios, 3, ml_split_hash_row((uint64_t)i, 7)));
		seen[where]++;
		free(rows[i]);
	}
	for (int s = 0; s < 3; s++) {
		ck_assert_uint_eq(seen[s], counts[s]);
		free(out[s].data);
	}
	/* Nothing but the headers and the records. */
	ck_assert_uint_eq(total_len, 3 * 14 + rows_len);
	char names[512];
	list_dir(names, sizeof names);
	ck_assert_str_eq(names, "test.csv,train.csv,valid.csv");	/* no temp files left */
	free(text);
}
END_TEST

/* Split in.csv with seed into the three outputs; return their contents joined by '|'. */
static char *split_to_string(uint64_t seed, const char *by, uint64_t counts[3])
{
	struct ml_err err = ML_ERR_INIT;
	const char *name = "in.csv";
	struct ml_reader_opts ro;
	ml_reader_opts_init(&ro);
	struct ml_reader *r = ml_reader_open(&name, 1, &ro, &err);
	ck_assert_msg(r, "%s", err.msg);
	struct ml_split_opts o;
	opts3(&o, seed, by);
	ck_assert_msg(ml_split_run(r, &o, counts, &err) == 0, "%s", err.msg);
	ml_reader_close(r);
	size_t cap = 1, len = 0;
	struct file f[3];
	for (int s = 0; s < 3; s++) {
		ck_assert_int_eq(read_file(o.uris[s], &f[s]), 0);
		cap += f[s].len + 1;
	}
	char *all = malloc(cap);
	for (int s = 0; s < 3; s++) {
		memcpy(all + len, f[s].data, f[s].len);
		len += f[s].len;
		all[len++] = '|';
		free(f[s].data);
	}
	all[len] = '\0';
	return all;
}

START_TEST(test_run_same_seed_same_bytes)
{
	char *rows[NROWS];
	char *text = make_input(rows);
	for (int i = 0; i < NROWS; i++)
		free(rows[i]);
	test_write_file(test_dir(), "in.csv", text, strlen(text));
	uint64_t c1[3], c2[3], c3[3];
	char *a = split_to_string(11, NULL, c1);
	char *b = split_to_string(11, NULL, c2);
	char *c = split_to_string(12, NULL, c3);
	ck_assert_str_eq(a, b);
	ck_assert(memcmp(c1, c2, sizeof c1) == 0);
	ck_assert_str_ne(a, c);	/* another seed, another split */
	free(a);
	free(b);
	free(c);
	free(text);
}
END_TEST

START_TEST(test_run_by_key_keeps_groups_together)
{
	/* 40 cars, each seen 10 times, interleaved; some ids quoted. */
	size_t cap = 64 + 400 * 48, len = 0;
	char *text = malloc(cap);
	len += (size_t)sprintf(text, "row,car,price\n");
	for (int i = 0; i < 400; i++) {
		int car = (i * 7) % 40;
		if (car % 5 == 0)
			len += (size_t)sprintf(text + len, "%d,\"car-%02d\",%d\n", i, car, i);
		else
			len += (size_t)sprintf(text + len, "%d,car-%02d,%d\n", i, car, i);
	}
	test_write_file(test_dir(), "in.csv", text, len);
	uint64_t counts[3];
	char *all = split_to_string(5, "car", counts);
	ck_assert_uint_eq(counts[0] + counts[1] + counts[2], 400);
	int used[3] = { 0 };
	for (int car = 0; car < 40; car++) {
		/* Which outputs hold this car: all its rows in one of them. */
		char needle[32];
		snprintf(needle, sizeof needle, "car-%02d", car);
		int share = 0, found = 0, in[3] = { 0 };
		for (const char *p = all; *p; p++) {
			if (*p == '|')
				share++;
			else if (!strncmp(p, needle, strlen(needle)))
				in[share]++, found++;
		}
		ck_assert_int_eq(found, 10);
		ck_assert_msg((in[0] == 10) + (in[1] == 10) + (in[2] == 10) == 1, "car-%02d split %d/%d/%d", car,
			      in[0], in[1], in[2]);
		/* The key's text decides, quoted or not. */
		int want = (int)ml_split_choose((const double[]){ 0.6, 0.2, 0.2 }, 3,
						ml_split_hash_key(needle, strlen(needle), 5));
		ck_assert_int_eq(in[want], 10);
		used[want] = 1;
	}
	ck_assert_msg(used[0] && used[1] && used[2], "40 keys all went to fewer than 3 shares");
	free(all);
	free(text);
}
END_TEST

START_TEST(test_run_by_unknown_column)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_csv("in.csv", "a,b\n1,2\n", ML_ON_ERROR_FAIL, &err);
	struct ml_split_opts o;
	opts3(&o, 1, "nope");
	uint64_t counts[3];
	ck_assert_int_eq(ml_split_run(r, &o, counts, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(strstr(err.msg, "nope"), "%s", err.msg);
	ml_reader_close(r);
	char names[512];
	list_dir(names, sizeof names);
	ck_assert_str_eq(names, "");	/* nothing created */
}
END_TEST

/* A ragged row in the middle with --on-error fail: no output appears... */
START_TEST(test_run_error_leaves_no_outputs)
{
	struct ml_err err = ML_ERR_INIT;
	char text[8192];
	size_t len = (size_t)sprintf(text, "a,b\n");
	for (int i = 0; i < 100; i++)
		len += (size_t)sprintf(text + len, i == 60 ? "%d,2,extra\n" : "%d,2\n", i);
	struct ml_reader *r = open_csv("in.csv", text, ML_ON_ERROR_FAIL, &err);
	ck_assert_msg(r, "%s", err.msg);
	struct ml_split_opts o;
	opts3(&o, 3, NULL);
	uint64_t counts[3];
	ck_assert_int_eq(ml_split_run(r, &o, counts, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ck_assert_msg(strstr(err.msg, "in.csv:62"), "error does not name the line: %s", err.msg);
	ml_reader_close(r);
	char names[512];
	list_dir(names, sizeof names);
	ck_assert_str_eq(names, "");	/* no outputs, no temp files */
}
END_TEST

/* ... and outputs that existed keep their previous content. */
START_TEST(test_run_error_keeps_previous_outputs)
{
	struct ml_split_opts o;
	opts3(&o, 3, NULL);
	for (int s = 0; s < 3; s++)
		test_write_file(test_dir(), o.uris[s], "old\n", 4);
	struct ml_err err = ML_ERR_INIT;
	char text[8192];
	size_t len = (size_t)sprintf(text, "a,b\n");
	for (int i = 0; i < 100; i++)
		len += (size_t)sprintf(text + len, i == 90 ? "%d,\"unterminated\n" : "%d,2\n", i);
	struct ml_reader *r = open_csv("in.csv", text, ML_ON_ERROR_FAIL, &err);
	uint64_t counts[3];
	ck_assert_int_eq(ml_split_run(r, &o, counts, &err), -1);
	ck_assert_int_eq(err.class, ML_ERR_DATA);
	ml_reader_close(r);
	for (int s = 0; s < 3; s++) {
		struct file f;
		ck_assert_int_eq(read_file(o.uris[s], &f), 0);
		ck_assert_str_eq(f.data, "old\n");
		free(f.data);
	}
	char names[512];
	list_dir(names, sizeof names);
	ck_assert_str_eq(names, "test.csv,train.csv,valid.csv");
}
END_TEST

/* With --on-error skip the bad row is left out and the split succeeds. */
START_TEST(test_run_skip_bad_row)
{
	struct ml_err err = ML_ERR_INIT;
	char text[8192];
	size_t len = (size_t)sprintf(text, "a,b\n");
	for (int i = 0; i < 100; i++)
		len += (size_t)sprintf(text + len, i == 60 ? "bad%d\n" : "%d,2\n", i);
	struct ml_reader *r = open_csv("in.csv", text, ML_ON_ERROR_SKIP, &err);
	struct ml_split_opts o;
	opts3(&o, 3, NULL);
	uint64_t counts[3];
	ck_assert_msg(ml_split_run(r, &o, counts, &err) == 0, "%s", err.msg);
	ml_reader_close(r);
	ck_assert_uint_eq(counts[0] + counts[1] + counts[2], 99);
	for (int s = 0; s < 3; s++) {
		struct file f;
		ck_assert_int_eq(read_file(o.uris[s], &f), 0);
		ck_assert_ptr_null(strstr(f.data, "bad60"));
		free(f.data);
	}
}
END_TEST

START_TEST(test_run_header_only)
{
	struct ml_err err = ML_ERR_INIT;
	struct ml_reader *r = open_csv("in.csv", "a,b\r\n", ML_ON_ERROR_FAIL, &err);
	ck_assert_msg(r, "%s", err.msg);
	struct ml_split_opts o;
	opts3(&o, 3, NULL);
	uint64_t counts[3] = { 9, 9, 9 };
	ck_assert_msg(ml_split_run(r, &o, counts, &err) == 0, "%s", err.msg);
	ml_reader_close(r);
	for (int s = 0; s < 3; s++) {
		ck_assert_uint_eq(counts[s], 0);
		struct file f;
		ck_assert_int_eq(read_file(o.uris[s], &f), 0);
		ck_assert_str_eq(f.data, "a,b\r\n");	/* the header verbatim, even with no rows */
		free(f.data);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("split");
	TCase *tc = tcase_create("ratios");
	tcase_add_test(tc, test_parse_ratios_accepts);
	tcase_add_test(tc, test_parse_ratios_refuses);
	tcase_add_test(tc, test_choose_boundaries);
	suite_add_tcase(s, tc);
	tc = tcase_create("hash");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hash_deterministic_and_seeded);
	tcase_add_test(tc, test_hash_uniform);
	suite_add_tcase(s, tc);
	tc = tcase_create("run");
	tcase_add_checked_fixture(tc, test_scratch_setup, test_scratch_teardown);
	tcase_add_test(tc, test_run_every_row_once_verbatim);
	tcase_add_test(tc, test_run_same_seed_same_bytes);
	tcase_add_test(tc, test_run_by_key_keeps_groups_together);
	tcase_add_test(tc, test_run_by_unknown_column);
	tcase_add_test(tc, test_run_error_leaves_no_outputs);
	tcase_add_test(tc, test_run_error_keeps_previous_outputs);
	tcase_add_test(tc, test_run_skip_bad_row);
	tcase_add_test(tc, test_run_header_only);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
