/*
 * buf.h - a growable byte buffer with a cap (after curl's dynbuf).
 *
 * Every buffer that grows with input has a limit, so a 2 GB line is a clear
 * error rather than an out-of-memory kill.  The content is always
 * NUL-terminated (the terminator is not counted in len).
 *
 *     struct ml_buf b;
 *     ml_buf_init(&b, 1 << 20);
 *     if (ml_buf_add(&b, s, n) < 0) ... too big or no memory ...
 *     use(b.data, b.len);
 *     ml_buf_release(&b);
 */
#ifndef MLPIPE_BUF_H
#define MLPIPE_BUF_H

#include <stddef.h>

struct ml_buf {
	char *data;		/* NULL until the first add */
	size_t len;
	size_t alloc;
	size_t cap;		/* most bytes len may reach */
};

void ml_buf_init(struct ml_buf *b, size_t cap);
void ml_buf_release(struct ml_buf *b);
/* Return 0, or -1 with errno = E2BIG (cap reached) or ENOMEM. */
int ml_buf_add(struct ml_buf *b, const void *p, size_t n);
int ml_buf_addc(struct ml_buf *b, char c);
int ml_buf_adds(struct ml_buf *b, const char *s);
int ml_buf_printf(struct ml_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Make room for n more bytes without changing len. */
int ml_buf_grow(struct ml_buf *b, size_t n);
void ml_buf_reset(struct ml_buf *b);	/* len = 0, keeps memory */
/* Hand the NUL-terminated data to the caller (free() it) and reset b. */
char *ml_buf_detach(struct ml_buf *b);

/* Allocation that reports failure through err rather than aborting. */
struct ml_err;
void *ml_malloc(size_t n, struct ml_err *err);
void *ml_calloc(size_t nmemb, size_t size, struct ml_err *err);
void *ml_realloc_array(void *p, size_t nmemb, size_t size, struct ml_err *err);
char *ml_strdup(const char *s, struct ml_err *err);

#endif
