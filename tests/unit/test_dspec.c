/*
 * Unit tests for dspec: the pinned deployment-spec cases of v1 §12
 * (deployment_specification_test.rb, command_poller_test.rb) and v2 §14
 * (builder.rs, envelope.rs, parse.rs, archive_reuse.rs), signed envelopes
 * made at run time, and hostile input.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "appspec.h"
#include "dspec.h"
#include "exec.h"
#include "json.h"
#include "log.h"
#include "pkcs7_signer.h"
#include "testutil.h"
#include "unpack.h"
#include "xalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define SIGNER_CN "codedeploy-signer-us-east-1.amazonaws.com"
#define GROUP_ID "4b4d3fd5-5e79-4d2b-9a5b-4c2cba4b2e8f"

/* Two throwaway signers, made once for the whole run. */
static struct pkcs7_signer *signer, *other_signer;

static const struct dspec_opts signed_only = { 0 };
static const struct dspec_opts unsigned_ok = { 1 };

static int
setup_signers(void **state)
{
	signer = pkcs7_signer_new(SIGNER_CN);
	other_signer = pkcs7_signer_new(SIGNER_CN);
	return 0;
}

static int
teardown_signers(void **state)
{
	pkcs7_signer_free(signer);
	pkcs7_signer_free(other_signer);
	return 0;
}

/* An object of string members: key, value, ..., NULL. */
static struct json *
strings(const char *key, ...)
{
	struct json *obj = json_object();
	const char *k = key;
	va_list ap;

	va_start(ap, key);
	while (k != NULL) {
		json_set(obj, k, json_string(va_arg(ap, const char *)));
		k = va_arg(ap, const char *);
	}
	va_end(ap);
	return obj;
}

/* A Revision object: {"RevisionType": type, member: body}. */
static struct json *
revision(const char *type, const char *member, struct json *body)
{
	struct json *rev = json_object();

	json_set(rev, "RevisionType", json_string(type));
	if (member != NULL)
		json_set(rev, member, body);
	return rev;
}

static struct json *
s3_revision(const char *bundle_type)
{
	return revision("S3", "S3Revision",
	    strings("Bucket", "mybucket", "Key", "app/bundle.tgz", "BundleType",
		bundle_type, "Version", "v-1", "ETag", "\"0123abcd\"", NULL));
}

/* The smallest valid spec: four ids and an S3 revision. */
static struct json *
minimal_spec(void)
{
	struct json *doc = strings("DeploymentId", "d-ABCDEFGHI",
	    "DeploymentGroupId", GROUP_ID, "DeploymentGroupName", "my-group",
	    "ApplicationName", "my-app", NULL);

	json_set(doc, "Revision", s3_revision("tgz"));
	return doc;
}

/* Print doc, free it and run dspec_parse_payload on the text. */
static int
parse_doc(struct json *doc, struct exec_spec *spec, struct err *err)
{
	char *text = json_print(doc);
	int r;

	json_free(doc);
	r = dspec_parse_payload(text, strlen(text), spec, err);
	free(text);
	return r;
}

/* doc must fail with exactly msg, leaving the spec empty. */
static void
expect_failure(struct json *doc, enum err_code code, const char *msg)
{
	struct exec_spec spec, empty;
	struct err err = ERR_INIT;

	memset(&spec, 0, sizeof(spec));
	memset(&empty, 0, sizeof(empty));
	assert_int_equal(parse_doc(doc, &spec, &err), -1);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.code, code);
	assert_memory_equal(&spec, &empty, sizeof(spec));
}

/* doc must parse; the caller checks and clears spec. */
static void
expect_success(struct json *doc, struct exec_spec *spec)
{
	struct err err = ERR_INIT;

	memset(spec, 0, sizeof(*spec));
	if (parse_doc(doc, spec, &err) < 0)
		fail_msg("unexpected failure: %s", err.msg);
}

/* A signed message of text. */
static char *
sign_text(const char *text, unsigned flags, size_t *len)
{
	struct pkcs7_sign_req req = { text, strlen(text), flags, NULL, 0,
		NULL };

	return pkcs7_signer_sign(signer, &req, len);
}

static char *
minimal_spec_text(void)
{
	struct json *doc = minimal_spec();
	char *text = json_print(doc);

	json_free(doc);
	return text;
}

/* ---- v1 deployment_specification_test.rb ---------------------------- */

static void
payload__github_revision__fills_spec(void **state)
{
	struct json *doc = minimal_spec();
	struct exec_spec spec;

	json_set(doc, "DeploymentCreator", json_string("codeDeployRollback"));
	json_set(doc, "DeploymentType", json_string("BLUE_GREEN"));
	json_set(doc, "GitHubAccessToken", json_string("gho_secret"));
	json_set(doc, "Revision",
	    revision("GitHub", "GitHubRevision",
		strings("Account", "acct", "Repository", "repo", "CommitId",
		    "0123456789abcdef", "BundleType", "zip", NULL)));
	expect_success(doc, &spec);
	assert_int_equal(spec.revision, EXEC_REV_GITHUB);
	assert_string_equal(spec.account, "acct");
	assert_string_equal(spec.repository, "repo");
	assert_string_equal(spec.commit_id, "0123456789abcdef");
	assert_int_equal(spec.bundle_type, UNPACK_ZIP);
	assert_string_equal(spec.github_token, "gho_secret");
	assert_string_equal(spec.deployment_creator, "codeDeployRollback");
	assert_string_equal(spec.deployment_type, "BLUE_GREEN");
	assert_null(spec.bucket);
	assert_null(spec.location);
	exec_spec_clear(&spec);
}

static void
payload__s3_revision__fills_spec(void **state)
{
	struct exec_spec spec;

	expect_success(minimal_spec(), &spec);
	assert_string_equal(spec.deployment_id, "d-ABCDEFGHI");
	assert_string_equal(spec.deployment_group_id, GROUP_ID);
	assert_string_equal(spec.deployment_group_name, "my-group");
	assert_string_equal(spec.application_name, "my-app");
	assert_int_equal(spec.revision, EXEC_REV_S3);
	assert_string_equal(spec.bucket, "mybucket");
	assert_string_equal(spec.key, "app/bundle.tgz");
	assert_string_equal(spec.version, "v-1");
	assert_string_equal(spec.etag, "\"0123abcd\"");
	assert_int_equal(spec.bundle_type, UNPACK_TGZ);
	assert_null(spec.github_token);
	assert_null(spec.reuse_archive_from);
	exec_spec_clear(&spec);
}

static void
payload__s3_without_version_or_etag__leaves_them_null(void **state)
{
	struct json *doc = minimal_spec();
	struct json *body = strings(
	    "Bucket", "b", "Key", "k", "BundleType", "zip", "ETag", "", NULL);
	struct exec_spec spec;

	json_set(body, "Version", json_null());
	json_set(doc, "Revision", revision("S3", "S3Revision", body));
	expect_success(doc, &spec);
	assert_null(spec.version);
	assert_null(spec.etag);
	assert_int_equal(spec.bundle_type, UNPACK_ZIP);
	exec_spec_clear(&spec);
}

static void
payload__local_revisions__fill_location_and_type(void **state)
{
	static const struct {
		const char *type;
		const char *bundle;
		enum exec_revision revision;
		enum unpack_format format;
	} cases[] = {
		{ "Local File", "tgz", EXEC_REV_LOCAL_FILE, UNPACK_TGZ },
		{ "Local File", "tar", EXEC_REV_LOCAL_FILE, UNPACK_TAR },
		{ "Local File", "zip", EXEC_REV_LOCAL_FILE, UNPACK_ZIP },
		{ "Local Directory", "directory", EXEC_REV_LOCAL_DIRECTORY,
		    UNPACK_DIRECTORY },
	};
	struct exec_spec spec;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		struct json *doc = minimal_spec();

		json_set(doc, "Revision",
		    revision(cases[i].type, "LocalRevision",
			strings("Location", "/srv/bundles/app", "BundleType",
			    cases[i].bundle, NULL)));
		expect_success(doc, &spec);
		assert_int_equal(spec.revision, cases[i].revision);
		assert_int_equal(spec.bundle_type, cases[i].format);
		assert_string_equal(spec.location, "/srv/bundles/app");
		assert_null(spec.bucket);
		exec_spec_clear(&spec);
	}
}

