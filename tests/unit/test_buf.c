/*
 * test_buf.c - growable buffers with a cap, and allocation that reports.
 *
 * The content is always NUL-terminated and never longer than the cap; going
 * over the cap is -1 with errno E2BIG and leaves the content as it was.
 * The ml_*alloc helpers report a failed or overflowing size as
 * ML_ERR_INTERNAL in struct ml_err instead of aborting.
 */
#include <errno.h>
#include <stdint.h>

#include "mlpipe/buf.h"
#include "mlpipe/err.h"
#include "testutil.h"

#ifdef __SANITIZE_ADDRESS__
/* Let an impossible malloc return NULL under ASan, as it does in libc. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

/* The buffer holds exactly want (length and bytes), with a NUL after it. */
static void buf_is(const struct ml_buf *b, const char *want, size_t len)
{
	ck_assert_uint_eq(b->len, len);
	ck_assert_ptr_nonnull(b->data);
	ck_assert_uint_gt(b->alloc, b->len);	/* room for the terminator */
	ck_assert_uint_le(b->len, b->cap);
	ck_assert(memcmp(b->data, want, len) == 0);
	ck_assert_int_eq(b->data[len], '\0');
}

START_TEST(test_init_is_empty)
{
	struct ml_buf b;
	memset(&b, 0x5a, sizeof b);
	ml_buf_init(&b, 100);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.alloc, 0);
	ck_assert_uint_eq(b.cap, 100);
	ml_buf_release(&b);	/* releasing an unused buffer is fine */
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_add_grows_and_terminates)
{
	struct ml_buf b;
	ml_buf_init(&b, 1 << 20);
	ck_assert_int_eq(ml_buf_add(&b, "abc", 3), 0);
	buf_is(&b, "abc", 3);
	ck_assert_int_eq(ml_buf_addc(&b, 'd'), 0);
	buf_is(&b, "abcd", 4);
	ck_assert_int_eq(ml_buf_adds(&b, "efg"), 0);
	buf_is(&b, "abcdefg", 7);
	ck_assert_str_eq(b.data, "abcdefg");

	/* Bytes, not strings: an embedded NUL is kept and counted. */
	ck_assert_int_eq(ml_buf_add(&b, "h\0i", 3), 0);
	buf_is(&b, "abcdefgh\0i", 10);

	/* Adding nothing changes nothing, even with a NULL pointer. */
	ck_assert_int_eq(ml_buf_add(&b, NULL, 0), 0);
	ck_assert_int_eq(ml_buf_adds(&b, ""), 0);
	buf_is(&b, "abcdefgh\0i", 10);

	/* Many small adds grow past the initial allocation several times. */
	ml_buf_reset(&b);
	char want[5000];
	for (size_t i = 0; i < sizeof want; i++) {
		want[i] = (char)('a' + i % 26);
		ck_assert_int_eq(ml_buf_addc(&b, want[i]), 0);
		ck_assert_int_eq(b.data[b.len], '\0');
	}
	buf_is(&b, want, sizeof want);
	ml_buf_release(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.alloc, 0);
}
END_TEST

START_TEST(test_add_on_empty_buffer_allocates)
{
	/* An empty add still gives a terminated (empty) string. */
	struct ml_buf b;
	ml_buf_init(&b, 16);
	ck_assert_int_eq(ml_buf_add(&b, "", 0), 0);
	buf_is(&b, "", 0);
	ml_buf_release(&b);

	ml_buf_init(&b, 16);
	ck_assert_int_eq(ml_buf_printf(&b, "%s", ""), 0);
	buf_is(&b, "", 0);
	ml_buf_release(&b);
}
END_TEST

