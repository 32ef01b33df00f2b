/*
 * json: JSON values for the Commands API, deployment specs and the files the
 * agent writes.  The only module that includes <cjson/cJSON.h>; callers see
 * an opaque `struct json`.
 *
 * Builders take ownership of the values they are given.  A parsed document
 * is one owned tree freed with json_free(); pointers returned by the getters
 * are borrowed from it.
 */
#ifndef CDAGENT_JSON_H
#define CDAGENT_JSON_H

#include <stddef.h>

#include "err.h"

struct json;

struct json *json_object(void);
struct json *json_array(void);
/* A string, or JSON null when s is NULL. */
struct json *json_string(const char *s);
struct json *json_number(double n);
struct json *json_bool(int b);
struct json *json_null(void);

/* Add value to obj under key (replacing an existing key); takes value. */
void json_set(struct json *obj, const char *key, struct json *value);
/* Remove key from obj and return its value, now the caller's (free it with
 * json_free()), or NULL if obj has no such key. */
struct json *json_take(struct json *obj, const char *key);
/* Append value to arr; takes value. */
void json_push(struct json *arr, struct json *value);

/* Compact text ("{"a":1}"); free with free(). */
char *json_print(const struct json *value);
void json_free(struct json *value);
/* Wipe every string value and key of a tree, then free it (for documents
 * that held a secret). */
void json_free_secret(struct json *value);

/* Parse text (which need not be NUL-terminated); name is for messages. */
int json_parse(const char *buf, size_t len, const char *name, struct json **out,
    struct err *err);

/* Object member, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
/* The string value of a member, or NULL if absent or not a string. */
const char *json_get_string(const struct json *obj, const char *key);
/* A string value's text, or NULL if value is not a string. */
const char *json_text(const struct json *value);
int json_is_null(const struct json *value);
int json_is_object(const struct json *value);
int json_is_array(const struct json *value);
int json_is_string(const struct json *value);
int json_is_number(const struct json *value);
int json_is_bool(const struct json *value);
/* A boolean's value (0 for non-booleans). */
int json_bool_value(const struct json *value);
/* A number's value (0 for non-numbers). */
double json_number_value(const struct json *value);
/* Array length and items (0 / NULL for non-arrays). */
size_t json_array_size(const struct json *arr);
const struct json *json_array_get(const struct json *arr, size_t i);
/*
 * Walk an array in constant time per item (json_array_get is linear):
 * for (it = json_array_first(arr); it != NULL; it = json_array_next(it)).
 */
const struct json *json_array_first(const struct json *arr);
const struct json *json_array_next(const struct json *item);

/* "cJSON 1.7.15". */
const char *json_lib_version(void);

#endif