static void
payload__all_possible_lifecycle_events__kept(void **state)
{
	struct json *doc = minimal_spec(), *events = json_array();
	struct exec_spec spec;

	json_push(events, json_string("BeforeInstall"));
	json_push(events, json_string("CustomEvent"));
	json_set(doc, "AllPossibleLifecycleEvents", events);
	expect_success(doc, &spec);
	assert_int_equal(spec.nall_possible_events, 2);
	assert_string_equal(spec.all_possible_events[0], "BeforeInstall");
	assert_string_equal(spec.all_possible_events[1], "CustomEvent");
	exec_spec_clear(&spec);
}

static void
payload__no_lifecycle_events__leaves_list_empty(void **state)
{
	struct json *doc = minimal_spec();
	struct exec_spec spec;

	json_set(doc, "AllPossibleLifecycleEvents", json_array());
	expect_success(doc, &spec);
	assert_null(spec.all_possible_events);
	assert_int_equal(spec.nall_possible_events, 0);
	exec_spec_clear(&spec);
}

static void
payload__arn_deployment_id__keeps_id_after_slash(void **state)
{
	static const struct {
		const char *given, *id;
	} cases[] = {
		{ "arn:aws:codedeploy:us-east-1:123412341234:deployment/"
		  "5ea8b7a9-8a22-4c4b-93bb-2b0e7e4c0f6a",
		    "5ea8b7a9-8a22-4c4b-93bb-2b0e7e4c0f6a" },
		{ "arn:aws:codedeploy:us-west-2:123456789012:deployment/"
		  "d-ABCD1234",
		    "d-ABCD1234" },
		{ "d-ABCD1234", "d-ABCD1234" },
	};
	struct exec_spec spec;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		struct json *doc = minimal_spec();

		json_set(doc, "DeploymentId", json_string(cases[i].given));
		expect_success(doc, &spec);
		assert_string_equal(spec.deployment_id, cases[i].id);
		exec_spec_clear(&spec);
	}
}

static void
payload__arn_without_deployment_part__fails(void **state)
{
	struct json *doc = minimal_spec();

	json_set(doc, "DeploymentId",
	    json_string("arn:aws:codedeploy:us-east-1:123"));
	expect_failure(doc, E_INVALID,
	    "DeploymentId is not a deployment ARN (arn:...:deployment/<id>): "
	    "\"arn:aws:codedeploy:us-east-1:123\"");
}

static void
payload__extra_fields__ignored(void **state)
{
	struct json *doc = minimal_spec();
	struct json *extra = json_object();
	struct exec_spec spec;

	json_set(extra, "Nested", json_array());
	json_set(doc, "AdditionalData", extra);
	json_set(doc, "ApplicationId", json_string("app-id"));
	expect_success(doc, &spec);
	assert_string_equal(spec.deployment_id, "d-ABCDEFGHI");
	exec_spec_clear(&spec);
}

static void
envelope__xml_and_nil_format__unsupported(void **state)
{
	char *text = minimal_spec_text();
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;

	assert_int_equal(dspec_parse_envelope("XML", text, strlen(text),
			     &unsigned_ok, &spec, &err),
	    -1);
	assert_string_equal(
	    err.msg, "Unsupported deployment specification format: XML");
	err_clear(&err);
	assert_int_equal(dspec_parse_envelope(NULL, text, strlen(text),
			     &unsigned_ok, &spec, &err),
	    -1);
	assert_string_equal(
	    err.msg, "Unsupported deployment specification format: ");
	err_clear(&err);
	/* a hostile format name cannot break the message */
	assert_int_equal(dspec_parse_envelope("X\n\"Y", text, strlen(text),
			     &unsigned_ok, &spec, &err),
	    -1);
	assert_string_equal(err.msg,
	    "Unsupported deployment specification format: X\\x0a\\\"Y");
	assert_int_equal(err.code, E_INVALID);
	free(text);
}

/* A GetDeploymentSpecification output around one envelope. */
static struct json *
output(const char *system, const char *format, const char *payload)
{
	struct json *out = json_object(), *ds = json_object();

	if (system != NULL)
		json_set(out, "DeploymentSystem", json_string(system));
	if (format != NULL || payload != NULL) {
		struct json *env = json_object();

		if (format != NULL)
			json_set(env, "Format", json_string(format));
		if (payload != NULL)
			json_set(env, "Payload", json_string(payload));
		json_set(ds, "GenericEnvelope", env);
	}
	json_set(out, "DeploymentSpecification", ds);
	return out;
}

static void
output__nil_envelope__rejected(void **state)
{
	struct json *out = output("CodeDeploy", NULL, NULL);
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;

	assert_int_equal(
	    dspec_parse_output(out, &unsigned_ok, &spec, &err), -1);
	assert_string_equal(err.msg, "Provided deployment spec was nil");
	json_free(out);
}

static void
payload__required_id_missing_null_empty_or_not_a_string__has_no(void **state)
{
	static const char *const fields[] = { "DeploymentId",
		"DeploymentGroupId", "DeploymentGroupName", "ApplicationName" };
	size_t i, variant;

	for (i = 0; i < NELEM(fields); i++) {
		for (variant = 0; variant < 6; variant++) {
			struct json *doc = minimal_spec();
			char *msg;

			switch (variant) {
			case 0:
				json_free(json_take(doc, fields[i]));
				break;
			case 1:
				json_set(doc, fields[i], json_null());
				break;
			case 2:
				json_set(doc, fields[i], json_string(""));
				break;
			case 3: /* v2 panicked on a number; v1 crashed */
				json_set(doc, fields[i], json_number(42));
				break;
			case 4:
				json_set(doc, fields[i], json_array());
				break;
			default:
				json_set(doc, fields[i], json_object());
				break;
			}
			msg = xasprintf(
			    "The deployment spec has no %s", fields[i]);
			expect_failure(doc, E_INVALID, msg);
			free(msg);
		}
	}
}

static void
payload__ids_checked_in_v1_order(void **state)
{
	struct json *doc = minimal_spec();

	json_free(json_take(doc, "ApplicationName"));
	json_set(doc, "DeploymentGroupName", json_null());
	json_free(json_take(doc, "Revision"));
	expect_failure(
	    doc, E_INVALID, "The deployment spec has no DeploymentGroupName");
}

static void
payload__missing_or_null_revision__must_specify_a_revision(void **state)
{
	struct json *doc;
	int variant;

	for (variant = 0; variant < 3; variant++) {
		doc = minimal_spec();
		if (variant == 0)
			json_free(json_take(doc, "Revision"));
		else if (variant == 1)
			json_set(doc, "Revision", json_null());
		else
			json_set(doc, "Revision", json_bool(0));
		expect_failure(doc, E_INVALID,
		    "The deployment spec must specify a revision");
	}
}

static void
payload__non_object_revision__has_no_revision_source(void **state)
{
	static const char msg[] =
	    "The deployment spec has no revision source: Revision needs a "
	    "RevisionType of S3, GitHub, Local File or Local Directory";
	struct json *doc;
	int variant;

	for (variant = 0; variant < 4; variant++) {
		doc = minimal_spec();
		if (variant == 0)
			json_set(doc, "Revision", json_string(""));
		else if (variant == 1)
			json_set(doc, "Revision", json_number(1));
		else if (variant == 2)
			json_set(doc, "Revision", json_object());
		else
			json_set(
			    doc, "Revision", strings("S3Revision", "x", NULL));
		expect_failure(doc, E_INVALID, msg);
	}
}

static void
payload__s3_missing_key__lists_required_keys(void **state)
{
	static const char *const keys[] = { "Bucket", "Key", "BundleType" };
	size_t i;

	for (i = 0; i < NELEM(keys); i++) {
		struct json *doc = minimal_spec();
		struct json *body = strings(
		    "Bucket", "b", "Key", "k", "BundleType", "tar", NULL);
		char *msg;

		json_free(json_take(body, keys[i]));
		json_set(doc, "Revision", revision("S3", "S3Revision", body));
		msg = xasprintf("S3Revision must specify Bucket, Key and "
				"BundleType; %s is missing",
		    keys[i]);
		expect_failure(doc, E_INVALID, msg);
		free(msg);
	}
}

