/*
 * dspec: deployment specifications (v1 §2, v2 §3): envelope, signature,
 * payload checks in v1's order, and the struct exec_spec they describe.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appspec.h"
#include "crypto.h"
#include "dspec.h"
#include "log.h"
#include "unpack.h"
#include "utf8.h"
#include "xalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Values quoted in messages are cut after this many bytes. */
#define DSPEC_SHOW_MAX 80
/* Room for DSPEC_SHOW_MAX bytes escaped as \xNN, "..." and the NUL. */
#define DSPEC_SHOW_BUF (4 * DSPEC_SHOW_MAX + 8)
/* Longest DeploymentId / DeploymentGroupId (one directory name). */
#define DSPEC_ID_MAX 255
/* Longest AppSpecFilename. */
#define DSPEC_APPSPEC_MAX 1024

/* The four ids every spec must have, in v1's order (v1 §2.4 step 1). */
static const char *const required_ids[] = {
	"DeploymentId",
	"DeploymentGroupId",
	"DeploymentGroupName",
	"ApplicationName",
};

#define BUNDLE_TAR (1u << UNPACK_TAR)
#define BUNDLE_TGZ (1u << UNPACK_TGZ)
#define BUNDLE_ZIP (1u << UNPACK_ZIP)
#define BUNDLE_DIRECTORY (1u << UNPACK_DIRECTORY)

static const struct {
	const char *name;
	enum unpack_format format;
} bundle_names[] = {
	{ "tar", UNPACK_TAR },
	{ "tgz", UNPACK_TGZ },
	{ "zip", UNPACK_ZIP },
	{ "directory", UNPACK_DIRECTORY },
};

/* One revision kind of v1 §2.3: its object, keys and bundle types. */
struct revision_kind {
	const char *type;     /* RevisionType */
	const char *object;   /* the member of Revision that describes it */
	const char *required; /* for the message: "Bucket, Key and ..." */
	enum exec_revision revision;
	unsigned bundle_types;	  /* BUNDLE_* allowed */
	const char *bundle_hint;  /* for the message: "tar, tgz or zip" */
	int bundle_type_optional; /* absent means tar (GitHub) */
	const char *const *keys;  /* required non-empty strings */
	size_t nkeys;
};

static const char *const s3_keys[] = { "Bucket", "Key", "BundleType" };
static const char *const github_keys[] = { "Account", "Repository",
	"CommitId" };
static const char *const local_keys[] = { "Location", "BundleType" };

static const struct revision_kind revision_kinds[] = {
	{ "S3", "S3Revision", "Bucket, Key and BundleType", EXEC_REV_S3,
	    BUNDLE_TAR | BUNDLE_TGZ | BUNDLE_ZIP, "tar, tgz or zip", 0, s3_keys,
	    NELEM(s3_keys) },
	{ "GitHub", "GitHubRevision", "Account, Repository and CommitId",
	    EXEC_REV_GITHUB, BUNDLE_TAR | BUNDLE_ZIP, "tar or zip", 1,
	    github_keys, NELEM(github_keys) },
	{ "Local File", "LocalRevision", "Location and BundleType",
	    EXEC_REV_LOCAL_FILE,
	    BUNDLE_TAR | BUNDLE_TGZ | BUNDLE_ZIP | BUNDLE_DIRECTORY,
	    "tar, tgz, zip or directory", 0, local_keys, NELEM(local_keys) },
	{ "Local Directory", "LocalRevision", "Location and BundleType",
	    EXEC_REV_LOCAL_DIRECTORY,
	    BUNDLE_TAR | BUNDLE_TGZ | BUNDLE_ZIP | BUNDLE_DIRECTORY,
	    "tar, tgz, zip or directory", 0, local_keys, NELEM(local_keys) },
};

int
dspec_developer_mode(void)
{
	const char *value = getenv("CODEDEPLOY_DEVELOPER_MODE");

	return value != NULL && strcmp(value, "true") == 0;
}

/*
 * A value fit for a message: '"', '\' and bytes outside printable ASCII
 * escaped (so nothing from the service can break a log line), cut after
 * DSPEC_SHOW_MAX bytes with "...".
 */
