/* ytree: libyaml events folded into one owned tree, plus YAML 1.1 typing. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "xalloc.h"
#include "ytree.h"

struct anchor {
	char *name;
	const struct ytree *node;
};

struct builder {
	yaml_parser_t parser;
	const char *name;
	const char *buf; /* the input, for the position of a reader error */
	size_t len;
	size_t nodes;
	struct anchor *anchors;
	size_t nanchors;
	struct err *err;
};

const char *
ytree_lib_version(void)
{
	return yaml_get_version_string();
}

void
ytree_free(struct ytree *node)
{
	size_t i, count;

	if (node == NULL)
		return;
	count = node->kind == YTREE_MAP ? node->n * 2 : node->n;
	for (i = 0; i < count; i++)
		ytree_free(node->child[i]);
	free(node->child);
	free(node->tag);
	free(node->value);
	free(node);
}

static int
count_node(struct builder *b, unsigned line, unsigned col)
{
	if (++b->nodes > YTREE_MAX_NODES)
		return err_set(b->err, E_LIMIT,
		    "%s:%u:%u: document has more than %d nodes", b->name, line,
		    col, YTREE_MAX_NODES);
	return 0;
}

/* Deep copy for an alias, counted against the node limit. */
static struct ytree *
copy_tree(struct builder *b, const struct ytree *src)
{
	struct ytree *dst;
	size_t i, count;

	if (count_node(b, src->line, src->col) < 0)
		return NULL;
	count = src->kind == YTREE_MAP ? src->n * 2 : src->n;
	dst = xcalloc(1, sizeof(*dst));
	dst->kind = src->kind;
	dst->style = src->style;
	dst->len = src->len;
	dst->line = src->line;
	dst->col = src->col;
	dst->tag = src->tag != NULL ? xstrdup(src->tag) : NULL;
	if (src->value != NULL) {
		dst->value = xmalloc(src->len + 1);
		memcpy(dst->value, src->value, src->len + 1);
	}
	if (count > 0)
		dst->child = xcalloc(count, sizeof(*dst->child));
	for (i = 0; i < count; i++) {
		dst->child[i] = copy_tree(b, src->child[i]);
		if (dst->child[i] == NULL)
			break;
	}
	/* ytree_free() walks n pairs or items: count only complete ones */
	dst->n = src->kind == YTREE_MAP ? i / 2 : i;
	if (i < count) {
		if (src->kind == YTREE_MAP && i % 2 == 1)
			ytree_free(dst->child[i - 1]);
		ytree_free(dst);
		return NULL;
	}
	return dst;
}

/*
 * libyaml reports a reader error (bytes that are not UTF-8, a control
 * character) as a byte offset with no line or column: count them here, the
 * column in characters as libyaml's marks are.
 */
static int
reader_error(struct builder *b)
{
	size_t off = b->parser.problem_offset, i, line = 1, col = 1;
	int value = b->parser.problem_value;

	if (off > b->len)
		off = b->len;
	/* a bad trailing octet: show where its sequence starts */
	if (b->parser.problem != NULL &&
	    strstr(b->parser.problem, "trailing") != NULL)
		for (i = 0; i < 3 && off > 0 &&
		     (off >= b->len ||
			 ((unsigned char)b->buf[off] & 0xc0) != 0xc0);
		     i++)
			off--;
	for (i = 0; i < off; i++) {
		unsigned char c = (unsigned char)b->buf[i];

		if (c == '\n' ||
		    (c == '\r' && (i + 1 >= off || b->buf[i + 1] != '\n'))) {
			line++;
			col = 1;
		} else if ((c & 0xc0) != 0x80 &&
		    !(i == 0 && off >= 3 &&
			memcmp(b->buf, "\xef\xbb\xbf", 3) == 0)) {
			col++; /* a character starts (a leading BOM is none) */
		}
	}
	if (value >= 0)
		return err_set(b->err, E_PARSE,
		    "%s:%zu:%zu: %s (byte 0x%02x); the file must be UTF-8 "
		    "text without control characters",
		    b->name, line, col, b->parser.problem,
		    (unsigned)value & 0xff);
	return err_set(b->err, E_PARSE,
	    "%s:%zu:%zu: %s; the file must be UTF-8 text without control "
	    "characters",
	    b->name, line, col, b->parser.problem);
}

static int
next_event(struct builder *b, yaml_event_t *ev)
{
	if (yaml_parser_parse(&b->parser, ev))
		return 0;
	if (b->parser.error == YAML_READER_ERROR)
		return reader_error(b);
	if (b->parser.context != NULL)
		return err_set(b->err, E_PARSE, "%s:%zu:%zu: %s %s", b->name,
		    b->parser.problem_mark.line + 1,
		    b->parser.problem_mark.column + 1, b->parser.problem,
		    b->parser.context);
	return err_set(b->err, E_PARSE, "%s:%zu:%zu: %s", b->name,
	    b->parser.problem_mark.line + 1, b->parser.problem_mark.column + 1,
	    b->parser.problem != NULL ? b->parser.problem : "invalid YAML");
}