static void
payload__s3_key_null_or_number__names_the_problem(void **state)
{
	struct json *doc = minimal_spec();
	struct json *body = strings("Bucket", "b", "BundleType", "tar", NULL);

	json_set(body, "Key", json_null());
	json_set(doc, "Revision", revision("S3", "S3Revision", body));
	expect_failure(doc, E_INVALID,
	    "S3Revision must specify Bucket, Key and BundleType; Key is null");
	doc = minimal_spec();
	body = strings("Key", "k", "BundleType", "tar", NULL);
	json_set(body, "Bucket", json_number(7));
	json_set(doc, "Revision", revision("S3", "S3Revision", body));
	expect_failure(doc, E_INVALID,
	    "S3Revision must specify Bucket, Key and BundleType; Bucket is "
	    "not a string");
}

static void
payload__s3_bundle_types__tar_tgz_zip_only(void **state)
{
	static const char *const good[] = { "tar", "tgz", "zip" };
	static const enum unpack_format formats[] = { UNPACK_TAR, UNPACK_TGZ,
		UNPACK_ZIP };
	static const char *const bad[] = { "bar", "directory", "TAR", "Zip",
		"tar.gz", "" };
	struct exec_spec spec;
	size_t i;

	for (i = 0; i < NELEM(good); i++) {
		struct json *doc = minimal_spec();

		json_set(doc, "Revision", s3_revision(good[i]));
		expect_success(doc, &spec);
		assert_int_equal(spec.bundle_type, formats[i]);
		exec_spec_clear(&spec);
	}
	for (i = 0; i < NELEM(bad); i++) {
		struct json *doc = minimal_spec();
		char *msg = bad[i][0] == '\0'
		    ? xstrdup("S3Revision must specify Bucket, Key and "
			      "BundleType; BundleType is empty")
		    : xasprintf("S3Revision BundleType \"%s\" is not valid; "
				"use tar, tgz or zip",
			  bad[i]);

		json_set(doc, "Revision", s3_revision(bad[i]));
		expect_failure(doc, E_INVALID, msg);
		free(msg);
	}
}

static void
payload__local_missing_key__lists_required_keys(void **state)
{
	static const char *const keys[] = { "Location", "BundleType" };
	size_t i;

	for (i = 0; i < NELEM(keys); i++) {
		struct json *doc = minimal_spec();
		struct json *body =
		    strings("Location", "/b", "BundleType", "tar", NULL);
		char *msg;

		json_free(json_take(body, keys[i]));
		json_set(doc, "Revision",
		    revision("Local File", "LocalRevision", body));
		msg = xasprintf("LocalRevision must specify Location and "
				"BundleType; %s is missing",
		    keys[i]);
		expect_failure(doc, E_INVALID, msg);
		free(msg);
	}
}

static void
payload__local_bundle_type_bar__rejected(void **state)
{
	static const char *const types[] = { "Local File", "Local Directory" };
	size_t i;

	for (i = 0; i < NELEM(types); i++) {
		struct json *doc = minimal_spec();

		json_set(doc, "Revision",
		    revision(types[i], "LocalRevision",
			strings("Location", "/b", "BundleType", "bar", NULL)));
		expect_failure(doc, E_INVALID,
		    "LocalRevision BundleType \"bar\" is not valid; use tar, "
		    "tgz, zip or directory");
	}
}

static void
envelope__plain_json_as_pkcs7__pkcs7_parse_error(void **state)
{
	char *text = minimal_spec_text();
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;

	assert_int_equal(dspec_parse_envelope("PKCS7/JSON", text, strlen(text),
			     &unsigned_ok, &spec, &err),
	    -1);
	assert_int_equal(err.code, E_PARSE);
	assert_true(strncmp(err.msg, "Failed to parse PKCS7: ", 23) == 0);
	free(text);
}

static void
payload__appspec_filename__default_and_given(void **state)
{
	struct json *doc = minimal_spec();
	struct exec_spec spec;

	expect_success(minimal_spec(), &spec);
	assert_null(spec.appspec_filename); /* exec: appspec.yml */
	exec_spec_clear(&spec);
	json_set(doc, "AppSpecFilename", json_string(""));
	expect_success(doc, &spec);
	assert_null(spec.appspec_filename);
	exec_spec_clear(&spec);
	doc = minimal_spec();
	json_set(doc, "AppSpecFilename", json_string("appspec_override.yaml"));
	expect_success(doc, &spec);
	assert_string_equal(spec.appspec_filename, "appspec_override.yaml");
	exec_spec_clear(&spec);
}

/* AgentActionOverrides with levels levels of nesting ending in feb. */
static struct json *
overrides(int levels, const char *feb)
{
	struct json *top = json_object(), *agent;

	if (levels >= 2) {
		agent = levels >= 3 ? strings("FileExistsBehavior", feb, NULL)
				    : json_object();
		json_set(top, "AgentOverrides", agent);
	}
	return top;
}

static void
payload__feb_missing_at_any_level__disallow(void **state)
{
	struct exec_spec spec;
	int levels;

	for (levels = 0; levels <= 2; levels++) {
		struct json *doc = minimal_spec();

		if (levels > 0)
			json_set(doc, "AgentActionOverrides",
			    overrides(levels, NULL));
		expect_success(doc, &spec);
		assert_int_equal(
		    spec.file_exists_behavior, APPSPEC_FEB_DISALLOW);
		exec_spec_clear(&spec);
	}
}

static void
payload__feb_given__upper_cased_and_taken(void **state)
{
	static const struct {
		const char *given;
		enum appspec_feb feb;
	} cases[] = {
		{ "OVERWRITE", APPSPEC_FEB_OVERWRITE },
		{ "overwrite", APPSPEC_FEB_OVERWRITE },
		{ "Retain", APPSPEC_FEB_RETAIN },
		{ "DISALLOW", APPSPEC_FEB_DISALLOW },
	};
	struct exec_spec spec;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		struct json *doc = minimal_spec();

		json_set(
		    doc, "AgentActionOverrides", overrides(3, cases[i].given));
		expect_success(doc, &spec);
		assert_int_equal(spec.file_exists_behavior, cases[i].feb);
		exec_spec_clear(&spec);
	}
}

static void
payload__feb_unknown__rejected(void **state)
{
	struct json *doc = minimal_spec();

	json_set(doc, "AgentActionOverrides", overrides(3, "CLOBBER"));
	expect_failure(doc, E_INVALID,
	    "AgentActionOverrides.AgentOverrides.FileExistsBehavior "
	    "\"CLOBBER\" is not valid; use DISALLOW, OVERWRITE or RETAIN");
}

/* ---- v1 command_poller_test.rb: the output object ----------------------- */

static void
output__deployment_system_mismatch__names_both(void **state)
{
	static const struct {
		const char *system, *msg;
	} cases[] = {
		{ "WackyDeployer",
		    "Deployment system mismatch: CodeDeploy != WackyDeployer" },
		{ "", "Deployment system mismatch: CodeDeploy != " },
		{ NULL, "Deployment system mismatch: CodeDeploy != " },
		{ "codedeploy",
		    "Deployment system mismatch: CodeDeploy != codedeploy" },
	};
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		char *text = minimal_spec_text();
		struct json *out = output(cases[i].system, "TEXT/JSON", text);
		struct exec_spec spec = { 0 };
		struct err err = ERR_INIT;

		assert_int_equal(
		    dspec_parse_output(out, &unsigned_ok, &spec, &err), -1);
		assert_string_equal(err.msg, cases[i].msg);
		assert_null(spec.deployment_id);
		json_free(out);
		free(text);
	}
}

static void
output__deployment_system_not_a_string__mismatch(void **state)
{
	struct json *out = output(NULL, NULL, NULL);
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;

	json_set(out, "DeploymentSystem", json_number(1));
	assert_int_equal(
	    dspec_parse_output(out, &unsigned_ok, &spec, &err), -1);
	assert_string_equal(
	    err.msg, "Deployment system mismatch: CodeDeploy != ");
	json_free(out);
}

