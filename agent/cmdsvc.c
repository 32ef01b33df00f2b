/* cmdsvc: the CodeDeploy Commands API client (see cmdsvc.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "cmdsvc.h"
#include "crypto.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

struct cmdsvc {
	struct http_client *http;
	char *endpoint;
	char *host;
	char *region;
	char *agent_version;
	int secure;
	cmdsvc_creds_fn creds;
	void *creds_arg;
	/* the throttle gate */
	long long gate_deadline_ms;
	long gate_backoff_ms;
};

char *
cmdsvc_endpoint(
    const struct cfg *cfg, const char *region, const char *imds_domain)
{
	const char *domain;

	if (cfg->deploy_control_endpoint != NULL &&
	    *cfg->deploy_control_endpoint != '\0') {
		if (strncasecmp(cfg->deploy_control_endpoint, "http:", 5) == 0)
			log_warn("deploy_control_endpoint %s is plain http: "
				 "commands and credentials' signatures travel "
				 "in cleartext",
			    cfg->deploy_control_endpoint);
		return xstrdup(cfg->deploy_control_endpoint);
	}
	if (imds_domain != NULL && *imds_domain != '\0')
		domain = imds_domain;
	else if (strcmp(region, "eusc-de-east-1") == 0)
		domain = "amazonaws.eu";
	else if (strncmp(region, "cn-", 3) == 0)
		domain = "amazonaws.com.cn";
	else
		domain = "amazonaws.com";
	return xasprintf("https://codedeploy-commands%s%s.%s.%s",
	    cfg->enable_auth_policy ? "-secure" : "",
	    cfg->use_fips_mode ? "-fips" : "", region, domain);
}

struct cmdsvc *
cmdsvc_new(const struct cmdsvc_opts *opts, struct err *err)
{
	struct http_opts hopts;
	struct cmdsvc *svc;
	const char *auth, *end;
	size_t alen;

	auth = strstr(opts->endpoint, "://");
	if (auth == NULL || auth[3] == '\0') {
		err_set(err, E_INVALID,
		    "the Commands API endpoint '%s' is not a URL such as "
		    "https://codedeploy-commands.us-east-1.amazonaws.com",
		    opts->endpoint);
		return NULL;
	}
	auth += 3;
	alen = strcspn(auth, "/?#");
	end = auth + alen;
	if (*end != '\0' && strcmp(end, "/") != 0) {
		err_set(err, E_INVALID,
		    "the Commands API endpoint '%s' has a path; give only "
		    "scheme, host and port",
		    opts->endpoint);
		return NULL;
	}
	memset(&hopts, 0, sizeof(hopts));
	hopts.proxy_uri = opts->proxy_uri;
	hopts.read_timeout_ms = opts->read_timeout_ms;
	hopts.tick = opts->tick;
	hopts.tick_arg = opts->tick_arg;
	svc = xcalloc(1, sizeof(*svc));
	svc->http = http_client_new(&hopts, err);
	if (svc->http == NULL) {
		free(svc);
		return NULL;
	}
	svc->endpoint =
	    xasprintf("%.*s/", (int)(end - opts->endpoint), opts->endpoint);
	if (strncasecmp(opts->endpoint, "https:", 6) == 0 && alen > 4 &&
	    strncmp(auth + alen - 4, ":443", 4) == 0)
		alen -= 4;
	else if (strncasecmp(opts->endpoint, "http:", 5) == 0 && alen > 3 &&
	    strncmp(auth + alen - 3, ":80", 3) == 0)
		alen -= 3;
	svc->host = xstrndup(auth, alen);
	svc->region = xstrdup(opts->region);
	svc->agent_version =
	    xstrdup(opts->agent_version != NULL ? opts->agent_version
						: "cdagent-" PACKAGE_VERSION);
	svc->secure = opts->secure;
	svc->creds = opts->creds;
	svc->creds_arg = opts->creds_arg;
	svc->gate_backoff_ms = RETRY_CMDSVC_THROTTLE.first_ms;
	return svc;
}

void
cmdsvc_free(struct cmdsvc *svc)
{
	if (svc == NULL)
		return;
	http_client_free(svc->http);
	free(svc->endpoint);
	free(svc->host);
	free(svc->region);
	free(svc->agent_version);
	free(svc);
}

