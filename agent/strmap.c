/* strmap: open addressing with linear probing, FNV-1a hashing. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xalloc.h"

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
strmap_init(struct strmap *map)
{
	memset(map, 0, sizeof(*map));
}

void
strmap_init_borrowed(struct strmap *map)
{
	strmap_init(map);
	map->borrowed = 1;
}

void
strmap_clear(struct strmap *map)
{
	int borrowed = map->borrowed;
	size_t i;

	for (i = 0; i < map->cap && !borrowed; i++)
		free(map->keys[i]);
	free(map->keys);
	free(map->values);
	strmap_init(map);
	map->borrowed = borrowed;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
find_slot(const struct strmap *map, const char *key)
{
	size_t mask = map->cap - 1, i = (size_t)hash(key) & mask;

	while (map->keys[i] != NULL && strcmp(map->keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

static void
grow(struct strmap *map)
{
	struct strmap bigger;
	size_t i;

	bigger.cap = map->cap == 0 ? 64 : map->cap * 2;
	bigger.n = map->n;
	bigger.borrowed = map->borrowed;
	bigger.keys = xcalloc(bigger.cap, sizeof(*bigger.keys));
	bigger.values = xcalloc(bigger.cap, sizeof(*bigger.values));
	for (i = 0; i < map->cap; i++) {
		size_t slot;

		if (map->keys[i] == NULL)
			continue;
		slot = find_slot(&bigger, map->keys[i]);
		bigger.keys[slot] = map->keys[i];
		bigger.values[slot] = map->values[i];
	}
	free(map->keys);
	free(map->values);
	*map = bigger;
}

void
strmap_put(struct strmap *map, const char *key, long value)
{
	size_t slot;

	if ((map->n + 1) * 4 > map->cap * 3)
		grow(map);
	slot = find_slot(map, key);
	if (map->keys[slot] == NULL) {
		/* borrowed keys are never written through */
		map->keys[slot] =
		    map->borrowed ? (char *)(uintptr_t)key : xstrdup(key);
		map->n++;
	}
	map->values[slot] = value;
}

int
strmap_get(const struct strmap *map, const char *key, long *value)
{
	size_t slot;

	if (map->cap == 0)
		return 0;
	slot = find_slot(map, key);
	if (map->keys[slot] == NULL)
		return 0;
	if (value != NULL)
		*value = map->values[slot];
	return 1;
}