static void
output__missing_specification__rejected(void **state)
{
	struct json *out = strings("DeploymentSystem", "CodeDeploy", NULL);
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;

	assert_int_equal(
	    dspec_parse_output(out, &unsigned_ok, &spec, &err), -1);
	assert_string_equal(err.msg,
	    "The GetDeploymentSpecification output has no "
	    "DeploymentSpecification");
	json_free(out);
}

static void
output__signed_generic_envelope__parsed_variant_ignored(void **state)
{
	char *text = minimal_spec_text(), *pem;
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;
	struct json *out, *ds;
	size_t len;

	pem = sign_text(text, PKCS7_SIGNER_PEM, &len);
	ds = json_object();
	json_set(ds, "GenericEnvelope",
	    strings("Format", "PKCS7/JSON", "Payload", pem, NULL));
	json_set(ds, "VariantId", json_string("v-1"));
	json_set(ds, "VariantEnvelope",
	    strings("Format", "XML", "Payload", "<garbage/>", NULL));
	out = strings("DeploymentSystem", "CodeDeploy", NULL);
	json_set(out, "DeploymentSpecification", ds);
	if (dspec_parse_output(out, &signed_only, &spec, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(spec.deployment_id, "d-ABCDEFGHI");
	exec_spec_clear(&spec);
	json_free(out);
	free(pem);
	free(text);
}

/* ---- v2 builder.rs ----------------------------------------------------- */

static void
payload__build_minimal__v2_defaults(void **state)
{
	struct exec_spec spec;

	expect_success(minimal_spec(), &spec);
	assert_string_equal(spec.deployment_creator, "user");
	assert_string_equal(spec.deployment_type, "IN_PLACE");
	assert_null(spec.appspec_filename);
	assert_int_equal(spec.file_exists_behavior, APPSPEC_FEB_DISALLOW);
	assert_null(spec.all_possible_events);
	exec_spec_clear(&spec);
}

static void
payload__lifecycle_events_mixed_types__strings_kept(void **state)
{
	struct json *doc = minimal_spec(), *events = json_array();
	struct exec_spec spec;

	json_push(events, json_string("BeforeInstall"));
	json_push(events, json_number(123));
	json_push(events, json_string("AfterInstall"));
	json_push(events, json_null());
	json_push(events, json_object());
	json_set(doc, "AllPossibleLifecycleEvents", events);
	expect_success(doc, &spec);
	assert_int_equal(spec.nall_possible_events, 2);
	assert_string_equal(spec.all_possible_events[0], "BeforeInstall");
	assert_string_equal(spec.all_possible_events[1], "AfterInstall");
	exec_spec_clear(&spec);
}

static void
payload__too_many_lifecycle_events__limit(void **state)
{
	struct json *doc = minimal_spec(), *events = json_array();
	struct exec_spec spec;
	char *msg;
	size_t i;

	for (i = 0; i < DSPEC_MAX_EVENTS; i++)
		json_push(events, json_string("CustomEvent"));
	json_set(doc, "AllPossibleLifecycleEvents", events);
	expect_success(doc, &spec);
	assert_int_equal(spec.nall_possible_events, DSPEC_MAX_EVENTS);
	exec_spec_clear(&spec);

	doc = minimal_spec();
	events = json_array();
	for (i = 0; i <= DSPEC_MAX_EVENTS; i++)
		json_push(events, json_number(1));
	json_set(doc, "AllPossibleLifecycleEvents", events);
	msg = xasprintf("AllPossibleLifecycleEvents has %d entries, more than "
			"the %d allowed",
	    DSPEC_MAX_EVENTS + 1, DSPEC_MAX_EVENTS);
	expect_failure(doc, E_LIMIT, msg);
	free(msg);
}

static void
payload__lifecycle_events_not_an_array__ignored(void **state)
{
	struct json *doc = minimal_spec();
	struct exec_spec spec;

	json_set(doc, "AllPossibleLifecycleEvents", json_string("Install"));
	expect_success(doc, &spec);
	assert_int_equal(spec.nall_possible_events, 0);
	exec_spec_clear(&spec);
}

static void
payload__traversal_in_deployment_id__rejected(void **state)
{
	static const struct {
		const char *given, *shown;
	} cases[] = {
		{ "..", ".." },
		{ ".", "." },
		{ "d-A/../../etc", "d-A/../../etc" },
		{ "../../../../tmp/evil", "../../../../tmp/evil" },
		{ "d-A/B", "d-A/B" },
		{ "d-A\\B", "d-A\\\\B" },
		{ "d-A\nB", "d-A\\x0aB" },
		{ "arn:aws:codedeploy:us-east-1:1:deployment/d-A/../../etc",
		    "d-A/../../etc" },
		{ "arn:aws:codedeploy:us-east-1:1:deployment/..", ".." },
		{ "arn:aws:codedeploy:us-east-1:1:deployment/", "" },
	};
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		struct json *doc = minimal_spec();
		char *msg = xasprintf(
		    "DeploymentId is not a valid path component: \"%s\"",
		    cases[i].shown);

		json_set(doc, "DeploymentId", json_string(cases[i].given));
		expect_failure(doc, E_UNSAFE, msg);
		free(msg);
	}
}

static void
payload__traversal_in_deployment_group_id__rejected(void **state)
{
	static const char *const ids[] = { "..", "../../../../tmp/evil",
		"dg/sub", "/abs", "." };
	size_t i;

	for (i = 0; i < NELEM(ids); i++) {
		struct json *doc = minimal_spec();
		char *msg = xasprintf(
		    "DeploymentGroupId is not a valid path component: \"%s\"",
		    ids[i]);

		json_set(doc, "DeploymentGroupId", json_string(ids[i]));
		expect_failure(doc, E_UNSAFE, msg);
		free(msg);
	}
}

static void
payload__overlong_id__rejected_and_shown_cut(void **state)
{
	struct json *doc = minimal_spec();
	char id[300];

	memset(id, 'A', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	json_set(doc, "DeploymentGroupId", json_string(id));
	{
		char *msg = xasprintf("DeploymentGroupId is not a valid path "
				      "component: \"%.80s...\"",
		    id);

		expect_failure(doc, E_UNSAFE, msg);
		free(msg);
	}
}

static void
payload__uuid_shaped_group_id__accepted(void **state)
{
	struct exec_spec spec;

	expect_success(minimal_spec(), &spec);
	assert_string_equal(spec.deployment_group_id, GROUP_ID);
	exec_spec_clear(&spec);
}

static void
payload__traversal_in_appspec_filename__rejected(void **state)
{
	static const char *const names[] = { "../../etc/passwd", "/etc/shadow",
		"configs/../../appspec.yml", "..", "a/..", "app\nspec.yml" };
	static const char *const shown[] = { "../../etc/passwd", "/etc/shadow",
		"configs/../../appspec.yml", "..", "a/..", "app\\x0aspec.yml" };
	size_t i;

	for (i = 0; i < NELEM(names); i++) {
		struct json *doc = minimal_spec();
		char *msg = xasprintf("AppSpecFilename is not a safe "
				      "revision-relative path: \"%s\"",
		    shown[i]);

		json_set(doc, "AppSpecFilename", json_string(names[i]));
		expect_failure(doc, E_UNSAFE, msg);
		free(msg);
	}
}

static void
payload__nested_appspec_filename__accepted(void **state)
{
	static const char *const names[] = { "configs/appspec.yml",
		"a/b/c/appspec.yaml", "..appspec.yml", "dir../appspec.yml" };
	struct exec_spec spec;
	size_t i;

	for (i = 0; i < NELEM(names); i++) {
		struct json *doc = minimal_spec();

		json_set(doc, "AppSpecFilename", json_string(names[i]));
		expect_success(doc, &spec);
		assert_string_equal(spec.appspec_filename, names[i]);
		exec_spec_clear(&spec);
	}
}

/* ---- revision kinds and their rules ------------------------------------ */

static void
payload__unknown_revision_type__must_specify_one_kind(void **state)
{
	struct json *doc = minimal_spec();

	json_set(doc, "Revision",
	    revision("CodeCommit", "S3Revision", strings("Bucket", "b", NULL)));
	expect_failure(doc, E_INVALID,
	    "The deployment spec must specify exactly one of an S3, GitHub or "
	    "local revision; RevisionType \"CodeCommit\" is none of S3, "
	    "GitHub, Local File, Local Directory");
	doc = minimal_spec();
	json_set(doc, "Revision", revision("s3", "S3Revision", json_null()));
	expect_failure(doc, E_INVALID,
	    "The deployment spec must specify exactly one of an S3, GitHub or "
	    "local revision; RevisionType \"s3\" is none of S3, GitHub, Local "
	    "File, Local Directory");
}

static void
payload__revision_object_missing__must_specify_failure(void **state)
{
	static const struct {
		const char *type, *member;
	} cases[] = {
		{ "S3", "S3Revision" },
		{ "GitHub", "GitHubRevision" },
		{ "Local File", "LocalRevision" },
		{ "Local Directory", "LocalRevision" },
	};
	size_t i;
	int variant;

	for (i = 0; i < NELEM(cases); i++) {
		for (variant = 0; variant < 3; variant++) {
			struct json *doc = minimal_spec();
			char *msg;

			/* absent, null, or the wrong kind's object */
			if (variant == 0)
				json_set(doc, "Revision",
				    revision(cases[i].type, NULL, NULL));
			else if (variant == 1)
				json_set(doc, "Revision",
				    revision(cases[i].type, cases[i].member,
					json_null()));
			else
				json_set(doc, "Revision",
				    revision(cases[i].type,
					strcmp(cases[i].member, "S3Revision") ==
						0
					    ? "LocalRevision"
					    : "S3Revision",
					strings("Bucket", "b", "Key", "k",
					    "Location", "/l", "BundleType",
					    "tar", NULL)));
			msg = xasprintf("The deployment spec must specify "
					"exactly one of an S3, GitHub or local "
					"revision; RevisionType %s needs a "
					"Revision.%s object",
			    cases[i].type, cases[i].member);
			expect_failure(doc, E_INVALID, msg);
			free(msg);
		}
	}
}

static void
payload__github_bundle_types__tar_zip_or_absent(void **state)
{
	static const struct {
		const char *given; /* NULL: absent */
		int null_value;
		enum unpack_format format;
	} good[] = {
		{ "tar", 0, UNPACK_TAR },
		{ "zip", 0, UNPACK_ZIP },
		{ NULL, 0, UNPACK_TAR },
		{ NULL, 1, UNPACK_TAR },
	};
	static const char *const bad[] = { "tgz", "directory", "bar", "ZIP" };
	struct exec_spec spec;
	size_t i;

	for (i = 0; i < NELEM(good); i++) {
		struct json *doc = minimal_spec();
		struct json *body = strings(
		    "Account", "a", "Repository", "r", "CommitId", "c", NULL);

		if (good[i].given != NULL)
			json_set(
			    body, "BundleType", json_string(good[i].given));
		else if (good[i].null_value)
			json_set(body, "BundleType", json_null());
		json_set(doc, "Revision",
		    revision("GitHub", "GitHubRevision", body));
		expect_success(doc, &spec);
		assert_int_equal(spec.bundle_type, good[i].format);
		exec_spec_clear(&spec);
	}
	for (i = 0; i < NELEM(bad); i++) {
		struct json *doc = minimal_spec();
		char *msg = xasprintf("GitHubRevision BundleType \"%s\" is not "
				      "valid; use tar or zip",
		    bad[i]);

		json_set(doc, "Revision",
		    revision("GitHub", "GitHubRevision",
			strings("Account", "a", "Repository", "r", "CommitId",
			    "c", "BundleType", bad[i], NULL)));
		expect_failure(doc, E_INVALID, msg);
		free(msg);
	}
}

static void
payload__github_missing_key__lists_required_keys(void **state)
{
	static const char *const keys[] = { "Account", "Repository",
		"CommitId" };
	size_t i;

	for (i = 0; i < NELEM(keys); i++) {
		struct json *doc = minimal_spec();
		struct json *body = strings(
		    "Account", "a", "Repository", "r", "CommitId", "c", NULL);
		char *msg;

		json_free(json_take(body, keys[i]));
		json_set(doc, "Revision",
		    revision("GitHub", "GitHubRevision", body));
		msg = xasprintf("GitHubRevision must specify Account, "
				"Repository and CommitId; %s is missing",
		    keys[i]);
		expect_failure(doc, E_INVALID, msg);
		free(msg);
	}
}

static void
payload__github_not_anonymous__needs_oauth_token_key(void **state)
{
	struct json *doc = minimal_spec(), *body;
	struct exec_spec spec;

	body =
	    strings("Account", "a", "Repository", "r", "CommitId", "c", NULL);
	json_set(body, "Anonymous", json_bool(0));
	json_set(doc, "Revision", revision("GitHub", "GitHubRevision", body));
	expect_failure(doc, E_INVALID,
	    "GitHubRevision must specify OAuthToken when Anonymous is false");

	/* the key alone is enough (v1: present, value may be null) */
	doc = minimal_spec();
	body =
	    strings("Account", "a", "Repository", "r", "CommitId", "c", NULL);
	json_set(body, "Anonymous", json_bool(0));
	json_set(body, "OAuthToken", json_null());
	json_set(doc, "Revision", revision("GitHub", "GitHubRevision", body));
	json_set(doc, "GitHubAccessToken", json_string("ghp_top"));
	expect_success(doc, &spec);
	assert_string_equal(spec.github_token, "ghp_top");
	exec_spec_clear(&spec);

	/* anonymous, or not said: no token needed, none kept */
	doc = minimal_spec();
	body = strings("Account", "a", "Repository", "r", "CommitId", "c",
	    "OAuthToken", "in-revision-not-used", NULL);
	json_set(body, "Anonymous", json_bool(1));
	json_set(doc, "Revision", revision("GitHub", "GitHubRevision", body));
	expect_success(doc, &spec);
	assert_null(spec.github_token);
	exec_spec_clear(&spec);
}

static void
payload__optional_fields_of_wrong_type__defaults(void **state)
{
	struct json *doc = minimal_spec();
	struct exec_spec spec;

	json_set(doc, "DeploymentCreator", json_number(1));
	json_set(doc, "DeploymentType", json_array());
	json_set(doc, "AppSpecFilename", json_bool(1));
	json_set(doc, "GitHubAccessToken", json_number(5));
	json_set(doc, "ReuseArchiveFromDeploymentId", json_number(5));
	json_set(doc, "AgentActionOverrides", json_string("OVERWRITE"));
	expect_success(doc, &spec);
	assert_string_equal(spec.deployment_creator, "user");
	assert_string_equal(spec.deployment_type, "IN_PLACE");
	assert_null(spec.appspec_filename);
	assert_null(spec.github_token);
	assert_null(spec.reuse_archive_from);
	assert_int_equal(spec.file_exists_behavior, APPSPEC_FEB_DISALLOW);
	exec_spec_clear(&spec);
}

/* ---- ReuseArchiveFromDeploymentId (v2 §3.2, §3.3) ---------------------- */

static void
payload__reuse_archive_id__kept_and_arn_shortened(void **state)
{
	static const struct {
		const char *given, *kept; /* kept NULL: absent */
	} cases[] = {
		{ "d-A1B2C3D4E", "d-A1B2C3D4E" },
		{ "arn:aws:codedeploy:us-east-1:123412341234:deployment/"
		  "d-A1B2C3D4E",
		    "d-A1B2C3D4E" },
		{ "", NULL },
		/* checked only where used: kept as given */
		{ "d-../../etc", "d-../../etc" },
		{ "arn:aws:codedeploy:broken", "arn:aws:codedeploy:broken" },
		/* an ARN with nothing after "deployment/" (found by
		 * fuzz_dspec): kept whole, never an empty id */
		{ "arn:aws:codedeploy:us-east-1:1:deployment/",
		    "arn:aws:codedeploy:us-east-1:1:deployment/" },
	};
	struct exec_spec spec;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		struct json *doc = minimal_spec();

		json_set(doc, "ReuseArchiveFromDeploymentId",
		    json_string(cases[i].given));
		expect_success(doc, &spec);
		if (cases[i].kept == NULL)
			assert_null(spec.reuse_archive_from);
		else
			assert_string_equal(
			    spec.reuse_archive_from, cases[i].kept);
		exec_spec_clear(&spec);
	}
}

/* ---- envelopes: v2 envelope.rs, parse.rs, signatures -------------------- */

static void
envelope__text_json__needs_caller_permission(void **state)
{
	static const char *const formats[] = { "TEXT/JSON", "JSON" };
	char *text = minimal_spec_text();
	size_t i;

	for (i = 0; i < NELEM(formats); i++) {
		struct exec_spec spec = { 0 };
		struct err err = ERR_INIT;
		char *msg;

		assert_int_equal(dspec_parse_envelope(formats[i], text,
				     strlen(text), &unsigned_ok, &spec, &err),
		    0);
		assert_string_equal(spec.deployment_id, "d-ABCDEFGHI");
		exec_spec_clear(&spec);

		msg = xasprintf("Unsupported deployment specification format: "
				"%s (unsigned specs are accepted only with "
				"CODEDEPLOY_DEVELOPER_MODE=true)",
		    formats[i]);
		assert_int_equal(dspec_parse_envelope(formats[i], text,
				     strlen(text), &signed_only, &spec, &err),
		    -1);
		assert_string_equal(err.msg, msg);
		err_clear(&err);
		assert_int_equal(dspec_parse_envelope(formats[i], text,
				     strlen(text), NULL, &spec, &err),
		    -1);
		assert_string_equal(err.msg, msg);
		assert_null(spec.deployment_id);
		free(msg);
	}
	free(text);
}

static void
developer_mode__exactly_true(void **state)
{
	static const char *const no[] = { "TRUE", "True", "1", "yes", "true ",
		"" };
	size_t i;

	unsetenv("CODEDEPLOY_DEVELOPER_MODE");
	assert_false(dspec_developer_mode());
	setenv("CODEDEPLOY_DEVELOPER_MODE", "true", 1);
	assert_true(dspec_developer_mode());
	for (i = 0; i < NELEM(no); i++) {
		setenv("CODEDEPLOY_DEVELOPER_MODE", no[i], 1);
		assert_false(dspec_developer_mode());
	}
	unsetenv("CODEDEPLOY_DEVELOPER_MODE");
}

static void
envelope__text_json_in_developer_mode__through_output(void **state)
{
	char *text = minimal_spec_text();
	struct json *out = output("CodeDeploy", "TEXT/JSON", text);
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;
	struct dspec_opts opts = { 0 };

	setenv("CODEDEPLOY_DEVELOPER_MODE", "true", 1);
	opts.allow_unsigned = dspec_developer_mode();
	unsetenv("CODEDEPLOY_DEVELOPER_MODE");
	if (dspec_parse_output(out, &opts, &spec, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(spec.bucket, "mybucket");
	exec_spec_clear(&spec);
	opts.allow_unsigned = dspec_developer_mode();
	assert_int_equal(dspec_parse_output(out, &opts, &spec, &err), -1);
	assert_non_null(strstr(err.msg, "Unsupported"));
	json_free(out);
	free(text);
}

static void
envelope__empty_payload__nil(void **state)
{
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;
	struct json *out;

	assert_int_equal(dspec_parse_envelope(
			     "PKCS7/JSON", "", 0, &unsigned_ok, &spec, &err),
	    -1);
	assert_string_equal(err.msg, "Provided deployment spec was nil");
	err_clear(&err);
	assert_int_equal(dspec_parse_envelope(
			     "TEXT/JSON", NULL, 0, &unsigned_ok, &spec, &err),
	    -1);
	assert_string_equal(err.msg, "Provided deployment spec was nil");
	err_clear(&err);
	out = output("CodeDeploy", "PKCS7/JSON", NULL);
	assert_int_equal(
	    dspec_parse_output(out, &unsigned_ok, &spec, &err), -1);
	assert_string_equal(err.msg, "Provided deployment spec was nil");
	json_free(out);
}

static void
envelope__pem_and_der__both_accepted(void **state)
{
	static const unsigned flags[] = { PKCS7_SIGNER_PEM, 0 };
	char *text = minimal_spec_text();
	size_t i;

	for (i = 0; i < NELEM(flags); i++) {
		struct exec_spec spec = { 0 };
		struct err err = ERR_INIT;
		size_t len;
		char *msg = sign_text(text, flags[i], &len);

		if (flags[i] & PKCS7_SIGNER_PEM)
			assert_true(
			    strncmp(msg, "-----BEGIN PKCS7-----", 21) == 0);
		if (dspec_parse_envelope(
			"PKCS7/JSON", msg, len, &signed_only, &spec, &err) < 0)
			fail_msg("%s", err.msg);
		assert_string_equal(spec.deployment_id, "d-ABCDEFGHI");
		assert_string_equal(spec.key, "app/bundle.tgz");
		exec_spec_clear(&spec);
		free(msg);
	}
	free(text);
}

/* msg must be rejected as a PKCS7/JSON envelope with code and prefix. */
static void
expect_rejected(
    const char *msg, size_t len, enum err_code code, const char *prefix)
{
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;

	assert_int_equal(dspec_parse_envelope(
			     "PKCS7/JSON", msg, len, &unsigned_ok, &spec, &err),
	    -1);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
		fail_msg("expected \"%s...\", got \"%s\"", prefix, err.msg);
	assert_int_equal(err.code, code);
	assert_null(spec.deployment_id);
}

static void
envelope__content_byte_flipped__rejected(void **state)
{
	char *text = minimal_spec_text(), *msg, *at;
	size_t len;

	/* the flip keeps the JSON valid: only the signature can catch it */
	msg = sign_text(text, 0, &len);
	at = memmem(msg, len, "d-ABCDEFGHI", 11);
	assert_non_null(at);
	at[2] = 'X';
	expect_rejected(
	    msg, len, E_AUTH, "PKCS7 signature verification failed: ");
	free(msg);
	free(text);
}

static void
envelope__content_replaced_pem__rejected(void **state)
{
	char *text = minimal_spec_text(), *evil = xstrdup(text), *msg, *at;
	struct pkcs7_sign_req req = { text, strlen(text), PKCS7_SIGNER_PEM,
		NULL, 0, NULL };
	size_t len;

	at = strstr(evil, "mybucket");
	memcpy(at, "evilbuck", 8);
	req.embedded = evil;
	req.embedded_len = strlen(evil);
	msg = pkcs7_signer_sign(signer, &req, &len);
	expect_rejected(
	    msg, len, E_AUTH, "PKCS7 signature verification failed: ");
	free(msg);
	free(evil);
	free(text);
}

static void
envelope__signature_does_not_match__rejected(void **state)
{
	char *text = minimal_spec_text(), *msg;
	size_t len;

	msg = sign_text(text, PKCS7_SIGNER_PEM | PKCS7_SIGNER_BAD_SIG, &len);
	expect_rejected(
	    msg, len, E_AUTH, "PKCS7 signature verification failed: ");
	free(msg);
	free(text);
}

static void
envelope__other_signers_cert_embedded__rejected(void **state)
{
	char *text = minimal_spec_text(), *msg;
	struct pkcs7_sign_req req = { text, strlen(text), 0, NULL, 0,
		other_signer };
	size_t len;

	/* same issuer and serial, another key: the signature cannot match */
	msg = pkcs7_signer_sign(signer, &req, &len);
	expect_rejected(
	    msg, len, E_AUTH, "PKCS7 signature verification failed: ");
	free(msg);
	free(text);
}

static void
envelope__signer_cert_absent__rejected(void **state)
{
	char *text = minimal_spec_text(), *msg;
	size_t len;

	msg = sign_text(text, PKCS7_SIGNER_PEM | PKCS7_SIGNER_NO_CERTS, &len);
	expect_rejected(
	    msg, len, E_AUTH, "PKCS7 signature verification failed: ");
	free(msg);
	free(text);
}

static void
envelope__no_signers__rejected(void **state)
{
	char *text = minimal_spec_text(), *msg;
	size_t len;

	msg = sign_text(text, PKCS7_SIGNER_NO_SIGNERS, &len);
	expect_rejected(
	    msg, len, E_AUTH, "PKCS7 signature verification failed: ");
	free(msg);
	free(text);
}

static void
envelope__detached_content__rejected(void **state)
{
	char *text = minimal_spec_text(), *msg;
	size_t len;

	msg = sign_text(text, PKCS7_SIGNER_DETACHED, &len);
	expect_rejected(msg, len, E_PARSE,
	    "Failed to parse PKCS7: the content is not attached");
	free(msg);
	free(text);
}

static void
envelope__truncated_or_trailing_bytes__parse_error(void **state)
{
	static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
				       "-----END CERTIFICATE-----\n";
	char *text = minimal_spec_text(), *msg, *longer;
	size_t len;

	msg = sign_text(text, 0, &len);
	expect_rejected(msg, len / 2, E_PARSE, "Failed to parse PKCS7: ");
	longer = xmalloc(len + 1);
	memcpy(longer, msg, len);
	longer[len] = 'x';
	expect_rejected(longer, len + 1, E_PARSE,
	    "Failed to parse PKCS7: bytes after the message");
	free(longer);
	free(msg);
	free(text);
	expect_rejected(cert_pem, strlen(cert_pem), E_PARSE,
	    "Failed to parse PKCS7: the PEM block is CERTIFICATE, not PKCS7");
}

static void
envelope__signed_non_utf8__rejected(void **state)
{
	static const char *const contents[] = {
		"{\"DeploymentId\":\"d-\xff\"}",	 /* not UTF-8 at all */
		"{\"DeploymentId\":\"d-\xc0\xaf\"}",	 /* overlong '/' */
		"{\"DeploymentId\":\"d-\xed\xa0\x80\"}", /* a surrogate */
		"{\"DeploymentId\":\"d-\xe2\x82\"}",	 /* cut short */
	};
	size_t i, len;

	for (i = 0; i < NELEM(contents); i++) {
		char *msg = sign_text(contents[i], PKCS7_SIGNER_PEM, &len);

		expect_rejected(
		    msg, len, E_PARSE, "Invalid UTF-8 in signed data");
		free(msg);
	}
}

static void
envelope__signed_not_json__parse_error(void **state)
{
	char *msg;
	size_t len;

	msg = sign_text("not json", PKCS7_SIGNER_PEM, &len);
	expect_rejected(
	    msg, len, E_PARSE, "The deployment spec: invalid JSON near byte");
	free(msg);
	msg = sign_text("[1,2]", PKCS7_SIGNER_PEM, &len);
	expect_rejected(
	    msg, len, E_PARSE, "The deployment spec is not a JSON object");
	free(msg);
}

static void
envelope__signed_spec_with_error__reports_field(void **state)
{
	struct json *doc = minimal_spec();
	char *text, *msg;
	size_t len;

	json_set(doc, "DeploymentId", json_string("d-A/../../etc"));
	text = json_print(doc);
	json_free(doc);
	msg = sign_text(text, PKCS7_SIGNER_PEM, &len);
	expect_rejected(msg, len, E_UNSAFE,
	    "DeploymentId is not a valid path component: \"d-A/../../etc\"");
	free(msg);
	free(text);
}

/* ---- hostile text ------------------------------------------------------- */

static void
payload__non_utf8_or_nul__rejected(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *msg;
	} cases[] = {
		{ "{\"DeploymentId\":\"d-\xfe\"}", 22,
		    "The deployment spec is not valid UTF-8 (offset 19)" },
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", 12,
		    "The deployment spec is not valid UTF-8 (offset 6)" },
		{ "{\"a\":\"b\"}\0{}", 12,
		    "The deployment spec has a NUL byte at offset 9" },
		{ "{\"DeploymentId\":\"d-A\\u0000/../x\"}", 33,
		    "The deployment spec has a \\u0000 escape at offset 20; "
		    "no value may contain a NUL character" },
	};
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		struct exec_spec spec = { 0 };
		struct err err = ERR_INIT;

		assert_int_equal(
		    dspec_parse_envelope("TEXT/JSON", cases[i].text,
			cases[i].len, &unsigned_ok, &spec, &err),
		    -1);
		assert_string_equal(err.msg, cases[i].msg);
		assert_int_equal(err.code, E_PARSE);
	}
}

