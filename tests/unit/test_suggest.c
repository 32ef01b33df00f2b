/* Unit tests for suggest: edit distance and the closest known name. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "suggest.h"

static void
distance__insert_delete_substitute__one_each(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("", "", 0), 0);
	assert_int_equal(suggest_distance("abc", "abc", 0), 0);
	assert_int_equal(suggest_distance("abc", "abxc", 0), 1);
	assert_int_equal(suggest_distance("abxc", "abc", 0), 1);
	assert_int_equal(suggest_distance("abc", "abd", 0), 1);
	assert_int_equal(suggest_distance("", "four", 0), 4);
	assert_int_equal(suggest_distance("kitten", "sitting", 0), 3);
	assert_int_equal(suggest_distance("flaw", "lawn", 0), 2);
}

static void
distance__fold_case__letters_match_either_case(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("Hooks", "hooks", 0), 1);
	assert_int_equal(
	    suggest_distance("Hooks", "hooks", SUGGEST_FOLD_CASE), 0);
	assert_int_equal(suggest_distance("BEFOREinstall", "BeforeInstall",
			     SUGGEST_FOLD_CASE),
	    0);
	assert_int_equal(suggest_distance("a-b", "A_B", SUGGEST_FOLD_CASE), 1);
}

static void
distance__word_of_64_bytes__no_answer(void **state)
{
	char long_word[65];

	(void)state;
	memset(long_word, 'a', 63);
	long_word[63] = '\0';
	assert_int_equal(suggest_distance(long_word, "a", 0), 62);
	long_word[63] = 'a';
	long_word[64] = '\0';
	assert_int_equal(suggest_distance(long_word, "a", 0), SIZE_MAX);
	assert_int_equal(suggest_distance("a", long_word, 0), SIZE_MAX);
}

static void
closest__within_limit__first_best_name(void **state)
{
	static const char *const names[] = { "files", "hooks", "permissions",
		"os", "version" };

	(void)state;
	assert_string_equal(suggest_closest("hook", names, 5, 3, 0), "hooks");
	assert_string_equal(
	    suggest_closest("premissions", names, 5, 3, 0), "permissions");
	/* "fooks" is one edit from "hooks" and two from "files" */
	assert_string_equal(suggest_closest("fooks", names, 5, 3, 0), "hooks");
	/* a tie goes to the first name */
	assert_string_equal(suggest_closest("xs", names, 5, 1, 0), "os");
	assert_null(suggest_closest("versionxyz", names, 5, 2, 0));
	assert_string_equal(
	    suggest_closest("versionxyz", names, 5, 3, 0), "version");
	assert_null(suggest_closest("hooks", names, 0, 3, 0));
	assert_null(suggest_closest("HOOK", names, 5, 3, 0));
	assert_string_equal(
	    suggest_closest("HOOK", names, 5, 1, SUGGEST_FOLD_CASE), "hooks");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(distance__insert_delete_substitute__one_each),
		cmocka_unit_test(
		    distance__fold_case__letters_match_either_case),
		cmocka_unit_test(distance__word_of_64_bytes__no_answer),
		cmocka_unit_test(closest__within_limit__first_best_name),
	};

	return cmocka_run_group_tests_name("suggest", tests, NULL, NULL);
}
