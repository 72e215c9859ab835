/* buf.c - growable byte buffers with a cap, and allocation that reports. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mlpipe/buf.h"
#include "mlpipe/err.h"

void ml_buf_init(struct ml_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void ml_buf_release(struct ml_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

int ml_buf_grow(struct ml_buf *b, size_t n)
{
	/* len + n + 1 (the terminator) must not wrap, whatever the cap */
	if (n > b->cap || b->len > b->cap - n || b->len + n == SIZE_MAX) {
		errno = E2BIG;
		return -1;
	}
	size_t need = b->len + n + 1;	/* room for the terminator */
	if (need <= b->alloc)
		return 0;
	size_t alloc = b->alloc ? b->alloc : 64;
	while (alloc < need)
		alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
	char *p = realloc(b->data, alloc);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->alloc = alloc;
	return 0;
}

int ml_buf_add(struct ml_buf *b, const void *p, size_t n)
{
	if (ml_buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ml_buf_addc(struct ml_buf *b, char c)
{
	return ml_buf_add(b, &c, 1);
}

int ml_buf_adds(struct ml_buf *b, const char *s)
{
	return ml_buf_add(b, s, strlen(s));
}

int ml_buf_printf(struct ml_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || ml_buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void ml_buf_reset(struct ml_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *ml_buf_detach(struct ml_buf *b)
{
	char *p = b->data ? b->data : strdup("");
	b->data = NULL;
	b->len = b->alloc = 0;
	return p;
}

#define HUGE_PAGE ((uintptr_t)2 << 20)
#define HUGE_BLOCK ((size_t)4 << 20)

/*
 * A block of HUGE_BLOCK or more is offered transparent huge pages (Linux's
 * default THP mode, "madvise", gives them only when asked): its first touch
 * then faults once per 2 MB rather than once per 4 KB, which is a tenth of
 * ml-train's time on large data, and random reads into it miss the TLB less.
 * Only the whole 2 MB pages inside the block are advised; advice that fails
 * changes nothing.
 */
static void *advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	if (p && n >= HUGE_BLOCK) {
		uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		uintptr_t hi = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
		if (hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	}
#endif
	return p;
}

void *ml_malloc(size_t n, struct ml_err *err)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory (%zu bytes)", n);
	return advise_huge(p, n);
}

void *ml_calloc(size_t nmemb, size_t size, struct ml_err *err)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory (%zu x %zu bytes)", nmemb, size);
	return advise_huge(p, nmemb * size);	/* calloc checked the product */
}

void *ml_realloc_array(void *p, size_t nmemb, size_t size, struct ml_err *err)
{
	if (size && nmemb > SIZE_MAX / size) {
		ml_err_set(err, ML_ERR_INTERNAL, "allocation overflow (%zu x %zu bytes)", nmemb, size);
		return NULL;
	}
	size_t bytes = nmemb * size;
	void *q = realloc(p, bytes ? bytes : 1);
	if (!q)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory (%zu x %zu bytes)", nmemb, size);
	return advise_huge(q, bytes);
}

char *ml_strdup(const char *s, struct ml_err *err)
{
	char *p = strdup(s);
	if (!p)
		ml_err_set(err, ML_ERR_INTERNAL, "out of memory");
	return p;
}