static void
payload__utf8_and_escapes__accepted(void **state)
{
	struct json *doc = minimal_spec();
	struct exec_spec spec;
	char *text;
	struct err err = ERR_INIT;

	json_set(doc, "DeploymentGroupName",
	    json_string("gr\xc3\xbcppe \xf0\x9f\x9a\x80"));
	text = json_print(doc);
	json_free(doc);
	memset(&spec, 0, sizeof(spec));
	assert_int_equal(
	    dspec_parse_payload(text, strlen(text), &spec, &err), 0);
	assert_string_equal(
	    spec.deployment_group_name, "gr\xc3\xbcppe \xf0\x9f\x9a\x80");
	exec_spec_clear(&spec);
	free(text);
	/* "\\u0000" is a backslash and text, not a NUL */
	text = xstrdup("{\"x\":\"\\\\u0000\",\"DeploymentId\":\"\\u0064-A\"}");
	assert_int_equal(
	    dspec_parse_payload(text, strlen(text), &spec, &err), -1);
	assert_string_equal(
	    err.msg, "The deployment spec has no DeploymentGroupId");
	free(text);
}

static void
payload__oversize__rejected(void **state)
{
	size_t len = DSPEC_MAX_PAYLOAD + 1;
	char *big = xmalloc(len + 1);
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;
	char *msg;

	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	big[len] = '\0';
	assert_int_equal(dspec_parse_envelope(
			     "TEXT/JSON", big, len, &unsigned_ok, &spec, &err),
	    -1);
	assert_int_equal(err.code, E_LIMIT);
	msg = xasprintf("The deployment spec payload is %zu bytes, more than "
			"the %u allowed",
	    len, DSPEC_MAX_PAYLOAD);
	assert_string_equal(err.msg, msg);
	free(msg);
	err_clear(&err);
	assert_int_equal(dspec_parse_payload(big, len, &spec, &err), -1);
	assert_int_equal(err.code, E_LIMIT);
	free(big);
}