/* Wait out an open gate, plus 0-25 % jitter of the wait. */
static void
gate_wait(struct cmdsvc *svc)
{
	long long left = svc->gate_deadline_ms - clock_now_ms();
	uint32_t rnd = 0;

	if (left <= 0)
		return;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)clock_now_ms();
	clock_sleep_ms(left + (long long)(rnd % (uint32_t)(left / 4 + 1)));
}

static void
gate_trip(struct cmdsvc *svc)
{
	long long now = clock_now_ms();

	if (svc->gate_deadline_ms > now)
		return;
	svc->gate_deadline_ms = now + svc->gate_backoff_ms;
	svc->gate_backoff_ms *= 2;
	if (svc->gate_backoff_ms > RETRY_CMDSVC_THROTTLE.max_ms)
		svc->gate_backoff_ms = RETRY_CMDSVC_THROTTLE.max_ms;
}

static void
gate_reset(struct cmdsvc *svc)
{
	svc->gate_deadline_ms = 0;
	svc->gate_backoff_ms = RETRY_CMDSVC_THROTTLE.first_ms;
}

static int
sign(struct cmdsvc *svc, struct http_req *req, const char *target,
    const char *body, struct err *err)
{
	struct sigv4_credentials creds;
	const char *source = NULL;
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct sigv4_header hdrs[2] = {
		{ "content-type", "application/x-amz-json-1.1" },
		{ "x-amz-target", target },
	};
	struct sigv4_request sreq;
	struct sigv4_params params;
	struct sigv4_result sres;

	memset(&creds, 0, sizeof(creds));
	if (svc->creds == NULL ||
	    svc->creds(svc->creds_arg, &creds, &source, err) < 0)
		return err_set(err, E_AUTH, "no AWS credentials");
	crypto_sha256_hex(body, strlen(body), hash);
	memset(&sreq, 0, sizeof(sreq));
	sreq.method = "POST";
	sreq.host = svc->host;
	sreq.path = "/";
	sreq.headers = hdrs;
	sreq.nheaders = 2;
	sreq.payload_hash = hash;
	memset(&params, 0, sizeof(params));
	params.region = svc->region;
	params.service =
	    svc->secure ? CMDSVC_SERVICE_SECURE : CMDSVC_SERVICE_STANDARD;
	params.when = time(NULL);
	memset(&sres, 0, sizeof(sres));
	if (sigv4_sign(&sreq, &creds, &params, &sres, err) < 0)
		return -1;
	http_req_header(req, "Authorization", sres.authorization);
	http_req_header(req, "X-Amz-Date", sres.amz_date);
	http_req_header(req, "X-Amz-Security-Token", creds.session_token);
	sigv4_result_clear(&sres);
	return 0;
}

/* A reply is throttled on 429, a throttling __type or "Rate exceeded". */
static int
reply_throttled(const struct http_resp *resp)
{
	char msg[256];
	const char *m;

	if (http_is_throttled(resp))
		return 1;
	m = http_error_message(resp, msg, sizeof(msg));
	return m != NULL &&
	    (strstr(m, "Rate exceeded") != NULL ||
		strstr(m, "rate exceeded") != NULL);
}

static int
service_error(const char *op, const struct http_resp *resp, struct err *err)
{
	char code[128], msg[512];
	const char *c = http_error_code(resp, code, sizeof(code));
	const char *m = http_error_message(resp, msg, sizeof(msg));

	if (m == NULL && resp->body != NULL && c == NULL) {
		snprintf(msg, sizeof(msg), "%.300s", resp->body);
		m = msg;
	}
	return err_set(err, E_SERVICE, "%s: HTTP %ld%s%s%s%s", op, resp->status,
	    c != NULL ? " " : "", c != NULL ? c : "", m != NULL ? ": " : "",
	    m != NULL ? m : "");
}

/*
 * One operation: body is consumed; *out gets the parsed reply (an object;
 * {} for an empty body).
 */
