/* Unit tests for ytree: tree shape, positions, YAML 1.1 typing, limits. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xalloc.h"
#include "ytree.h"

static struct ytree *
parse_ok(const char *text)
{
	struct err err = ERR_INIT;
	struct ytree *doc = NULL;

	if (ytree_parse(text, strlen(text), "t.yml", &doc, &err) < 0)
		fail_msg("parse failed: %s", err.msg);
	return doc;
}

static void
parse__mapping_with_positions(void **state)
{
	struct ytree *doc = parse_ok("version: 0.0\nos: linux\nfiles:\n"
				     "  - source: /\n    destination: /srv\n");
	const struct ytree *files, *first;

	assert_int_equal(doc->kind, YTREE_MAP);
	assert_int_equal(doc->n, 3);
	assert_string_equal(ytree_key(doc, 1)->value, "os");
	assert_int_equal(ytree_key(doc, 1)->line, 2);
	files = ytree_get(doc, "files");
	assert_non_null(files);
	assert_int_equal(files->kind, YTREE_SEQ);
	assert_int_equal(files->n, 1);
	first = files->child[0];
	assert_string_equal(ytree_get(first, "destination")->value, "/srv");
	assert_int_equal(ytree_get(first, "destination")->line, 5);
	assert_int_equal(ytree_get(first, "destination")->col, 18);
	assert_null(ytree_get(doc, "hooks"));
	ytree_free(doc);
}

static void
get__duplicate_keys__last_wins(void **state)
{
	struct ytree *doc = parse_ok("a: 1\nb: 2\na: 3\n");

	assert_string_equal(ytree_get(doc, "a")->value, "3");
	ytree_free(doc);
}

static void
to_int__yaml11_forms(void **state)
{
	struct ytree *doc = parse_ok("dec: 1_000\noct: 0644\nhex: 0x1F\n"
				     "bin: 0b101\nneg: -12\no: 0o17\n"
				     "bad8: 08\nbig: 99999999999999999999\n"
				     "quoted: '0644'\nzero: 0\n");
	long long v;

	assert_int_equal(ytree_to_int(ytree_get(doc, "dec"), &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(ytree_to_int(ytree_get(doc, "oct"), &v), 0);
	assert_int_equal(v, 0644);
	assert_int_equal(ytree_to_int(ytree_get(doc, "hex"), &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(ytree_to_int(ytree_get(doc, "bin"), &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(ytree_to_int(ytree_get(doc, "neg"), &v), 0);
	assert_int_equal(v, -12);
	assert_int_equal(ytree_to_int(ytree_get(doc, "o"), &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(ytree_to_int(ytree_get(doc, "zero"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ytree_to_int(ytree_get(doc, "bad8"), &v), -1);
	assert_int_equal(ytree_to_int(ytree_get(doc, "big"), &v), -1);
	assert_int_equal(ytree_to_int(ytree_get(doc, "quoted"), &v), -1);
	assert_true(ytree_is_string(ytree_get(doc, "quoted")));
	assert_false(ytree_is_string(ytree_get(doc, "oct")));
	ytree_free(doc);
}

static void
to_bool_and_null__yaml11_words(void **state)
{
	struct ytree *doc = parse_ok("a: yes\nb: Off\nc: TRUE\nd: 'true'\n"
				     "e: ~\nf:\ng: null\nh: y\n");
	int b = -1;

	assert_int_equal(ytree_to_bool(ytree_get(doc, "a"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ytree_to_bool(ytree_get(doc, "b"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(ytree_to_bool(ytree_get(doc, "c"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ytree_to_bool(ytree_get(doc, "d"), &b), -1);
	assert_int_equal(ytree_to_bool(ytree_get(doc, "h"), &b), -1);
	assert_true(ytree_is_null(ytree_get(doc, "e")));
	assert_true(ytree_is_null(ytree_get(doc, "f")));
	assert_true(ytree_is_null(ytree_get(doc, "g")));
	assert_false(ytree_is_null(ytree_get(doc, "d")));
	assert_string_equal(ytree_describe(ytree_get(doc, "a")), "a boolean");
	assert_string_equal(ytree_describe(ytree_get(doc, "d")), "a string");
	ytree_free(doc);
}

static void
explicit_tags__override_implicit_typing(void **state)
{
	struct ytree *doc = parse_ok("a: !!str 0644\nb: !!int '17'\n");
	long long v;

	assert_true(ytree_is_string(ytree_get(doc, "a")));
	assert_int_equal(ytree_to_int(ytree_get(doc, "a"), &v), -1);
	assert_int_equal(ytree_to_int(ytree_get(doc, "b"), &v), 0);
	assert_int_equal(v, 17);
	ytree_free(doc);
}

static void
symbol_style_keys__parse_with_colon(void **state)
{
	struct ytree *doc = parse_ok(":log_dir: '/var/log/x'\n:proxy_uri:\n"
				     ":verbose: false\n");

	assert_int_equal(doc->n, 3);
	assert_string_equal(ytree_key(doc, 0)->value, ":log_dir");
	assert_string_equal(ytree_value(doc, 0)->value, "/var/log/x");
	assert_true(ytree_is_null(ytree_value(doc, 1)));
	ytree_free(doc);
}

static void
aliases__copied(void **state)
{
	struct ytree *doc = parse_ok("base: &b {timeout: 30, runas: app}\n"
				     "hook: *b\n");
	const struct ytree *hook = ytree_get(doc, "hook");

	assert_int_equal(hook->kind, YTREE_MAP);
	assert_string_equal(ytree_get(hook, "runas")->value, "app");
	ytree_free(doc);
}

static void
parse_error__names_line_and_column(void **state)
{
	const char *text = "a: 1\nb: [1, 2\nc: 3\n";
	struct err err = ERR_INIT;
	struct ytree *doc = NULL;

	assert_int_equal(
	    ytree_parse(text, strlen(text), "appspec.yml", &doc, &err), -1);
	assert_null(doc);
	assert_int_equal(err.code, E_PARSE);
	assert_non_null(strstr(err.msg, "appspec.yml:"));
	assert_non_null(strstr(err.msg, ":3:"));
}

static void
parse_error__tab_indent__reported(void **state)
{
	const char *text = "a:\n\t- b\n";
	struct err err = ERR_INIT;
	struct ytree *doc = NULL;

	assert_int_equal(
	    ytree_parse(text, strlen(text), "x.yml", &doc, &err), -1);
	assert_non_null(strstr(err.msg, "x.yml:2:"));
}

static void
empty_document__yields_null(void **state)
{
	struct err err = ERR_INIT;
	struct ytree *doc = (struct ytree *)&err;

	assert_int_equal(ytree_parse("", 0, "e.yml", &doc, &err), 0);
	assert_null(doc);
	assert_int_equal(
	    ytree_parse("# only a comment\n", 17, "e.yml", &doc, &err), 0);
	assert_null(doc);
}

static void
multiple_documents__first_taken(void **state)
{
	struct ytree *doc = parse_ok("a: 1\n---\nb: 2\n");

	assert_non_null(ytree_get(doc, "a"));
	assert_null(ytree_get(doc, "b"));
	ytree_free(doc);
}

static void
deep_nesting__limited(void **state)
{
	char text[400];
	struct err err = ERR_INIT;
	struct ytree *doc = NULL;
	size_t i;

	for (i = 0; i < 100; i++)
		text[i] = '[';
	for (i = 100; i < 200; i++)
		text[i] = ']';
	text[200] = '\0';
	assert_int_equal(
	    ytree_parse(text, strlen(text), "d.yml", &doc, &err), -1);
	assert_int_equal(err.code, E_LIMIT);
}

static void
alias_bomb__limited(void **state)
{
	const char *text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
	struct err err = ERR_INIT;
	struct ytree *doc = NULL;

	assert_int_equal(
	    ytree_parse(text, strlen(text), "bomb.yml", &doc, &err), -1);
	assert_null(doc);
	assert_int_equal(err.code, E_LIMIT);
}

static void
block_scalar__is_string(void **state)
{
	struct ytree *doc = parse_ok("a: |\n  12\n");

	assert_true(ytree_is_string(ytree_get(doc, "a")));
	assert_string_equal(ytree_get(doc, "a")->value, "12\n");
	ytree_free(doc);
}

/* libyaml gives reader errors as a byte offset only: the message names the
 * real line and column (characters), not 1:1. */