static void
envelope__signed_oversize_content__rejected(void **state)
{
	size_t len = DSPEC_MAX_PAYLOAD - 1024, msg_len;
	char *big = xmalloc(len + 1), *msg;
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;

	/* the message fits no longer once base64 and signature are added */
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	big[len] = '\0';
	msg = sign_text(big, PKCS7_SIGNER_PEM, &msg_len);
	assert_true(msg_len > DSPEC_MAX_PAYLOAD);
	assert_int_equal(dspec_parse_envelope("PKCS7/JSON", msg, msg_len,
			     &unsigned_ok, &spec, &err),
	    -1);
	assert_int_equal(err.code, E_LIMIT);
	free(msg);
	/* in DER it fits, and the content is checked in full */
	msg = sign_text(big, 0, &msg_len);
	assert_true(msg_len <= DSPEC_MAX_PAYLOAD);
	err_clear(&err);
	assert_int_equal(dspec_parse_envelope("PKCS7/JSON", msg, msg_len,
			     &unsigned_ok, &spec, &err),
	    -1);
	assert_string_equal(err.msg, "The deployment spec has no DeploymentId");
	free(msg);
	free(big);
}

/* ---- the debug log line (v1 §2.2 step 3, v2 parse.rs) -------------------- */

static void
redacted_json__github_token__replaced(void **state)
{
	struct json *doc = minimal_spec();
	char *text, *redacted;

	json_set(doc, "GitHubAccessToken", json_string("gho_S3CRET"));
	text = json_print(doc);
	json_free(doc);
	redacted = dspec_redacted_json(text, strlen(text));
	assert_non_null(redacted);
	assert_null(strstr(redacted, "gho_S3CRET"));
	assert_non_null(strstr(redacted, "\"GitHubAccessToken\":\"REDACTED\""));
	assert_non_null(strstr(redacted, "\"DeploymentId\":\"d-ABCDEFGHI\""));
	free(redacted);
	free(text);
	/* nothing to redact: unchanged */
	text = minimal_spec_text();
	redacted = dspec_redacted_json(text, strlen(text));
	assert_string_equal(redacted, text);
	free(redacted);
	free(text);
	assert_null(dspec_redacted_json("{", 1));
}

