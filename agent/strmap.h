/*
 * strmap: a hash map from strings to small integers, for path sets that must
 * stay fast at tens of thousands of entries (install targets, cleanup
 * lists).  Keys are copied.
 */
#ifndef CDAGENT_STRMAP_H
#define CDAGENT_STRMAP_H

#include <stddef.h>

struct strmap {
	char **keys;
	long *values;
	size_t cap; /* a power of two, or 0 */
	size_t n;
	int borrowed; /* keys belong to the caller: not copied, not freed */
};

void strmap_init(struct strmap *map);
/* A map whose keys the caller keeps alive for the map's lifetime. */
void strmap_init_borrowed(struct strmap *map);
void strmap_clear(struct strmap *map);

/* Insert or replace key -> value. */
void strmap_put(struct strmap *map, const char *key, long value);
/* Whether key is present; its value in *value when value is not NULL. */
int strmap_get(const struct strmap *map, const char *key, long *value);

#endif
