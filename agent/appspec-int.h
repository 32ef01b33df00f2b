/*
 * appspec internals shared by appspec.c (document, files, loading, glob),
 * appspec-hooks.c (hooks and scripts) and appspec-perm.c (permissions:
 * mode, ACLs, SELinux context).  Not for
 * other modules: they use appspec.h.
 */
#ifndef CDAGENT_APPSPEC_INT_H
#define CDAGENT_APPSPEC_INT_H

#include <stddef.h>

#include "appspec.h"
#include "err.h"
#include "ytree.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Longest piece of user text quoted in a message (then "..."). */
#define APPSPEC_SHOW_MAX 48
/* Room for a key path such as "hooks.<event>[12].timeout". */
#define APPSPEC_PATH_MAX 160
/* Warnings kept; later ones are counted into one last line. */
#define APPSPEC_MAX_WARNINGS 64

struct appspec_parser {
	const char *name;     /* file name for messages ("appspec.yml") */
	struct appspec *spec; /* being filled; warnings are added to it */
	struct err *err;
	size_t nsuppressed; /* warnings over APPSPEC_MAX_WARNINGS */
};

/*
 * Fail at node at: fill err with "<name>:LINE:COL: <path>: <message>" and
 * return -1.
 */
int appspec_fail(struct appspec_parser *p, const struct ytree *at,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * buf (APPSPEC_PATH_MAX bytes) = parent followed by a formatted suffix
 * (".timeout", "[3]"), cut to fit.
 */
void appspec_subpath(char *buf, const char *parent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add "<name>:LINE:COL: <path>: <message>" to the spec's warnings. */
void appspec_warn(struct appspec_parser *p, const struct ytree *at,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * A printable, shortened copy of user text for messages: control bytes
 * become '?', more than APPSPEC_SHOW_MAX bytes end in "...".  Returns buf,
 * which must hold APPSPEC_SHOW_MAX + 4 bytes.
 */
const char *appspec_show(const char *s, char *buf);

/* Whether node is a scalar whose text is exactly name (NULs count). */
int appspec_scalar_is(const struct ytree *node, const char *name);

/* The value of the last pair of map whose key is name, or NULL. */
const struct ytree *appspec_map_get(const struct ytree *map, const char *name);

/*
 * Warn about keys of map that are not in known[] (each with its position
 * and a suggestion when one is close).  path names the map ("" for the
 * top level).
 */
void appspec_warn_unknown_keys(struct appspec_parser *p,
    const struct ytree *map, const char *path, const char *const *known,
    size_t nknown);

/*
 * The text of a string-valued key.  Null (or an absent node) gives *out
 * NULL.  A mapping, a list or text holding a NUL byte is an error naming
 * path and saying hint (what is allowed).  With strip, leading and
 * trailing white space is removed.  Free *out with free().
 */
int appspec_get_text(struct appspec_parser *p, const struct ytree *node,
    const char *path, const char *hint, int strip, char **out);

/*
 * A list section whose items are mappings (files, permissions, a hook's
 * scripts): what to say when the value or an item has the wrong kind, the
 * keys an item may have, and how one item of `size` bytes is parsed.
 */
struct appspec_list {
	const char *list_hint; /* after "is <kind>; ": "give a list of ..." */
	const char
	    *item_hint; /* likewise: "each entry must be a mapping ..." */
	const char *const *keys;
	size_t nkeys;
	size_t size;
	int (*parse)(struct appspec_parser *p, const struct ytree *item,
	    const char *path, void *out);
};

/*
 * Parse the list node at path into a new array of list->size-byte items
 * (*items, with *nitems counted before each item is parsed, so that a
 * failed one is freed with the rest).  Null (or NULL) is no items.  An item
 * that is a mapping is checked for unknown keys, then given to
 * list->parse.
 */
int appspec_parse_list(struct appspec_parser *p, const struct ytree *node,
    const char *path, const struct appspec_list *list, void **items,
    size_t *nitems);

/* The closest of names to word (edit distance, case-insensitive), or NULL. */
const char *appspec_suggest(
    const char *word, const char *const *names, size_t nnames);

/* Parse the top-level `hooks` value (node may be NULL) into p->spec. */
int appspec_parse_hooks(struct appspec_parser *p, const struct ytree *node,
    const struct appspec_opts *opts);

/* Parse the top-level `permissions` value (node may be NULL) into p->spec. */
int appspec_parse_permissions(
    struct appspec_parser *p, const struct ytree *node);

/* Free what a permission owns. */
void appspec_permission_clear(struct appspec_permission *perm);

#endif
