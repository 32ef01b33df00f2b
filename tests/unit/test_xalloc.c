/* Unit tests for xalloc: formatting helpers, overflow aborts, secret wipe. */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "xalloc.h"

static void
asprintf__formats(void **state)
{
	char *s = xasprintf("%s-%d", "d", 42);

	assert_string_equal(s, "d-42");
	free(s);
}

static void
strndup__stops_at_n_or_nul(void **state)
{
	char *a = xstrndup("abcdef", 3);
	char *b = xstrndup("ab", 10);

	assert_string_equal(a, "abc");
	assert_string_equal(b, "ab");
	free(a);
	free(b);
}

static void
zero_sizes__return_usable_pointers(void **state)
{
	void *a = xmalloc(0), *b = xcalloc(0, 8), *c = xrealloc(NULL, 0);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	free(a);
	free(b);
	free(c);
}

static void
reallocarray__overflow__aborts(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		close(2); /* keep the expected message out of the test log */
		xreallocarray(NULL, SIZE_MAX / 2, 4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void
free_secret__null__is_noop(void **state)
{
	xfree_secret(NULL, 10);
	xfree_secret_str(NULL);
}

/*
 * free() is wrapped (-Wl,--wrap=free): the block at `watched` is copied
 * into `seen` just before it is freed, so a test can see what was left in
 * it.
 */
void __real_free(void *ptr);
void __wrap_free(void *ptr);
static const void *watched;
static size_t watched_len;
static unsigned char seen[64];
static int watched_freed;

void
__wrap_free(void *ptr)
{
	if (ptr != NULL && ptr == watched) {
		memcpy(seen, ptr, watched_len);
		watched_freed = 1;
		watched = NULL;
	}
	__real_free(ptr);
}

static void
watch(const void *ptr, size_t len)
{
	assert_true(len <= sizeof(seen));
	memset(seen, 0xa5, sizeof(seen));
	watched = ptr;
	watched_len = len;
	watched_freed = 0;
}

static void
free_secret_str__wipes_then_frees(void **state)
{
	static const char secret[] = "wJalrXUtnFEMI/K7MDENG";
	static const unsigned char zeros[sizeof(secret)];
	char *s = xstrdup(secret);

	watch(s, sizeof(secret));
	xfree_secret_str(s);
	assert_true(watched_freed);
	assert_memory_equal(seen, zeros, sizeof(secret));
}

static void
free_secret__wipes_len_bytes_then_frees(void **state)
{
	static const unsigned char zeros[24];
	unsigned char *s = xmalloc(32);

	memset(s, 'k', 32);
	watch(s, 32);
	xfree_secret(s, 24);
	assert_true(watched_freed);
	assert_memory_equal(seen, zeros, 24);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(asprintf__formats),
		cmocka_unit_test(strndup__stops_at_n_or_nul),
		cmocka_unit_test(zero_sizes__return_usable_pointers),
		cmocka_unit_test(reallocarray__overflow__aborts),
		cmocka_unit_test(free_secret__null__is_noop),
		cmocka_unit_test(free_secret_str__wipes_then_frees),
		cmocka_unit_test(free_secret__wipes_len_bytes_then_frees),
	};

	return cmocka_run_group_tests_name("xalloc", tests, NULL, NULL);
}
