/* json: cJSON behind an opaque type, so no caller depends on cJSON. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "xalloc.h"

/* struct json is never defined: a struct json * is a cJSON * in disguise. */
static cJSON *
cj(const struct json *v)
{
	return (cJSON *)(uintptr_t)v;
}

static struct json *
wrap(cJSON *c)
{
	if (c == NULL) {
		xalloc_fail("out of memory building JSON");
	}
	return (struct json *)c;
}

const char *
json_lib_version(void)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "cJSON %s", cJSON_Version());
	return buf;
}

struct json *
json_object(void)
{
	return wrap(cJSON_CreateObject());
}

struct json *
json_array(void)
{
	return wrap(cJSON_CreateArray());
}

struct json *
json_string(const char *s)
{
	return wrap(s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull());
}

struct json *
json_number(double n)
{
	return wrap(cJSON_CreateNumber(n));
}

struct json *
json_bool(int b)
{
	return wrap(cJSON_CreateBool(b != 0));
}

struct json *
json_null(void)
{
	return wrap(cJSON_CreateNull());
}

void
json_set(struct json *obj, const char *key, struct json *value)
{
	if (cJSON_GetObjectItemCaseSensitive(cj(obj), key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(cj(obj), key, cj(value));
	else
		cJSON_AddItemToObject(cj(obj), key, cj(value));
}

struct json *
json_take(struct json *obj, const char *key)
{
	if (obj == NULL || !cJSON_IsObject(cj(obj)))
		return NULL;
	return (struct json *)cJSON_DetachItemFromObjectCaseSensitive(
	    cj(obj), key);
}

void
json_push(struct json *arr, struct json *value)
{
	cJSON_AddItemToArray(cj(arr), cj(value));
}

char *
json_print(const struct json *value)
{
	char *text = cJSON_PrintUnformatted(cj(value));

	if (text == NULL) {
		xalloc_fail("out of memory printing JSON");
	}
	return text;
}

void
json_free(struct json *value)
{
	cJSON_Delete(cj(value));
}

/* Zero the strings of a cJSON tree in place. */
static void
wipe_tree(cJSON *node)
{
	for (; node != NULL; node = node->next) {
		if (node->string != NULL)
			explicit_bzero(node->string, strlen(node->string));
		if (cJSON_IsString(node) && node->valuestring != NULL)
			explicit_bzero(
			    node->valuestring, strlen(node->valuestring));
		wipe_tree(node->child);
	}
}

void
json_free_secret(struct json *value)
{
	if (value == NULL)
		return;
	wipe_tree(cj(value)); /* a whole document has no siblings */
	cJSON_Delete(cj(value));
}

int
json_parse(const char *buf, size_t len, const char *name, struct json **out,
    struct err *err)
{
	const char *end = NULL;
	cJSON *root;

	*out = NULL;
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL) {
		size_t off =
		    end != NULL && end >= buf ? (size_t)(end - buf) : 0;

		return err_set(
		    err, E_PARSE, "%s: invalid JSON near byte %zu", name, off);
	}
	*out = (struct json *)root;
	return 0;
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	if (obj == NULL || !cJSON_IsObject(cj(obj)))
		return NULL;
	return (const struct json *)cJSON_GetObjectItemCaseSensitive(
	    cj(obj), key);
}

const char *
json_get_string(const struct json *obj, const char *key)
{
	return json_text(json_get(obj, key));
}

const char *
json_text(const struct json *value)
{
	if (value == NULL || !cJSON_IsString(cj(value)))
		return NULL;
	return cj(value)->valuestring;
}

int
json_is_null(const struct json *value)
{
	return value != NULL && cJSON_IsNull(cj(value));
}

int
json_is_object(const struct json *value)
{
	return value != NULL && cJSON_IsObject(cj(value));
}

int
json_is_array(const struct json *value)
{
	return value != NULL && cJSON_IsArray(cj(value));
}

int
json_is_string(const struct json *value)
{
	return value != NULL && cJSON_IsString(cj(value));
}

int
json_is_number(const struct json *value)
{
	return value != NULL && cJSON_IsNumber(cj(value));
}

int
json_is_bool(const struct json *value)
{
	return value != NULL && cJSON_IsBool(cj(value));
}

int
json_bool_value(const struct json *value)
{
	return value != NULL && cJSON_IsTrue(cj(value));
}

double
json_number_value(const struct json *value)
{
	return json_is_number(value) ? cj(value)->valuedouble : 0;
}

size_t
json_array_size(const struct json *arr)
{
	if (!json_is_array(arr))
		return 0;
	return (size_t)cJSON_GetArraySize(cj(arr));
}

const struct json *
json_array_get(const struct json *arr, size_t i)
{
	if (!json_is_array(arr))
		return NULL;
	return (const struct json *)cJSON_GetArrayItem(cj(arr), (int)i);
}

const struct json *
json_array_first(const struct json *arr)
{
	if (!json_is_array(arr))
		return NULL;
	return (const struct json *)cj(arr)->child;
}

const struct json *
json_array_next(const struct json *item)
{
	return item == NULL ? NULL : (const struct json *)cj(item)->next;
}