static int
call(struct cmdsvc *svc, const char *op, struct json *body, int retry_server,
    struct json **out, struct err *err)
{
	char *text = json_print(body);
	char *target = xasprintf("%s.%s",
	    svc->secure ? CMDSVC_PREFIX_SECURE : CMDSVC_PREFIX_STANDARD, op);
	struct http_resp resp;
	int throttles = 0, failures = 0, ret = -1;

	json_free(body);
	memset(&resp, 0, sizeof(resp));
	*out = NULL;
	for (;;) {
		struct http_req *req = http_req_new("POST", svc->endpoint);
		struct err one = ERR_INIT;
		int rc;

		gate_wait(svc);
		http_req_header(
		    req, "Content-Type", "application/x-amz-json-1.1");
		http_req_header(req, "X-Amz-Target", target);
		http_req_header(
		    req, "x-amz-codedeploy-agent-version", svc->agent_version);
		http_req_body(req, text, strlen(text));
		if (sign(svc, req, target, text, err) < 0) {
			http_req_free(req);
			err_prefix(err, "%s", op);
			goto out;
		}
		rc = http_send(svc->http, req, &resp, &one);
		http_req_free(req);
		if (rc == 0 && resp.status >= 200 && resp.status < 300) {
			gate_reset(svc);
			if (json_parse(resp.body != NULL ? resp.body : "{}",
				resp.body != NULL ? resp.body_len : 2, op, out,
				err) < 0)
				goto out;
			if (!json_is_object(*out)) {
				err_set(err, E_PARSE,
				    "%s: the reply is not a JSON object", op);
				goto out;
			}
			ret = 0;
			goto out;
		}
		if (rc == 0 && reply_throttled(&resp)) {
			gate_trip(svc);
			if (throttles++ < RETRY_CMDSVC_THROTTLE.attempts - 1) {
				log_info(
				    "%s throttled (HTTP %ld); waiting %lld "
				    "ms",
				    op, resp.status,
				    svc->gate_deadline_ms - clock_now_ms());
				continue;
			}
			service_error(op, &resp, err);
			goto out;
		}
		if (retry_server &&
		    failures < RETRY_CMDSVC_SERVER.attempts - 1 &&
		    (rc < 0 ? http_is_retryable(&resp, &one)
			    : resp.status >= 500)) {
			long wait =
			    http_backoff_ms(&RETRY_CMDSVC_SERVER, ++failures);

			log_info("%s failed (%s); retrying in %ld ms", op,
			    rc < 0 ? one.msg : "server error", wait);
			clock_sleep_ms(wait);
			continue;
		}
		if (rc < 0) {
			*err = one;
			err_prefix(err, "%s", op);
		} else {
			service_error(op, &resp, err);
		}
		goto out;
	}
out:
	if (ret < 0) {
		json_free(*out);
		*out = NULL;
	}
	http_resp_clear(&resp);
	free(target);
	free(text);
	return ret;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
cmdsvc_command_clear(struct cmdsvc_command *cmd)
{
	free(cmd->host_command_id);
	free(cmd->host_identifier);
	free(cmd->deployment_execution_id);
	free(cmd->command_name);
	memset(cmd, 0, sizeof(*cmd));
}

void
cmdsvc_spec_clear(struct cmdsvc_spec *spec)
{
	free(spec->deployment_system);
	free(spec->format);
	if (spec->payload != NULL)
		xfree_secret_str(spec->payload);
	memset(spec, 0, sizeof(*spec));
}

int
cmdsvc_poll(struct cmdsvc *svc, const char *host_identifier,
    struct cmdsvc_command *out, struct err *err)
{
	struct json *body = json_object(), *reply = NULL;
	const struct json *hc, *nonce;

