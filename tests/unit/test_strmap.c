/* Unit tests for strmap: put, replace, lookup, growth. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "strmap.h"

static void
put_get__replaces_and_finds(void **state)
{
	struct strmap map;
	long v = 0;

	strmap_init(&map);
	assert_false(strmap_get(&map, "a", &v));
	strmap_put(&map, "a", 1);
	strmap_put(&map, "b", 2);
	strmap_put(&map, "a", 3);
	assert_int_equal(map.n, 2);
	assert_true(strmap_get(&map, "a", &v));
	assert_int_equal(v, 3);
	assert_true(strmap_get(&map, "b", NULL));
	assert_false(strmap_get(&map, "c", NULL));
	strmap_clear(&map);
	assert_false(strmap_get(&map, "a", NULL));
}

static void
many_keys__all_found(void **state)
{
	struct strmap map;
	char key[32];
	long v;
	int i;

	strmap_init(&map);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "/srv/app/file-%d", i);
		strmap_put(&map, key, i);
	}
	assert_int_equal(map.n, 20000);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "/srv/app/file-%d", i);
		assert_true(strmap_get(&map, key, &v));
		assert_int_equal(v, i);
	}
	assert_false(strmap_get(&map, "/srv/app/file-20000", NULL));
	strmap_clear(&map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get__replaces_and_finds),
		cmocka_unit_test(many_keys__all_found),
	};

	return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