START_TEST(test_cap_enforced)
{
	struct ml_buf b;
	ml_buf_init(&b, 10);
	ck_assert_int_eq(ml_buf_adds(&b, "0123"), 0);

	/* 4 + 7 > 10: refused as a whole, nothing appended. */
	errno = 0;
	ck_assert_int_eq(ml_buf_add(&b, "4567890", 7), -1);
	ck_assert_int_eq(errno, E2BIG);
	buf_is(&b, "0123", 4);

	errno = 0;
	ck_assert_int_eq(ml_buf_adds(&b, "4567890"), -1);
	ck_assert_int_eq(errno, E2BIG);
	buf_is(&b, "0123", 4);

	errno = 0;
	ck_assert_int_eq(ml_buf_printf(&b, "%d", 4567890), -1);
	ck_assert_int_eq(errno, E2BIG);
	buf_is(&b, "0123", 4);

	/* Exactly up to the cap is allowed... */
	ck_assert_int_eq(ml_buf_adds(&b, "456789"), 0);
	buf_is(&b, "0123456789", 10);

	/* ...and one byte more is not, by any route. */
	errno = 0;
	ck_assert_int_eq(ml_buf_addc(&b, 'x'), -1);
	ck_assert_int_eq(errno, E2BIG);
	errno = 0;
	ck_assert_int_eq(ml_buf_printf(&b, "x"), -1);
	ck_assert_int_eq(errno, E2BIG);
	errno = 0;
	ck_assert_int_eq(ml_buf_grow(&b, 1), -1);
	ck_assert_int_eq(errno, E2BIG);
	buf_is(&b, "0123456789", 10);

	/* Adding nothing at the cap is still fine. */
	ck_assert_int_eq(ml_buf_add(&b, "", 0), 0);
	buf_is(&b, "0123456789", 10);

	/* After a reset the whole cap is available again. */
	ml_buf_reset(&b);
	ck_assert_int_eq(ml_buf_adds(&b, "abcdefghij"), 0);
	buf_is(&b, "abcdefghij", 10);
	ml_buf_release(&b);
}
END_TEST

