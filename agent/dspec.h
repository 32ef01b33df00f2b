/*
 * dspec: a command's deployment specification (v1 §2, v2 §3), from the
 * GetDeploymentSpecification output down to the struct exec_spec that
 * exec_command() runs.
 *
 * Checks run in v1's order (v1 §2.4) with v2's path checks added (v2 §3.2).
 * A PKCS7/JSON envelope must carry a signature that matches its content and
 * a signer certificate embedded in the message (v1 bug 1 fixed, as v2 does);
 * the certificate chain is not checked.  Unsigned TEXT/JSON and JSON
 * envelopes are accepted only when the caller allows them.
 *
 * Every parser takes an empty (zeroed) spec and fills it on success; on
 * failure the spec stays empty and err says what is wrong with which field.
 * Free a filled spec with exec_spec_clear().
 */
#ifndef CDAGENT_DSPEC_H
#define CDAGENT_DSPEC_H

#include <stddef.h>

#include "err.h"
#include "exec-spec.h"
#include "json.h"

/* The largest Payload, and the largest signed content, accepted (1 MiB). */
#define DSPEC_MAX_PAYLOAD (1024u * 1024)
/* The most AllPossibleLifecycleEvents entries accepted. */
#define DSPEC_MAX_EVENTS 1024
struct dspec_opts {
	/*
	 * Accept the unsigned formats TEXT/JSON and JSON: `cdagent local`
	 * sets it, the daemon only when dspec_developer_mode() is true.
	 */
	int allow_unsigned;
};

/* Whether the environment has CODEDEPLOY_DEVELOPER_MODE exactly "true". */
int dspec_developer_mode(void);

/*
 * A GetDeploymentSpecification output object: DeploymentSystem must be
 * "CodeDeploy" ("Deployment system mismatch: CodeDeploy != <value>"),
 * DeploymentSpecification must be there, and its GenericEnvelope is parsed
 * with dspec_parse_envelope(); VariantId and VariantEnvelope are ignored.
 * opts may be NULL (signed specs only).
 */
int dspec_parse_output(const struct json *output, const struct dspec_opts *opts,
    struct exec_spec *spec, struct err *err);

/*
 * A GenericEnvelope: format (NULL when absent) and len bytes of payload.
 * "PKCS7/JSON": a signed PEM or DER PKCS#7 message whose content must be
 * UTF-8 JSON; "TEXT/JSON" and "JSON": the JSON itself, if opts allows
 * unsigned specs; anything else fails with "Unsupported deployment
 * specification format: <format>".  An empty payload is "Provided
 * deployment spec was nil".
 */
int dspec_parse_envelope(const char *format, const char *payload, size_t len,
    const struct dspec_opts *opts, struct exec_spec *spec, struct err *err);

/*
 * The payload JSON document itself (v1 §2.3, §2.4; v2 §3.2): at most
 * DSPEC_MAX_PAYLOAD bytes of UTF-8 (no NUL, not even as \u0000).
 * Defaults: DeploymentCreator "user", DeploymentType "IN_PLACE",
 * FileExistsBehavior DISALLOW; an absent or empty AppSpecFilename leaves
 * appspec_filename NULL (exec reads that as appspec.yml).  An ARN
 * DeploymentId (and ReuseArchiveFromDeploymentId) is shortened to the part
 * after "deployment/".  The text, with GitHubAccessToken redacted, goes
 * to the debug log.
 */
int dspec_parse_payload(
    const char *json, size_t len, struct exec_spec *spec, struct err *err);

/*
 * The payload JSON with a top-level GitHubAccessToken replaced by
 * "REDACTED", compact, for a debug log line; NULL if json does not parse.
 * Free with free().
 */
char *dspec_redacted_json(const char *json, size_t len);

#endif