static void
envelope__debug_log__has_spec_without_token(void **state)
{
	char *dir = *state, *path = xasprintf("%s/agent.log", dir);
	struct log_opts opts = {
		.ident = "test",
		.level = LOG_LEVEL_DEBUG,
		.sinks = LOG_SINK_FILE,
		.file_path = path,
		.stderr_fd = -1,
	};
	struct json *doc = minimal_spec();
	struct exec_spec spec = { 0 };
	struct err err = ERR_INIT;
	char *text, *msg, *logged;
	size_t len;

	json_set(doc, "GitHubAccessToken", json_string("gho_S3CRET"));
	text = json_print(doc);
	json_free(doc);
	msg = sign_text(text, PKCS7_SIGNER_PEM, &len);
	assert_int_equal(log_open(&opts, &err), 0);
	if (dspec_parse_envelope(
		"PKCS7/JSON", msg, len, &signed_only, &spec, &err) < 0)
		fail_msg("%s", err.msg);
	log_close();
	assert_string_equal(spec.github_token, "gho_S3CRET");
	exec_spec_clear(&spec);
	logged = tu_slurp(path);
	assert_non_null(strstr(logged, "deployment spec: {"));
	assert_non_null(strstr(logged, "d-ABCDEFGHI"));
	assert_null(strstr(logged, "gho_S3CRET"));
	free(logged);
	free(msg);
	free(text);
	free(path);
}