START_TEST(test_cap_huge_request_does_not_wrap)
{
	/* len + n overflowing size_t must not slip under the cap. */
	struct ml_buf b;
	ml_buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(ml_buf_adds(&b, "abc"), 0);
	errno = 0;
	ck_assert_int_eq(ml_buf_grow(&b, SIZE_MAX - 1), -1);
	ck_assert_int_eq(errno, E2BIG);
	errno = 0;
	ck_assert_int_eq(ml_buf_grow(&b, SIZE_MAX), -1);
	ck_assert_int_eq(errno, E2BIG);
	buf_is(&b, "abc", 3);
	ml_buf_release(&b);

	ml_buf_init(&b, 0);	/* a zero cap takes nothing */
	errno = 0;
	ck_assert_int_eq(ml_buf_addc(&b, 'a'), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_uint_eq(b.len, 0);
	ml_buf_release(&b);
}
END_TEST

START_TEST(test_printf_appends_and_formats)
{
	struct ml_buf b;
	ml_buf_init(&b, 1 << 20);
	ck_assert_int_eq(ml_buf_adds(&b, "x="), 0);
	ck_assert_int_eq(ml_buf_printf(&b, "%d, y=%.2f, s=%s", -42, 3.14159, "ok"), 0);
	ck_assert_str_eq(b.data, "x=-42, y=3.14, s=ok");
	ck_assert_uint_eq(b.len, strlen("x=-42, y=3.14, s=ok"));

	/* Long formatted text: far beyond the first allocation. */
	ml_buf_reset(&b);
	char word[3001];
	memset(word, 'w', 3000);
	word[3000] = '\0';
	ck_assert_int_eq(ml_buf_printf(&b, "[%s|%5d|%s]", word, 7, word), 0);
	ck_assert_uint_eq(b.len, 1 + 3000 + 1 + 5 + 1 + 3000 + 1);
	ck_assert_int_eq(b.data[0], '[');
	ck_assert(memcmp(b.data + 1, word, 3000) == 0);
	ck_assert(memcmp(b.data + 3001, "|    7|", 7) == 0);
	ck_assert(memcmp(b.data + 3008, word, 3000) == 0);
	ck_assert_int_eq(b.data[6008], ']');
	ck_assert_int_eq(b.data[6009], '\0');
	ck_assert_uint_eq(strlen(b.data), b.len);

	/* Repeated printf appends each time. */
	ml_buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(ml_buf_printf(&b, "%03d,", i), 0);
	ck_assert_uint_eq(b.len, 4000);
	ck_assert(memcmp(b.data, "000,001,002,", 12) == 0);
	ck_assert_str_eq(b.data + 3996, "999,");
	ml_buf_release(&b);
}
END_TEST

START_TEST(test_reset_keeps_memory)
{
	struct ml_buf b;
	ml_buf_init(&b, 1 << 20);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(ml_buf_adds(&b, "0123456789"), 0);
	char *data = b.data;
	size_t alloc = b.alloc;
	ck_assert_uint_ge(alloc, 1001);
	ml_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_uint_eq(b.alloc, alloc);
	ck_assert_str_eq(b.data, "");	/* terminated, not stale text */
	ck_assert_uint_eq(b.cap, 1 << 20);

	/* Refilling up to the old size needs no new memory. */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(ml_buf_adds(&b, "abcdefghij"), 0);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_uint_eq(b.alloc, alloc);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert(memcmp(b.data + 990, "abcdefghij", 11) == 0);
	ml_buf_release(&b);

	/* Resetting a buffer that never allocated is harmless. */
	ml_buf_init(&b, 8);
	ml_buf_reset(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_detach_hands_over)
{
	struct ml_buf b;
	ml_buf_init(&b, 64);
	ck_assert_int_eq(ml_buf_adds(&b, "model"), 0);
	ck_assert_int_eq(ml_buf_printf(&b, ".%s", "json"), 0);
	char *data = b.data;
	char *s = ml_buf_detach(&b);
	ck_assert_ptr_eq(s, data);	/* the same memory, no copy */
	ck_assert_str_eq(s, "model.json");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.alloc, 0);
	ck_assert_uint_eq(b.cap, 64);	/* still usable with its cap */

	/* The buffer starts afresh and does not touch the detached string. */
	ck_assert_int_eq(ml_buf_adds(&b, "next"), 0);
	ck_assert_ptr_ne(b.data, s);
	buf_is(&b, "next", 4);
	ck_assert_str_eq(s, "model.json");
	free(s);

	/* Detaching an empty buffer still gives a string the caller frees. */
	char *t = ml_buf_detach(&b);
	ck_assert_str_eq(t, "next");
	free(t);
	char *empty = ml_buf_detach(&b);
	ck_assert_ptr_nonnull(empty);
	ck_assert_str_eq(empty, "");
	free(empty);
	ml_buf_release(&b);
}
END_TEST

START_TEST(test_grow_makes_room)
{
	struct ml_buf b;
	ml_buf_init(&b, 1000);
	ck_assert_int_eq(ml_buf_adds(&b, "ab"), 0);
	ck_assert_int_eq(ml_buf_grow(&b, 500), 0);
	ck_assert_uint_eq(b.len, 2);	/* len unchanged */
	ck_assert_uint_ge(b.alloc, 2 + 500 + 1);
	ck_assert_str_eq(b.data, "ab");
	/* The room is usable directly, as a filter writing in place would. */
	char *data = b.data;
	memset(b.data + b.len, 'z', 500);
	b.len += 500;
	b.data[b.len] = '\0';
	ck_assert_int_eq(ml_buf_grow(&b, 0), 0);
	ck_assert_ptr_eq(b.data, data);	/* no move when the room is there */
	ck_assert_uint_eq(strlen(b.data), 502);

	/* Up to the cap exactly, not past it. */
	ck_assert_int_eq(ml_buf_grow(&b, 498), 0);
	errno = 0;
	ck_assert_int_eq(ml_buf_grow(&b, 499), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_uint_eq(b.len, 502);
	ml_buf_release(&b);

	/* Grow on a fresh buffer allocates with room for the terminator. */
	ml_buf_init(&b, 1 << 20);
	ck_assert_int_eq(ml_buf_grow(&b, 100000), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_ge(b.alloc, 100001);
	ck_assert_uint_eq(b.len, 0);
	ml_buf_release(&b);
}
END_TEST

START_TEST(test_alloc_success)
{
	struct ml_err err = ML_ERR_INIT;
	char *p = ml_malloc(16, &err);
	ck_assert_ptr_nonnull(p);
	memset(p, 1, 16);
	free(p);
	p = ml_malloc(0, &err);	/* zero bytes is a valid, freeable pointer */
	ck_assert_ptr_nonnull(p);
	free(p);

	int *z = ml_calloc(100, sizeof *z, &err);
	ck_assert_ptr_nonnull(z);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(z[i], 0);
	free(z);
	z = ml_calloc(0, 0, &err);
	ck_assert_ptr_nonnull(z);
	free(z);

	double *d = ml_realloc_array(NULL, 10, sizeof *d, &err);
	ck_assert_ptr_nonnull(d);
	for (int i = 0; i < 10; i++)
		d[i] = i;
	d = ml_realloc_array(d, 1000, sizeof *d, &err);
	ck_assert_ptr_nonnull(d);
	for (int i = 0; i < 10; i++)
		ck_assert_double_eq(d[i], i);	/* content kept */
	d[999] = 1;
	d = ml_realloc_array(d, 0, sizeof *d, &err);	/* shrink to nothing: still a pointer */
	ck_assert_ptr_nonnull(d);
	free(d);

	char *s = ml_strdup("cars.csv", &err);
	ck_assert_str_eq(s, "cars.csv");
	free(s);

	ck_assert_int_eq(err.class, ML_ERR_NONE);	/* success leaves err alone */
	ck_assert_str_eq(err.msg, "");
}
END_TEST

START_TEST(test_alloc_overflow_reports)
{
	struct ml_err err = ML_ERR_INIT;

	ck_assert_ptr_null(ml_calloc(SIZE_MAX, 2, &err));
	ck_assert_int_eq(err.class, ML_ERR_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "out of memory"));
	ck_assert_int_eq(ml_exit_code(&err), 70);

	ml_err_clear(&err);
	ck_assert_ptr_null(ml_realloc_array(NULL, SIZE_MAX / 2, 4, &err));
	ck_assert_int_eq(err.class, ML_ERR_INTERNAL);
	ck_assert_msg(err.msg[0], "no message");

	/* An overflowing realloc keeps the old block (it is still the caller's). */
	ml_err_clear(&err);
	char *p = ml_strdup("keep", &err);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(ml_realloc_array(p, SIZE_MAX / 8 + 1, 16, &err));
	ck_assert_int_eq(err.class, ML_ERR_INTERNAL);
	ck_assert_str_eq(p, "keep");
	free(p);

	ml_err_clear(&err);
	ck_assert_ptr_null(ml_malloc(SIZE_MAX, &err));
	ck_assert_int_eq(err.class, ML_ERR_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "out of memory"));

	/* A NULL err is allowed: the failure is still returned. */
	ck_assert_ptr_null(ml_calloc(SIZE_MAX, SIZE_MAX, NULL));
	ck_assert_ptr_null(ml_realloc_array(NULL, SIZE_MAX, SIZE_MAX, NULL));
	ck_assert_ptr_null(ml_malloc(SIZE_MAX, NULL));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_init_is_empty);
	tcase_add_test(tc, test_add_grows_and_terminates);
	tcase_add_test(tc, test_add_on_empty_buffer_allocates);
	tcase_add_test(tc, test_cap_enforced);
	tcase_add_test(tc, test_cap_huge_request_does_not_wrap);
	tcase_add_test(tc, test_printf_appends_and_formats);
	tcase_add_test(tc, test_reset_keeps_memory);
	tcase_add_test(tc, test_detach_hands_over);
	tcase_add_test(tc, test_grow_makes_room);
	tcase_add_test(tc, test_alloc_success);
	tcase_add_test(tc, test_alloc_overflow_reports);
	suite_add_tcase(s, tc);
	return s;
}

ML_TEST_MAIN(make_suite)