static void
remember_anchor(
    struct builder *b, const yaml_char_t *anchor, const struct ytree *node)
{
	if (anchor == NULL)
		return;
	b->anchors =
	    xreallocarray(b->anchors, b->nanchors + 1, sizeof(*b->anchors));
	b->anchors[b->nanchors].name = xstrdup((const char *)anchor);
	b->anchors[b->nanchors].node = node;
	b->nanchors++;
}

static struct ytree *build_node(
    struct builder *b, yaml_event_t *ev, unsigned depth);

/* Build the children of a sequence or mapping until its end event. */
static int
build_children(struct builder *b, struct ytree *node, unsigned depth)
{
	yaml_event_type_t end = node->kind == YTREE_MAP
	    ? YAML_MAPPING_END_EVENT
	    : YAML_SEQUENCE_END_EVENT;
	struct ytree **items = NULL;
	size_t count = 0, cap = 0;

	for (;;) {
		yaml_event_t ev;
		struct ytree *child;

		if (next_event(b, &ev) < 0)
			goto fail;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			break;
		}
		child = build_node(b, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (child == NULL)
			goto fail;
		if (count == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			items = xreallocarray(items, cap, sizeof(*items));
		}
		items[count++] = child;
	}
	node->child = items;
	node->n = node->kind == YTREE_MAP ? count / 2 : count;
	return 0;
fail:
	while (count-- > 0)
		ytree_free(items[count]);
	free(items);
	return -1;
}

static struct ytree *
build_node(struct builder *b, yaml_event_t *ev, unsigned depth)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned col = (unsigned)ev->start_mark.column + 1;
	struct ytree *node = NULL;
	const yaml_char_t *tag = NULL, *anchor = NULL;
	size_t i;

	if (depth > YTREE_MAX_DEPTH) {
		err_set(b->err, E_LIMIT,
		    "%s:%u:%u: nested deeper than %d "
		    "levels",
		    b->name, line, col, YTREE_MAX_DEPTH);
		return NULL;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		const char *name = (const char *)ev->data.alias.anchor;

		for (i = b->nanchors; i-- > 0;)
			if (strcmp(b->anchors[i].name, name) == 0)
				return copy_tree(b, b->anchors[i].node);
		err_set(b->err, E_PARSE, "%s:%u:%u: unknown alias '*%s'",
		    b->name, line, col, name);
		return NULL;
	}
	if (count_node(b, line, col) < 0)
		return NULL;
	node = xcalloc(1, sizeof(*node));
	node->line = line;
	node->col = col;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		node->kind = YTREE_SCALAR;
		node->len = ev->data.scalar.length;
		node->value = xmalloc(node->len + 1);
		memcpy(node->value, ev->data.scalar.value, node->len);
		node->value[node->len] = '\0';
		switch (ev->data.scalar.style) {
		case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
			node->style = YTREE_QUOTED;
			break;
		case YAML_LITERAL_SCALAR_STYLE:
		case YAML_FOLDED_SCALAR_STYLE:
			node->style = YTREE_BLOCK;
			break;
		default:
			node->style = YTREE_PLAIN;
			break;
		}
		tag = ev->data.scalar.tag;
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		node->kind = YTREE_SEQ;
		tag = ev->data.sequence_start.tag;
		anchor = ev->data.sequence_start.anchor;
		if (build_children(b, node, depth) < 0)
			goto fail;
		break;
	case YAML_MAPPING_START_EVENT:
		node->kind = YTREE_MAP;
		tag = ev->data.mapping_start.tag;
		anchor = ev->data.mapping_start.anchor;
		if (build_children(b, node, depth) < 0)
			goto fail;
		break;
	default:
		err_set(b->err, E_PARSE, "%s:%u:%u: unexpected YAML event",
		    b->name, line, col);
		goto fail;
	}
	if (tag != NULL && strcmp((const char *)tag, "!") != 0)
		node->tag = xstrdup((const char *)tag);
	remember_anchor(b, anchor, node);
	return node;
fail:
	ytree_free(node);
	return NULL;
}

int
ytree_parse(const char *buf, size_t len, const char *name, struct ytree **out,
    struct err *err)
{
	struct builder b = { .name = name != NULL ? name : "<yaml>",
		.buf = buf,
		.len = len,
		.err = err };
	struct ytree *root = NULL;
	yaml_event_t ev;
	int ret = -1, have_event = 0;
	size_t i;