	memset(out, 0, sizeof(*out));
	json_set(body, "HostIdentifier", json_string(host_identifier));
	if (call(svc, "PollHostCommand", body, 0, &reply, err) < 0)
		return -1;
	hc = json_get(reply, "HostCommand");
	if (hc == NULL || json_is_null(hc)) {
		json_free(reply);
		return 0;
	}
	if (!json_is_object(hc)) {
		json_free(reply);
		return err_set(err, E_PARSE,
		    "PollHostCommand: HostCommand is not an object");
	}
	out->host_command_id =
	    dup_or_null(json_get_string(hc, "HostCommandIdentifier"));
	out->host_identifier =
	    dup_or_null(json_get_string(hc, "HostIdentifier"));
	out->deployment_execution_id =
	    dup_or_null(json_get_string(hc, "DeploymentExecutionId"));
	out->command_name = dup_or_null(json_get_string(hc, "CommandName"));
	nonce = json_get(hc, "Nonce");
	if (nonce != NULL && json_is_number(nonce)) {
		out->nonce = (long long)json_number_value(nonce);
		out->has_nonce = 1;
	}
	json_free(reply);
	if (out->host_command_id == NULL || *out->host_command_id == '\0') {
		cmdsvc_command_clear(out);
		return err_set(err, E_PARSE,
		    "PollHostCommand: the command has no "
		    "HostCommandIdentifier");
	}
	return 1;
}

int
cmdsvc_get_spec(struct cmdsvc *svc, const char *execution_id,
    const char *host_identifier, struct cmdsvc_spec *out, struct err *err)
{
	struct json *body = json_object(), *reply = NULL;
	const struct json *ds, *env;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	json_set(body, "DeploymentExecutionId", json_string(execution_id));
	json_set(body, "HostIdentifier", json_string(host_identifier));
	if (call(svc, "GetDeploymentSpecification", body, 1, &reply, err) < 0)
		return -1;
	out->deployment_system =
	    xstrdup(json_get_string(reply, "DeploymentSystem") != NULL
		    ? json_get_string(reply, "DeploymentSystem")
		    : "");
	ds = json_get(reply, "DeploymentSpecification");
	env = ds != NULL ? json_get(ds, "GenericEnvelope") : NULL;
	if (env == NULL || !json_is_object(env)) {
		err_set(err, E_PARSE,
		    "GetDeploymentSpecification: the reply has no "
		    "DeploymentSpecification.GenericEnvelope");
		goto out;
	}
	out->format = dup_or_null(json_get_string(env, "Format"));
	out->payload = dup_or_null(json_get_string(env, "Payload"));
	ret = 0;
out:
	json_free(reply);
	if (ret < 0)
		cmdsvc_spec_clear(out);
	return ret;
}

static struct json *
envelope(const char *payload)
{
	struct json *env = json_object();

	json_set(env, "Format", json_string("JSON"));
	json_set(env, "Payload", json_string(payload));
	return env;
}

int
cmdsvc_ack(struct cmdsvc *svc, const char *host_command_id, int noop,
    char **status, struct err *err)
{
	struct json *body = json_object(), *reply = NULL;

	*status = NULL;
	json_set(body, "HostCommandIdentifier", json_string(host_command_id));
	json_set(body, "Diagnostics",
	    envelope(noop ? "{\"IsCommandNoop\":true}"
			  : "{\"IsCommandNoop\":false}"));
	if (call(svc, "PutHostCommandAcknowledgement", body, 1, &reply, err) <
	    0)
		return -1;
	*status = dup_or_null(json_get_string(reply, "CommandStatus"));
	json_free(reply);
	return 0;
}

int
cmdsvc_complete(struct cmdsvc *svc, const char *host_command_id,
    const char *status, const char *diagnostics_json, struct err *err)
{
	struct json *body = json_object(), *reply = NULL;

	json_set(body, "HostCommandIdentifier", json_string(host_command_id));
	json_set(body, "CommandStatus", json_string(status));
	json_set(body, "Diagnostics", envelope(diagnostics_json));
	if (call(svc, "PutHostCommandComplete", body, 1, &reply, err) < 0)
		return -1;
	json_free(reply);
	return 0;
}

int
cmdsvc_update(struct cmdsvc *svc, const char *host_command_id,
    const char *diagnostics_json, char **status, struct err *err)
{
	struct json *body = json_object(), *reply = NULL;

	*status = NULL;
	json_set(body, "HostCommandIdentifier", json_string(host_command_id));
	if (diagnostics_json != NULL)
		json_set(body, "Diagnostics", envelope(diagnostics_json));
	if (call(svc, "PostHostCommandUpdate", body, 1, &reply, err) < 0)
		return -1;
	*status = dup_or_null(json_get_string(reply, "CommandStatus"));
	json_free(reply);
	return 0;
}