static void
parse__invalid_utf8__real_line_and_column(void **state)
{
	static const struct {
		const char *text;
		const char *where;
	} cases[] = {
		{ "version: 0.0\nos: linux\nhooks: caf\xe9\n", "t.yml:3:11: " },
		{ "a: 1\nb: \xc3\xa9\xc3\xa9 \xff\n", "t.yml:2:7: " },
		{ "\xef\xbb\xbf"
		  "a: \xc0\n",
		    "t.yml:1:4: " },
		{ "a: 1\r\nb: 2\r\nc: x\x01\n", "t.yml:3:5: " },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err err = ERR_INIT;
		struct ytree *doc = NULL;

		assert_int_equal(
		    ytree_parse(cases[i].text, strlen(cases[i].text), "t.yml",
			&doc, &err),
		    -1);
		if (strncmp(err.msg, cases[i].where, strlen(cases[i].where)) !=
		    0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_non_null(strstr(err.msg, "UTF-8"));
		assert_null(doc);
	}
}

static void
text_to_bool_and_int__any_quoting_decimal_only(void **state)
{
	int b = -1;
	long long i = -1;

	(void)state;
	assert_int_equal(ytree_text_to_bool("YES", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ytree_text_to_bool("Off", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(ytree_text_to_bool("y", &b), -1);
	assert_int_equal(ytree_text_to_bool("", &b), -1);
	assert_int_equal(ytree_text_to_int("010", &i), 0);
	assert_int_equal(i, 10);
	assert_int_equal(ytree_text_to_int("9223372036854775807", &i), 0);
	assert_true(i == 9223372036854775807LL);
	assert_int_equal(ytree_text_to_int("9223372036854775808", &i), -1);
	assert_int_equal(ytree_text_to_int("+5", &i), -1);
	assert_int_equal(ytree_text_to_int("-5", &i), -1);
	assert_int_equal(ytree_text_to_int("0x5", &i), -1);
	assert_int_equal(ytree_text_to_int("5_0", &i), -1);
	assert_int_equal(ytree_text_to_int("", &i), -1);
	assert_true(i == 9223372036854775807LL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse__mapping_with_positions),
		cmocka_unit_test(get__duplicate_keys__last_wins),
		cmocka_unit_test(to_int__yaml11_forms),
		cmocka_unit_test(to_bool_and_null__yaml11_words),
		cmocka_unit_test(
		    text_to_bool_and_int__any_quoting_decimal_only),
		cmocka_unit_test(explicit_tags__override_implicit_typing),
		cmocka_unit_test(symbol_style_keys__parse_with_colon),
		cmocka_unit_test(aliases__copied),
		cmocka_unit_test(parse_error__names_line_and_column),
		cmocka_unit_test(parse_error__tab_indent__reported),
		cmocka_unit_test(empty_document__yields_null),
		cmocka_unit_test(multiple_documents__first_taken),
		cmocka_unit_test(deep_nesting__limited),
		cmocka_unit_test(alias_bomb__limited),
		cmocka_unit_test(block_scalar__is_string),
		cmocka_unit_test(parse__invalid_utf8__real_line_and_column),
	};

	return cmocka_run_group_tests_name("ytree", tests, NULL, NULL);
}