static const char *
show(const char *value, char buf[DSPEC_SHOW_BUF])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;

	for (i = 0; value[i] != '\0' && i < DSPEC_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 0xf];
		} else {
			buf[n++] = (char)c;
		}
	}
	if (value[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Offset of a \u0000 escape inside a JSON string, or len.  cJSON would end
 * the C string there, so "d-A\u0000/.." would be read as "d-A": such a
 * spec is refused rather than silently cut.
 */
static size_t
escaped_nul(const char *s, size_t len)
{
	int in_string = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!in_string) {
			in_string = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_string = 0;
		} else if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len &&
			    memcmp(s + i + 2, "0000", 4) == 0)
				return i;
			i++; /* the escaped character */
		}
	}
	return len;
}

/* The text of a spec: UTF-8 with no NUL byte, raw or escaped. */
static int
check_text(const char *text, size_t len, struct err *err)
{
	const char *nul = memchr(text, '\0', len);
	size_t off;

	if (nul != NULL)
		return err_set(err, E_PARSE,
		    "The deployment spec has a NUL byte at offset %zu",
		    (size_t)(nul - text));
	off = utf8_valid_prefix(text, len);
	if (off != len)
		return err_set(err, E_PARSE,
		    "The deployment spec is not valid UTF-8 (offset %zu)", off);
	off = escaped_nul(text, len);
	if (off != len)
		return err_set(err, E_PARSE,
		    "The deployment spec has a \\u0000 escape at offset %zu; "
		    "no value may contain a NUL character",
		    off);
	return 0;
}

/* A member that is a non-empty string, else NULL. */
static const char *
nonempty_string(const struct json *obj, const char *key)
{
	const char *value = json_get_string(obj, key);

	return value != NULL && value[0] != '\0' ? value : NULL;
}

/* Why a member is not a usable string: "missing", "null", ... */
static const char *
unusable(const struct json *obj, const char *key)
{
	const struct json *value = json_get(obj, key);

	if (value == NULL)
		return "missing";
	if (json_is_null(value))
		return "null";
	if (!json_is_string(value))
		return "not a string";
	return "empty";
}

/*
 * An id, or an ARN of one: the 6th ':' field of an "arn:" value from its
 * first '/' on ("arn:aws:codedeploy:r:acct:deployment/d-X" -> "d-X").
 * NULL for an ARN without that part.  Free with free().
 */
static char *
shorten_arn(const char *id)
{
	const char *p = id, *slash;
	int colons = 0;

	if (strncmp(id, "arn:", 4) != 0)
		return xstrdup(id);
	for (; *p != '\0' && colons < 5; p++)
		if (*p == ':')
			colons++;
	if (colons < 5 || (slash = strchr(p, '/')) == NULL)
		return NULL;
	return xstrdup(slash + 1);
}

/* One safe directory name: no '/', '\', control bytes, "." or "..". */
static int
safe_component(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > DSPEC_ID_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return 0;
	}
	return 1;
}