/* ---- tests/data/dspec (the fuzzer's seeds) ------------------------------ */

static void
seed_files__good_ones_parse_signed_bad_ones_fail(void **state)
{
	const char *top = getenv("TOP_SRCDIR");
	char *dir = xasprintf("%s/tests/data/dspec", top != NULL ? top : ".");
	DIR *d = opendir(dir);
	struct dirent *ent;
	int nfiles = 0;

	if (d == NULL)
		fail_msg("cannot open %s", dir);
	while ((ent = readdir(d)) != NULL) {
		struct exec_spec spec = { 0 };
		struct err err = ERR_INIT;
		char *path, *text, *msg;
		size_t len;
		int r;

		if (ent->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, ent->d_name);
		text = tu_slurp(path);
		msg = sign_text(text, PKCS7_SIGNER_PEM, &len);
		r = dspec_parse_envelope(
		    "PKCS7/JSON", msg, len, &signed_only, &spec, &err);
		if (strncmp(ent->d_name, "bad-", 4) == 0) {
			assert_int_equal(r, -1);
		} else {
			if (r < 0)
				fail_msg("%s: %s", ent->d_name, err.msg);
			exec_spec_clear(&spec);
		}
		nfiles++;
		free(msg);
		free(text);
		free(path);
	}
	closedir(d);
	free(dir);
	assert_true(nfiles >= 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* v1 deployment_specification_test.rb */
		cmocka_unit_test(payload__github_revision__fills_spec),
		cmocka_unit_test(payload__s3_revision__fills_spec),
		cmocka_unit_test(
		    payload__s3_without_version_or_etag__leaves_them_null),
		cmocka_unit_test(
		    payload__local_revisions__fill_location_and_type),
		cmocka_unit_test(payload__all_possible_lifecycle_events__kept),
		cmocka_unit_test(
		    payload__no_lifecycle_events__leaves_list_empty),
		cmocka_unit_test(
		    payload__arn_deployment_id__keeps_id_after_slash),
		cmocka_unit_test(payload__arn_without_deployment_part__fails),
		cmocka_unit_test(payload__extra_fields__ignored),
		cmocka_unit_test(envelope__xml_and_nil_format__unsupported),
		cmocka_unit_test(output__nil_envelope__rejected),
		cmocka_unit_test(
		    payload__required_id_missing_null_empty_or_not_a_string__has_no),
		cmocka_unit_test(payload__ids_checked_in_v1_order),
		cmocka_unit_test(
		    payload__missing_or_null_revision__must_specify_a_revision),
		cmocka_unit_test(
		    payload__non_object_revision__has_no_revision_source),
		cmocka_unit_test(payload__s3_missing_key__lists_required_keys),
		cmocka_unit_test(
		    payload__s3_key_null_or_number__names_the_problem),
		cmocka_unit_test(payload__s3_bundle_types__tar_tgz_zip_only),
		cmocka_unit_test(
		    payload__local_missing_key__lists_required_keys),
		cmocka_unit_test(payload__local_bundle_type_bar__rejected),
		cmocka_unit_test(
		    envelope__plain_json_as_pkcs7__pkcs7_parse_error),
		cmocka_unit_test(payload__appspec_filename__default_and_given),
		cmocka_unit_test(payload__feb_missing_at_any_level__disallow),
		cmocka_unit_test(payload__feb_given__upper_cased_and_taken),
		cmocka_unit_test(payload__feb_unknown__rejected),
		/* v1 command_poller_test.rb */
		cmocka_unit_test(
		    output__deployment_system_mismatch__names_both),
		cmocka_unit_test(
		    output__deployment_system_not_a_string__mismatch),
		cmocka_unit_test(output__missing_specification__rejected),
		cmocka_unit_test(
		    output__signed_generic_envelope__parsed_variant_ignored),
		/* v2 builder.rs */
		cmocka_unit_test(payload__build_minimal__v2_defaults),
		cmocka_unit_test(
		    payload__lifecycle_events_mixed_types__strings_kept),
		cmocka_unit_test(payload__too_many_lifecycle_events__limit),
		cmocka_unit_test(
		    payload__lifecycle_events_not_an_array__ignored),
		cmocka_unit_test(payload__traversal_in_deployment_id__rejected),
		cmocka_unit_test(
		    payload__traversal_in_deployment_group_id__rejected),
		cmocka_unit_test(payload__overlong_id__rejected_and_shown_cut),
		cmocka_unit_test(payload__uuid_shaped_group_id__accepted),
		cmocka_unit_test(
		    payload__traversal_in_appspec_filename__rejected),
		cmocka_unit_test(payload__nested_appspec_filename__accepted),
		/* revision kinds */
		cmocka_unit_test(
		    payload__unknown_revision_type__must_specify_one_kind),
		cmocka_unit_test(
		    payload__revision_object_missing__must_specify_failure),
		cmocka_unit_test(
		    payload__github_bundle_types__tar_zip_or_absent),
		cmocka_unit_test(
		    payload__github_missing_key__lists_required_keys),
		cmocka_unit_test(
		    payload__github_not_anonymous__needs_oauth_token_key),
		cmocka_unit_test(
		    payload__optional_fields_of_wrong_type__defaults),
		/* archive reuse */
		cmocka_unit_test(
		    payload__reuse_archive_id__kept_and_arn_shortened),
		/* envelopes and signatures */
		cmocka_unit_test(envelope__text_json__needs_caller_permission),
		cmocka_unit_test(developer_mode__exactly_true),
		cmocka_unit_test(
		    envelope__text_json_in_developer_mode__through_output),
		cmocka_unit_test(envelope__empty_payload__nil),
		cmocka_unit_test(envelope__pem_and_der__both_accepted),
		cmocka_unit_test(envelope__content_byte_flipped__rejected),
		cmocka_unit_test(envelope__content_replaced_pem__rejected),
		cmocka_unit_test(envelope__signature_does_not_match__rejected),
		cmocka_unit_test(
		    envelope__other_signers_cert_embedded__rejected),
		cmocka_unit_test(envelope__signer_cert_absent__rejected),
		cmocka_unit_test(envelope__no_signers__rejected),
		cmocka_unit_test(envelope__detached_content__rejected),
		cmocka_unit_test(
		    envelope__truncated_or_trailing_bytes__parse_error),
		cmocka_unit_test(envelope__signed_non_utf8__rejected),
		cmocka_unit_test(envelope__signed_not_json__parse_error),
		cmocka_unit_test(
		    envelope__signed_spec_with_error__reports_field),
		/* hostile text */
		cmocka_unit_test(payload__non_utf8_or_nul__rejected),
		cmocka_unit_test(payload__utf8_and_escapes__accepted),
		cmocka_unit_test(payload__oversize__rejected),
		cmocka_unit_test(envelope__signed_oversize_content__rejected),
		/* the debug log */
		cmocka_unit_test(redacted_json__github_token__replaced),
		cmocka_unit_test(
		    seed_files__good_ones_parse_signed_bad_ones_fail),
		cmocka_unit_test_setup_teardown(
		    envelope__debug_log__has_spec_without_token,
		    tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests_name(
	    "dspec", tests, setup_signers, teardown_signers);
}
