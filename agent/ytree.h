/*
 * ytree: YAML documents as one owned tree with line and column numbers.
 *
 * The only module that includes <yaml.h>.  Scalars keep their text and
 * whether they were quoted, so callers can apply YAML 1.1 implicit typing
 * (Psych's, which AWS's agent used) with the helpers below: a quoted "0644"
 * is a string, a plain 0644 is the octal integer 420.
 */
#ifndef CDAGENT_YTREE_H
#define CDAGENT_YTREE_H

#include <stddef.h>

#include "err.h"

enum ytree_kind {
	YTREE_SCALAR,
	YTREE_MAP,
	YTREE_SEQ,
};

enum ytree_style {
	YTREE_PLAIN,  /* unquoted: subject to implicit typing */
	YTREE_QUOTED, /* '...' or "...": always a string */
	YTREE_BLOCK,  /* | or >: always a string */
};

struct ytree {
	enum ytree_kind kind;
	enum ytree_style style;
	char *tag;     /* explicit tag ("tag:yaml.org,2002:str") or NULL */
	char *value;   /* scalar text, NUL-terminated */
	size_t len;    /* scalar length (the text may hold NULs) */
	unsigned line; /* 1-based position of the node's start */
	unsigned col;
	/* SEQ: n items.  MAP: n pairs, child[2i] key, child[2i+1] value. */
	size_t n;
	struct ytree **child;
};

/* Limits that stop hostile documents (deep nesting, alias bombs). */
#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_NODES 200000

/*
 * Parse the first document of buf.  name is used in error messages
 * ("appspec.yml:3:5: ...").  An empty document yields *out == NULL.
 */
int ytree_parse(const char *buf, size_t len, const char *name,
    struct ytree **out, struct err *err);
void ytree_free(struct ytree *node);

/* libyaml's version string. */
const char *ytree_lib_version(void);

/* Map access: pair i's key and value. */
const struct ytree *ytree_key(const struct ytree *map, size_t i);
const struct ytree *ytree_value(const struct ytree *map, size_t i);
/* The value of the last pair whose key is the scalar name, or NULL. */
const struct ytree *ytree_get(const struct ytree *map, const char *name);

/* YAML 1.1 null: no node, or plain "", "~", "null", "Null", "NULL". */
int ytree_is_null(const struct ytree *node);
/* Plain scalar true/yes/on or false/no/off in any case; 0 or -1. */
int ytree_to_bool(const struct ytree *node, int *out);
/* The words ytree_to_bool() takes, in any text (a quoted "yes"). */
int ytree_text_to_bool(const char *text, int *out);
/*
 * Decimal digits only, no sign or separator (a quoted "5"; "010" is ten),
 * within long long; 0 or -1.
 */
int ytree_text_to_int(const char *text, long long *out);
/*
 * Plain scalar integer as YAML 1.1 reads it: decimal, 0-prefixed octal,
 * 0o octal, 0x hex, 0b binary, '_' separators, optional sign; 0 or -1.
 */
int ytree_to_int(const struct ytree *node, long long *out);
/* Whether the node is a scalar that implicit typing leaves a string. */
int ytree_is_string(const struct ytree *node);
/* "mapping", "sequence", "string", "integer", "boolean", "null", ... */
const char *ytree_describe(const struct ytree *node);

#endif