	*out = NULL;
	if (!yaml_parser_initialize(&b.parser))
		return err_set(err, E_INTERNAL, "cannot initialise libyaml");
	yaml_parser_set_input_string(
	    &b.parser, (const unsigned char *)buf, len);
	/* STREAM-START, then DOCUMENT-START or STREAM-END */
	for (;;) {
		if (next_event(&b, &ev) < 0)
			goto out;
		have_event = 1;
		if (ev.type == YAML_STREAM_END_EVENT) {
			ret = 0; /* empty stream */
			goto out;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT)
			break;
		yaml_event_delete(&ev);
		have_event = 0;
	}
	yaml_event_delete(&ev);
	have_event = 0;
	if (next_event(&b, &ev) < 0)
		goto out;
	have_event = 1;
	root = build_node(&b, &ev, 0);
	if (root == NULL)
		goto out;
	/* Only the first document is read, as Psych's YAML.load does. */
	*out = root;
	root = NULL;
	ret = 0;
out:
	if (have_event)
		yaml_event_delete(&ev);
	for (i = 0; i < b.nanchors; i++)
		free(b.anchors[i].name);
	free(b.anchors);
	ytree_free(root);
	yaml_parser_delete(&b.parser);
	return ret;
}

const struct ytree *
ytree_key(const struct ytree *map, size_t i)
{
	if (map == NULL || map->kind != YTREE_MAP || i >= map->n)
		return NULL;
	return map->child[2 * i];
}

const struct ytree *
ytree_value(const struct ytree *map, size_t i)
{
	if (map == NULL || map->kind != YTREE_MAP || i >= map->n)
		return NULL;
	return map->child[2 * i + 1];
}

const struct ytree *
ytree_get(const struct ytree *map, const char *name)
{
	size_t i;

	if (map == NULL || map->kind != YTREE_MAP)
		return NULL;
	for (i = map->n; i-- > 0;) {
		const struct ytree *key = map->child[2 * i];

		if (key->kind == YTREE_SCALAR && strcmp(key->value, name) == 0)
			return map->child[2 * i + 1];
	}
	return NULL;
}

/* Whether the node carries the explicit tag tag:yaml.org,2002:<short>. */
static int
has_tag(const struct ytree *node, const char *shorttag)
{
	static const char prefix[] = "tag:yaml.org,2002:";

	return node->tag != NULL &&
	    strncmp(node->tag, prefix, sizeof(prefix) - 1) == 0 &&
	    strcmp(node->tag + sizeof(prefix) - 1, shorttag) == 0;
}

/* A scalar that implicit typing applies to. */
static int
is_plain(const struct ytree *node)
{
	return node != NULL && node->kind == YTREE_SCALAR &&
	    node->style == YTREE_PLAIN && node->tag == NULL;
}

int
ytree_is_null(const struct ytree *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (node == NULL)
		return 1;
	if (node->kind == YTREE_SCALAR && has_tag(node, "null"))
		return 1;
	if (!is_plain(node))
		return 0;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(node->value, nulls[i]) == 0)
			return 1;
	return 0;
}

int
ytree_text_to_bool(const char *text, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int
ytree_text_to_int(const char *text, long long *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
ytree_to_bool(const struct ytree *node, int *out)
{
	if (!is_plain(node) &&
	    !(node != NULL && node->kind == YTREE_SCALAR &&
		has_tag(node, "bool")))
		return -1;
	return ytree_text_to_bool(node->value, out);
}

/* Digits of base (with '_' separators) into *out, checking overflow. */
static int
parse_digits(const char *s, int base, unsigned long long *out)
{
	unsigned long long v = 0;
	int any = 0;

	for (; *s != '\0'; s++) {
		int d;

		if (*s == '_')
			continue;
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + (unsigned)d;
		any = 1;
	}
	if (!any)
		return -1;
	*out = v;
	return 0;
}

int
ytree_to_int(const struct ytree *node, long long *out)
{
	const char *s;
	unsigned long long v;
	int neg = 0, base = 10;

	if (!is_plain(node) &&
	    !(node != NULL && node->kind == YTREE_SCALAR &&
		has_tag(node, "int")))
		return -1;
	s = node->value;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && s[1] != '\0') {
		base = 8; /* YAML 1.1: a leading zero means octal */
		s += 1;
	}
	if (*s == '_' || parse_digits(s, base, &v) < 0)
		return -1;
	if (neg ? v > (unsigned long long)LLONG_MAX + 1 : v > LLONG_MAX)
		return -1;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

int
ytree_is_string(const struct ytree *node)
{
	long long i;
	int b;

	if (node == NULL || node->kind != YTREE_SCALAR)
		return 0;
	if (node->style != YTREE_PLAIN || has_tag(node, "str"))
		return 1;
	if (node->tag != NULL)
		return 0;
	return !ytree_is_null(node) && ytree_to_bool(node, &b) < 0 &&
	    ytree_to_int(node, &i) < 0;
}

const char *
ytree_describe(const struct ytree *node)
{
	long long i;
	int b;

	if (ytree_is_null(node))
		return "null";
	switch (node->kind) {
	case YTREE_MAP:
		return "a mapping";
	case YTREE_SEQ:
		return "a list";
	case YTREE_SCALAR:
		break;
	}
	if (ytree_is_string(node))
		return "a string";
	if (ytree_to_int(node, &i) == 0)
		return "an integer";
	if (ytree_to_bool(node, &b) == 0)
		return "a boolean";
	return "a scalar";
}
