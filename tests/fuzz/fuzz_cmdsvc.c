/*
 * libFuzzer target for the Commands API replies: the first byte picks the
 * operation (poll, spec, acknowledge, complete, update), the rest is the
 * replies it gets (fakehttp.h: status, headers, body; throttling by 429 or
 * 400 with a __type or x-amzn-ErrorType, 5xx retries, error envelopes).
 * Every outcome is a result or an error with a message, never a crash or
 * leak; a polled command has an identifier; a spec's envelope goes on to
 * dspec_parse_envelope() as the daemon's does.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdsvc.h"
#include "dspec.h"
#include "exec.h"
#include "fakehttp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fake_creds(void *arg, struct sigv4_credentials *out, const char **source,
    struct err *err)
{
	(void)arg;
	(void)err;
	out->access_key_id = "AKIDEXAMPLE";
	out->secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	out->session_token = NULL;
	if (source != NULL)
		*source = "fuzz";
	return 0;
}

/* What the daemon does next with a spec: parse its envelope. */
static void
envelope(const struct cmdsvc_spec *cs, int developer_mode)
{
	struct dspec_opts opts = { developer_mode };
	struct exec_spec spec;
	struct err err = ERR_INIT;

	memset(&spec, 0, sizeof(spec));
	if (dspec_parse_envelope(cs->format, cs->payload,
		cs->payload != NULL ? strlen(cs->payload) : 0, &opts, &spec,
		&err) == 0)
		exec_spec_clear(&spec);
	else if (err.msg[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdsvc_opts opts;
	struct cmdsvc *svc;
	struct cmdsvc_command cmd;
	struct cmdsvc_spec spec;
	struct err err = ERR_INIT;
	char *status = NULL;
	int rc;

	if (size == 0)
		return 0;
	memset(&opts, 0, sizeof(opts));
	opts.endpoint = "https://codedeploy-commands.us-east-1.amazonaws.com";
	opts.region = "us-east-1";
	opts.secure = data[0] & 0x80;
	opts.creds = fake_creds;
	svc = cmdsvc_new(&opts, &err);
	if (svc == NULL)
		abort();
	fakehttp_load(data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		rc = cmdsvc_poll(
		    svc, "arn:aws:ec2:us-east-1:1:instance/i-1", &cmd, &err);
		if (rc == 1 &&
		    (cmd.host_command_id == NULL ||
			cmd.host_command_id[0] == '\0'))
			abort();
		if (rc == 1)
			cmdsvc_command_clear(&cmd);
		break;
	case 1:
		memset(&spec, 0, sizeof(spec));
		rc = cmdsvc_get_spec(svc, "exec-1", "host-1", &spec, &err);
		if (rc == 0)
			envelope(&spec, data[0] & 0x40);
		cmdsvc_spec_clear(&spec);
		break;
	case 2:
		rc = cmdsvc_ack(svc, "hc-1", data[0] & 0x40, &status, &err);
		break;
	case 3:
		rc = cmdsvc_complete(
		    svc, "hc-1", "Succeeded", "{\"error_code\":0}", &err);
		break;
	default:
		rc = cmdsvc_update(svc, "hc-1", "{}", &status, &err);
		break;
	}
	if (rc < 0 && err.msg[0] == '\0')
		abort();
	free(status);
	cmdsvc_free(svc);
	return 0;
}
