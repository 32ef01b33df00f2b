/* Unit tests for json: building, compact printing, parsing, getters. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static void
build__prints_compact_in_insertion_order(void **state)
{
	struct json *obj = json_object(), *arr = json_array();
	char *text;

	json_set(obj, "type", json_string("copy"));
	json_set(obj, "source", json_string("/a \"b\"/\xc3\xa9"));
	json_set(obj, "owner", json_string(NULL));
	json_push(arr, json_number(3));
	json_push(arr, json_bool(1));
	json_push(arr, json_null());
	json_set(obj, "list", arr);
	json_set(obj, "type", json_string("mkdir"));
	text = json_print(obj);
	assert_string_equal(text,
	    "{\"type\":\"mkdir\",\"source\":\"/a \\\"b\\\"/\xc3\xa9\","
	    "\"owner\":null,\"list\":[3,true,null]}");
	free(text);
	json_free(obj);
}

static void
parse__reads_members(void **state)
{
	const char *text =
	    "{\"a\":\"x\",\"n\":42,\"z\":null,\"l\":[1,\"two\"]}";
	struct err err = ERR_INIT;
	struct json *doc = NULL;

	assert_int_equal(
	    json_parse(text, strlen(text), "t.json", &doc, &err), 0);
	assert_string_equal(json_get_string(doc, "a"), "x");
	assert_null(json_get_string(doc, "n"));
	assert_true(json_is_number(json_get(doc, "n")));
	assert_true(json_number_value(json_get(doc, "n")) == 42);
	assert_true(json_is_null(json_get(doc, "z")));
	assert_null(json_get(doc, "missing"));
	assert_int_equal(json_array_size(json_get(doc, "l")), 2);
	assert_string_equal(
	    json_text(json_array_get(json_get(doc, "l"), 1)), "two");
	assert_null(json_array_get(json_get(doc, "l"), 5));
	json_free(doc);
}

static void
parse__invalid__names_source_and_offset(void **state)
{
	struct err err = ERR_INIT;
	struct json *doc = NULL;

	assert_int_equal(
	    json_parse("{\"a\": ]", 7, "spec.json", &doc, &err), -1);
	assert_null(doc);
	assert_int_equal(err.code, E_PARSE);
	assert_non_null(strstr(err.msg, "spec.json: invalid JSON near byte"));
}

static void
parse__not_nul_terminated__uses_length(void **state)
{
	const char buf[] = { '[', '1', ']', 'x', 'x' };
	struct err err = ERR_INIT;
	struct json *doc = NULL;

	assert_int_equal(json_parse(buf, 3, "b", &doc, &err), 0);
	assert_int_equal(json_array_size(doc), 1);
	json_free(doc);
}

static void
take__detaches_member__caller_owns_it(void **state)
{
	const char *text = "{\"a\":\"x\",\"t\":\"secret\",\"b\":true}";
	struct err err = ERR_INIT;
	struct json *doc = NULL, *taken;
	char *printed;

	assert_int_equal(
	    json_parse(text, strlen(text), "t.json", &doc, &err), 0);
	taken = json_take(doc, "t");
	assert_non_null(taken);
	assert_string_equal(json_text(taken), "secret");
	assert_null(json_take(doc, "t"));
	assert_null(json_take(doc, "missing"));
	printed = json_print(doc);
	assert_string_equal(printed, "{\"a\":\"x\",\"b\":true}");
	free(printed);
	json_free_secret(taken);
	json_free_secret(doc);
	json_free_secret(NULL);
}

static void
bool__reads_true_false_and_rejects_others(void **state)
{
	const char *text = "{\"t\":true,\"f\":false,\"n\":1,\"s\":\"true\"}";
	struct err err = ERR_INIT;
	struct json *doc = NULL;

	assert_int_equal(
	    json_parse(text, strlen(text), "t.json", &doc, &err), 0);
	assert_true(json_is_bool(json_get(doc, "t")));
	assert_true(json_bool_value(json_get(doc, "t")));
	assert_true(json_is_bool(json_get(doc, "f")));
	assert_false(json_bool_value(json_get(doc, "f")));
	assert_false(json_is_bool(json_get(doc, "n")));
	assert_false(json_bool_value(json_get(doc, "n")));
	assert_false(json_is_bool(json_get(doc, "s")));
	assert_false(json_bool_value(json_get(doc, "s")));
	assert_false(json_is_bool(NULL));
	json_free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(build__prints_compact_in_insertion_order),
		cmocka_unit_test(parse__reads_members),
		cmocka_unit_test(parse__invalid__names_source_and_offset),
		cmocka_unit_test(parse__not_nul_terminated__uses_length),
		cmocka_unit_test(take__detaches_member__caller_owns_it),
		cmocka_unit_test(bool__reads_true_false_and_rejects_others),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