/* A relative path that stays inside the revision: no leading '/', no "..". */
static int
safe_relative(const char *path)
{
	const char *p = path;
	size_t i, len = strlen(path), seg;

	if (len == 0 || len > DSPEC_APPSPEC_MAX || path[0] == '/')
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 ||
		    (unsigned char)path[i] == 0x7f)
			return 0;
	while (*p != '\0') {
		seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += seg;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* An optional string member, copied, or NULL when absent or empty. */
static char *
optional_copy(const struct json *obj, const char *key)
{
	const char *value = nonempty_string(obj, key);

	return value != NULL ? xstrdup(value) : NULL;
}

/* Steps 1-2 of v1 §2.4 with v2's path checks: ids and AppSpecFilename. */
static int
parse_ids(const struct json *doc, struct exec_spec *out, struct err *err)
{
	char shown[DSPEC_SHOW_BUF];
	const char *did, *name;
	size_t i;

	for (i = 0; i < NELEM(required_ids); i++)
		if (nonempty_string(doc, required_ids[i]) == NULL)
			return err_set(err, E_INVALID,
			    "The deployment spec has no %s", required_ids[i]);
	did = json_get_string(doc, "DeploymentId");
	out->deployment_id = shorten_arn(did);
	if (out->deployment_id == NULL)
		return err_set(err, E_INVALID,
		    "DeploymentId is not a deployment ARN "
		    "(arn:...:deployment/<id>): \"%s\"",
		    show(did, shown));
	if (!safe_component(out->deployment_id))
		return err_set(err, E_UNSAFE,
		    "DeploymentId is not a valid path component: \"%s\"",
		    show(out->deployment_id, shown));
	out->deployment_group_id =
	    xstrdup(json_get_string(doc, "DeploymentGroupId"));
	if (!safe_component(out->deployment_group_id))
		return err_set(err, E_UNSAFE,
		    "DeploymentGroupId is not a valid path component: \"%s\"",
		    show(out->deployment_group_id, shown));
	out->deployment_group_name =
	    xstrdup(json_get_string(doc, "DeploymentGroupName"));
	out->application_name =
	    xstrdup(json_get_string(doc, "ApplicationName"));
	name = nonempty_string(doc, "AppSpecFilename");
	if (name != NULL && !safe_relative(name))
		return err_set(err, E_UNSAFE,
		    "AppSpecFilename is not a safe revision-relative path: "
		    "\"%s\"",
		    show(name, shown));
	out->appspec_filename = name != NULL ? xstrdup(name) : NULL;
	return 0;
}

/* Step 4: FileExistsBehavior (default DISALLOW) and the event list. */
static int
parse_overrides(const struct json *doc, struct exec_spec *out, struct err *err)
{
	const struct json *overrides, *events;
	char shown[DSPEC_SHOW_BUF];
	const char *feb, *event;
	size_t i, n;

	overrides =
	    json_get(json_get(doc, "AgentActionOverrides"), "AgentOverrides");
	feb = nonempty_string(overrides, "FileExistsBehavior");
	out->file_exists_behavior = APPSPEC_FEB_DISALLOW;
	if (feb != NULL &&
	    appspec_parse_feb(feb, 1, &out->file_exists_behavior) < 0)
		return err_set(err, E_INVALID,
		    "AgentActionOverrides.AgentOverrides.FileExistsBehavior "
		    "\"%s\" is not valid; use DISALLOW, OVERWRITE or RETAIN",
		    show(feb, shown));
	events = json_get(doc, "AllPossibleLifecycleEvents");
	n = json_array_size(events);
	if (n > DSPEC_MAX_EVENTS) /* and json_array_get() is linear */
		return err_set(err, E_LIMIT,
		    "AllPossibleLifecycleEvents has %zu entries, more than the "
		    "%d allowed",
		    n, DSPEC_MAX_EVENTS);
	for (i = 0; i < n; i++) {
		event = json_text(json_array_get(events, i));
		if (event == NULL)
			continue; /* v2: entries that are not strings */
		if (out->all_possible_events == NULL)
			out->all_possible_events =
			    xcalloc(n, sizeof(*out->all_possible_events));
		out->all_possible_events[out->nall_possible_events++] =
		    xstrdup(event);
	}
	return 0;
}

/* A revision's BundleType, checked against what its kind allows. */
static int
parse_bundle_type(const struct revision_kind *kind, const struct json *obj,
    struct exec_spec *out, struct err *err)
{
	const struct json *value = json_get(obj, "BundleType");
	char shown[DSPEC_SHOW_BUF];
	const char *name;
	size_t i;

	if (kind->bundle_type_optional &&
	    (value == NULL || json_is_null(value))) {
		out->bundle_type = UNPACK_TAR; /* v1 on Linux */
		return 0;
	}
	name = json_text(value);
	if (name == NULL)
		return err_set(err, E_INVALID,
		    "%s BundleType is not a string; use %s", kind->object,
		    kind->bundle_hint);
	for (i = 0; i < NELEM(bundle_names); i++)
		if (strcmp(name, bundle_names[i].name) == 0 &&
		    (kind->bundle_types & (1u << bundle_names[i].format))) {
			out->bundle_type = bundle_names[i].format;
			return 0;
		}
	return err_set(err, E_INVALID,
	    "%s BundleType \"%s\" is not valid; use %s", kind->object,
	    show(name, shown), kind->bundle_hint);
}

/* Steps 3 and 5: Revision, its kind, its keys and its bundle type. */
static int
parse_revision(const struct json *doc, struct exec_spec *out, struct err *err)
{
	const struct json *revision = json_get(doc, "Revision"), *obj, *anon;
	const struct revision_kind *kind = NULL;
	char shown[DSPEC_SHOW_BUF];
	const char *type;
	size_t i;

	if (revision == NULL || json_is_null(revision) ||
	    (json_is_bool(revision) && !json_bool_value(revision)))
		return err_set(err, E_INVALID,
		    "The deployment spec must specify a revision");
	type = json_get_string(revision, "RevisionType");
	if (type == NULL)
		return err_set(err, E_INVALID,
		    "The deployment spec has no revision source: Revision "
		    "needs a RevisionType of S3, GitHub, Local File or Local "
		    "Directory");
	if (parse_overrides(doc, out, err) < 0)
		return -1;
	for (i = 0; i < NELEM(revision_kinds) && kind == NULL; i++)
		if (strcmp(type, revision_kinds[i].type) == 0)
			kind = &revision_kinds[i];
	if (kind == NULL)
		return err_set(err, E_INVALID,
		    "The deployment spec must specify exactly one of an S3, "
		    "GitHub or local revision; RevisionType \"%s\" is none "
		    "of S3, GitHub, Local File, Local Directory",
		    show(type, shown));
	obj = json_get(revision, kind->object);
	if (!json_is_object(obj))
		return err_set(err, E_INVALID,
		    "The deployment spec must specify exactly one of an S3, "
		    "GitHub or local revision; RevisionType %s needs a "
		    "Revision.%s object",
		    kind->type, kind->object);
	for (i = 0; i < kind->nkeys; i++)
		if (nonempty_string(obj, kind->keys[i]) == NULL)
			return err_set(err, E_INVALID,
			    "%s must specify %s; %s is %s", kind->object,
			    kind->required, kind->keys[i],
			    unusable(obj, kind->keys[i]));
	anon = json_get(obj, "Anonymous");
	if (kind->revision == EXEC_REV_GITHUB && json_is_bool(anon) &&
	    !json_bool_value(anon) && json_get(obj, "OAuthToken") == NULL)
		return err_set(err, E_INVALID,
		    "GitHubRevision must specify OAuthToken when Anonymous is "
		    "false");
	if (parse_bundle_type(kind, obj, out, err) < 0)
		return -1;
	out->revision = kind->revision;
	switch (kind->revision) {
	case EXEC_REV_S3:
		out->bucket = xstrdup(json_get_string(obj, "Bucket"));
		out->key = xstrdup(json_get_string(obj, "Key"));
		out->version = optional_copy(obj, "Version");
		out->etag = optional_copy(obj, "ETag");
		break;
	case EXEC_REV_GITHUB:
		out->account = xstrdup(json_get_string(obj, "Account"));
		out->repository = xstrdup(json_get_string(obj, "Repository"));
		out->commit_id = xstrdup(json_get_string(obj, "CommitId"));
		break;
	case EXEC_REV_LOCAL_FILE:
	case EXEC_REV_LOCAL_DIRECTORY:
		out->location = xstrdup(json_get_string(obj, "Location"));
		break;
	}
	return 0;
}

/* v1 §2.4 in order, then the optional top-level fields. */
static int
build_spec(const struct json *doc, struct exec_spec *out, struct err *err)
{
	const char *reuse;

	if (parse_ids(doc, out, err) < 0 || parse_revision(doc, out, err) < 0)
		return -1;
	out->deployment_creator = optional_copy(doc, "DeploymentCreator");
	if (out->deployment_creator == NULL)
		out->deployment_creator = xstrdup("user");
	out->deployment_type = optional_copy(doc, "DeploymentType");
	if (out->deployment_type == NULL)
		out->deployment_type = xstrdup("IN_PLACE");
	out->github_token = optional_copy(doc, "GitHubAccessToken");
	reuse = nonempty_string(doc, "ReuseArchiveFromDeploymentId");
	if (reuse != NULL) {
		/* An ARN without an id after its '/' is kept whole (never
		 * an empty id): try_reuse() refuses it with a warning. */
		out->reuse_archive_from = shorten_arn(reuse);
		if (out->reuse_archive_from != NULL &&
		    out->reuse_archive_from[0] == '\0') {
			free(out->reuse_archive_from);
			out->reuse_archive_from = NULL;
		}
		if (out->reuse_archive_from == NULL)
			out->reuse_archive_from = xstrdup(reuse);
	}
	return 0;
}

/* The payload for the debug log, secrets redacted. */
static void
log_payload(const char *json, size_t len)
{
	char *redacted;

	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;
	redacted = dspec_redacted_json(json, len);
	log_debug(
	    "deployment spec: %s", redacted != NULL ? redacted : "(not JSON)");
	free(redacted);
}

int
dspec_parse_payload(
    const char *json, size_t len, struct exec_spec *spec, struct err *err)
{
	struct exec_spec out;
	struct json *doc = NULL;
	int ret = -1;

	memset(&out, 0, sizeof(out));
	if (len > DSPEC_MAX_PAYLOAD)
		return err_set(err, E_LIMIT,
		    "The deployment spec is %zu bytes, more than the %u "
		    "allowed",
		    len, DSPEC_MAX_PAYLOAD);
	if (check_text(json, len, err) < 0)
		goto out;
	log_payload(json, len);
	if (json_parse(json, len, "The deployment spec", &doc, err) < 0)
		goto out;
	if (!json_is_object(doc)) {
		err_set(
		    err, E_PARSE, "The deployment spec is not a JSON object");
		goto out;
	}
	if (build_spec(doc, &out, err) < 0)
		goto out;
	*spec = out;
	memset(&out, 0, sizeof(out));
	ret = 0;
out:
	exec_spec_clear(&out);
	json_free_secret(doc);
	return ret;
}

char *
dspec_redacted_json(const char *json, size_t len)
{
	struct json *doc = NULL;
	char *text;

	if (json_parse(json, len, "The deployment spec", &doc, NULL) < 0)
		return NULL;
	if (json_is_object(doc) && json_get(doc, "GitHubAccessToken") != NULL) {
		json_free_secret(json_take(doc, "GitHubAccessToken"));
		json_set(doc, "GitHubAccessToken", json_string("REDACTED"));
	}
	text = json_print(doc);
	json_free_secret(doc);
	return text;
}

/* TEXT/JSON, or v2's JSON: the spec itself, unsigned. */
static int
is_unsigned_format(const char *format)
{
	return format != NULL &&
	    (strcmp(format, "TEXT/JSON") == 0 || strcmp(format, "JSON") == 0);
}

int
dspec_parse_envelope(const char *format, const char *payload, size_t len,
    const struct dspec_opts *opts, struct exec_spec *spec, struct err *err)
{
	char shown[DSPEC_SHOW_BUF];
	char *content = NULL;
	size_t content_len = 0;
	int ret;

	if (payload == NULL || len == 0)
		return err_set(
		    err, E_INVALID, "Provided deployment spec was nil");
	if (len > DSPEC_MAX_PAYLOAD)
		return err_set(err, E_LIMIT,
		    "The deployment spec payload is %zu bytes, more than the "
		    "%u allowed",
		    len, DSPEC_MAX_PAYLOAD);
	if (is_unsigned_format(format)) {
		if (opts == NULL || !opts->allow_unsigned)
			return err_set(err, E_INVALID,
			    "Unsupported deployment specification format: %s "
			    "(unsigned specs are accepted only with "
			    "CODEDEPLOY_DEVELOPER_MODE=true)",
			    format);
		return dspec_parse_payload(payload, len, spec, err);
	}
	if (format == NULL || strcmp(format, "PKCS7/JSON") != 0)
		return err_set(err, E_INVALID,
		    "Unsupported deployment specification format: %s",
		    format != NULL ? show(format, shown) : "");
	if (crypto_pkcs7_open(payload, len, &content, &content_len, err) < 0)
		return -1;
	if (utf8_valid_prefix(content, content_len) != content_len)
		ret = err_set(err, E_PARSE, "Invalid UTF-8 in signed data");
	else
		ret = dspec_parse_payload(content, content_len, spec, err);
	xfree_secret(content, content_len + 1);
	return ret;
}

int
dspec_parse_output(const struct json *output, const struct dspec_opts *opts,
    struct exec_spec *spec, struct err *err)
{
	const struct json *dspec, *envelope;
	const char *system = json_get_string(output, "DeploymentSystem");
	const char *payload;
	char shown[DSPEC_SHOW_BUF];

	if (system == NULL || strcmp(system, "CodeDeploy") != 0)
		return err_set(err, E_INVALID,
		    "Deployment system mismatch: CodeDeploy != %s",
		    system != NULL ? show(system, shown) : "");
	dspec = json_get(output, "DeploymentSpecification");
	if (!json_is_object(dspec))
		return err_set(err, E_INVALID,
		    "The GetDeploymentSpecification output has no "
		    "DeploymentSpecification");
	envelope = json_get(dspec, "GenericEnvelope");
	if (!json_is_object(envelope))
		return err_set(
		    err, E_INVALID, "Provided deployment spec was nil");
	payload = json_get_string(envelope, "Payload");
	return dspec_parse_envelope(json_get_string(envelope, "Format"),
	    payload, payload != NULL ? strlen(payload) : 0, opts, spec, err);
}
