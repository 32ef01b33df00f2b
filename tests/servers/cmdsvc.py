#!/usr/bin/python3
"""HTTPS test double of the CodeDeploy Commands API (the agent control plane).

Spec: aws-agent-v1.md §1-§3 and aws-agent-v2.md §2-§3.1.  Standard library
only; the openssl command line signs deployment specifications.

Modes
    cmdsvc.py --cert C --key K --scenario S [options]    serve
    cmdsvc.py --self-test                                check the signer
    cmdsvc.py --call OP --url U --cacert CA [options]    a signed request

Serving
    Listens on 127.0.0.1:--port (0 = ephemeral) with TLS from --cert/--key,
    prints "READY <port>" on stdout and writes the port to --port-file
    (atomically).  SIGTERM or SIGINT stops it and removes its scratch
    directory (the throwaway spec signer); SIGUSR1 rewrites --state-file.

    Every API request must be exactly what an AWS JSON 1.1 client sends:
      POST /, Content-Type application/x-amz-json-1.1,
      X-Amz-Target <prefix>.<Operation>, prefix
        CodeDeployCommandService_v20141006   (--variant standard, default)
        CodeDeployCommandService             (--variant secure),
      SigV4 with --access-key/--secret-key[/--session-token], scope
      <date>/--region/<service>/aws4_request, service codedeploy-commands
      or codedeploy-commands-secure (per variant, or --service), signed
      headers including host and x-amz-date (and x-amz-security-token when
      a token is configured), x-amz-date within 15 minutes of the server's
      clock (time.time() + --clock-offset), and the body hash.
    Checks run in this order; the first failure answers:
      path/method      404 UnknownOperationException
      content type     400 UnknownOperationException
      X-Amz-Target     400 UnknownOperationException (wrong prefix, unknown
                       operation)
      SigV4            400 MissingAuthenticationTokenException,
                       IncompleteSignatureException,
                       UnrecognizedClientException
                       (unknown key, wrong or missing token),
                       InvalidSignatureException (scope, unsigned host/date/
                       token, skew: "Signature expired"/"not yet current",
                       mismatch: the canonical request we expected is in the
                       message)
      agent version    400 ClientException when --require-agent-version and
                       x-amz-codedeploy-agent-version is missing or empty
      body             400 SerializationException (not a JSON object, a member
                       of the wrong JSON type, an unknown member unless
                       --allow-unknown-members, a timestamp that is not epoch
                       seconds), 400 ValidationException (required member
                       missing or null, length, pattern, enum), worded as AWS
                       does: "1 validation error detected: Value null at
                       'hostCommandIdentifier' failed to satisfy constraint:
                       Member must not be null"
      faults           as scripted (below)
      semantics        400 ClientException: unknown HostCommandIdentifier or
                       DeploymentExecutionId, a command acked/completed/updated
                       before it was dispatched, a spec fetched for a host the
                       deployment does not target, a second complete.
    Error bodies are {"__type": "<namespace#>Name", "message": "..."}
    (SerializationException uses "Message"; UnknownOperationException has no
    message), with x-amzn-ErrorType; every reply has x-amzn-RequestId.

Scenario file (JSON object; keys other than these are an error)
    "host": default target HostIdentifier of every deployment (absent: a
        deployment goes to whichever host polls)
    "poll_hold_seconds": how long an empty PollHostCommand is held open
        (default 1; --poll-hold wins; at most 60: keep it under the
        client's read timeout).  A held poll returns as soon as a command
        becomes available.
    "empty_poll": "absent" (reply {}, default) or "null" ({"HostCommand":null})
    "redeliver_unacked": true: a dispatched but unacknowledged command is
        returned again by every poll, as the real service does (default
        false: dispatched once; use the "duplicate" fault instead)
    "deployments": list, each
        "id": DeploymentId (required, unique; also names it in the state)
        "execution_id": DeploymentExecutionId
            (default "codedeploy/<id>/execution/<n>", n counted from 1)
        "host": target host (default the scenario's "host")
        "deployment_system": DeploymentSystem (default "CodeDeploy";
            null: member left out)
        "spec": the payload JSON object, serialised compactly, or
        "spec_text": the payload text verbatim (e.g. broken JSON)
        "envelope": how the payload is wrapped in GenericEnvelope:
            "pkcs7" (default)   Format PKCS7/JSON, PEM "-----BEGIN PKCS7-----"
                                SignedData with the content attached, signed
                                by a throwaway signer made once per run
                                (CN codedeploy-signer-us-east-1.amazonaws.com)
            "pkcs7-tampered"    the same with one content character changed
                                after signing (same length, JSON stays
                                valid): the digest check must fail
            "pkcs7-nocerts"     signed without embedding the signer cert
            "text" / "json"     Format TEXT/JSON / JSON, payload as is
            "none"              no DeploymentSpecification member at all
            "empty"             DeploymentSpecification {} (no envelope)
            {"Format": ..., "Payload": ...}   this envelope verbatim
        "specification_extra": object merged into DeploymentSpecification
            (e.g. VariantId, VariantEnvelope)
        "concurrent": true: may be dispatched while earlier deployments for
            the same host are unfinished (e.g. a second deployment group);
            default false: starts when they are all finished
        "held": true: not dispatched before POST /__release?deployment=<id>
        "continue_on_failure": true: a command completed Failed does not
            end the deployment (default: the remaining commands are skipped)
        "commands": list, in dispatch order; each a name string or
            "name": CommandName (anything, including unknown names and "")
            "id": HostCommandIdentifier (default "hc-<deployment id>-<n>")
            "host": target host (default the deployment's)
            "report_host": HostIdentifier put in the HostCommand (default:
                the poller's)
            "nonce": Nonce (default a run-wide counter from 1; null: left out)
            "instance": object merged into the HostCommand (null values
                delete members), for malformed commands
            "ack_status": CommandStatus answered to the acknowledgement
                (default "InProgress"; null: no CommandStatus member)
            "update_status": CommandStatus answered to PostHostCommandUpdate
                (default the command's current status)
            "preacked": true: already dispatched and acknowledged when the
                run starts (crash recovery: the agent completes it unpolled)
        A command is done when it is completed (Succeeded or Failed) or
        its acknowledgement answered Succeeded or Failed; the next command
        of its deployment is dispatched only then.
    "faults": list, each
        "op": an operation name or "*" (any operation)
        "nth": N, [N, ...] or "always": which requests of that operation
            (counted from 1 among requests that passed the checks above,
            "*" counting all operations together)
        "action":
            "throttle"        400 ThrottlingException "Rate exceeded"
            "throttle-429"    429 ThrottlingException ("body": false: empty)
            "server-500"      500 ServerException
            "server-503"      503 ServerException
            "error"           "status", "type", "message" or raw "body"
            "delay"           wait "seconds", then answer normally
            "drop"            close the connection without a reply;
                              the request is not processed
            "drop-after"      process the request, then close without reply
            "duplicate"       (Poll) the HostCommand last dispatched to this
                              host again
            "wrong-host"      (Poll) the next command with HostIdentifier
                              "host" (default an unrelated instance ARN);
                              not counted as dispatched
            "unknown-command" (Poll) an extra command "name" (default
                              "FrobnicateEvent", id "hc-injected-<n>") of
                              the deployment of the next command
            "empty"           (Poll) {} at once, without holding
        Delays add up; the first other matching action wins.

Records and state
    --requests FILE: one JSON line per request: seq, time, method, path,
        op, headers (lower-case names, Authorization left out), auth
        (credential scope and signed headers), body (parsed, or {"_raw":
        text}), status, error (__type), fault actions, response body.
    GET /__summary: deployments {id: status}, tls_handshakes and
    handshakes_by_host only (cheap with thousands of commands).
    GET /__state (no SigV4), and --state-file rewritten after every
    request: requests {total, by_op}, errors {type: count}, tls_errors,
    hosts_seen, agent_versions, polls_held (polls waiting right now),
    faults_fired, unknown_ids, signer_cert, workdir,
    deployments {id: {status, spec_fetches, execution_id, envelope,
        content, tampered_content}},
    commands {id: {deployment, name, host, deliveries, misdirected,
        acknowledged, acks, ack_status, ack_diagnostics (parsed payload),
        ack_diagnostics_raw, status (the service's view), completed, completes
        (count every complete, to assert exactly once), completed_status,
        completed_before_ack, diagnostics (parsed), diagnostics_raw,
        heartbeats [{estimated_completion_time, diagnostics, diagnostics_raw}],
        skipped (never dispatched: its deployment ended first), injected,
        problems (what a compliant agent would not do: an ack payload
        other than {"IsCommandNoop":bool}, complete payload keys not exactly
        error_code,script_name,message,log in that order, error_code out
        of 0..7 or not matching the status, Format not "JSON", an update or
        ack before dispatch)}},
    done (every deployment finished), pending (commands still to run),
    tls_handshakes (TLS connections accepted), handshakes_by_host {host:
        connections that carried a request for it (the first one decides)},
    requests_by_host {host: requests}, poll_seconds {epoch second: polls
        received in it}.
    Every line of --requests also has "conn", the connection's number.
    POST /__release?deployment=ID releases a held deployment.
    POST /__window?action=drop|throttle&seconds=S: for S seconds every API
        request is dropped (closed without a reply: an outage) or answered
        400 ThrottlingException, whatever the scripted faults say.
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

VARIANTS = {
    "standard": ("CodeDeployCommandService_v20141006", "codedeploy-commands"),
    "secure": ("CodeDeployCommandService", "codedeploy-commands-secure"),
}
STATUSES = ("Pending", "InProgress", "Succeeded", "Failed")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = 15 * 60
MAX_BODY = 1 << 20
SIGNER_CN = "codedeploy-signer-us-east-1.amazonaws.com"

CORAL = "com.amazon.coral.service#"
VALIDATE = "com.amazon.coral.validate#"
AVAILABILITY = "com.amazon.coral.availability#"

# Input shapes (aws-agent-v1.md §1.4): member -> constraints.
ENVELOPE = {
    "type": "structure",
    "members": {
        "Format": {"type": "string", "min": 1, "max": 64},
        "Payload": {"type": "string", "min": 0, "max": 8192},
    },
}
EXECUTION_ID_PATTERN = "^[^/]+/[^/]+/[^/]+/.+$"
INPUTS = {
    "PollHostCommand": {
        "HostIdentifier": {"type": "string", "required": True},
    },
    "GetDeploymentSpecification": {
        "DeploymentExecutionId": {"type": "string", "required": True,
                                  "min": 1, "max": 129,
                                  "pattern": EXECUTION_ID_PATTERN},
        "HostIdentifier": {"type": "string", "required": True},
    },
    "PutHostCommandAcknowledgement": {
        "HostCommandIdentifier": {"type": "string", "required": True},
        "Diagnostics": ENVELOPE,
    },
    "PutHostCommandComplete": {
        "HostCommandIdentifier": {"type": "string", "required": True},
        "CommandStatus": {"type": "string", "required": True,
                          "enum": STATUSES},
        "Diagnostics": ENVELOPE,
    },
    "PostHostCommandUpdate": {
        "HostCommandIdentifier": {"type": "string", "required": True},
        "EstimatedCompletionTime": {"type": "timestamp"},
        "Diagnostics": ENVELOPE,
    },
}
COMPLETE_KEYS = ["error_code", "script_name", "message", "log"]


class ApiError(Exception):
    """An error reply: HTTP status, __type (with namespace), message."""

    def __init__(self, status, type_, message=None, key="message"):
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.key = key

    def body(self):
        obj = {"__type": self.type}
        if self.message is not None:
            obj[self.key] = self.message
        return obj

    def bare(self):
        return self.type.split("#")[-1]


def client_error(message):
    return ApiError(400, "ClientException", message)


# --- SigV4 -----------------------------------------------------------------

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       b"0123456789-._~")


def uri_encode(data, keep_slash):
    """RFC 3986 percent-encoding of bytes, unreserved kept (and '/')."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if b in UNRESERVED or (keep_slash and b == 0x2F)
                   else "%%%02X" % b for b in data)


def normalise_path(path):
    """Remove '.', '..' and empty segments; keep a trailing slash."""
    parts = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    out = "/" + "/".join(parts)
    if parts and path.endswith("/"):
        out += "/"
    return out


def canonical_uri(raw_path, s3):
    """S3: decoded, encoded once; others: normalised, encoded twice."""
    path = urllib.parse.unquote_to_bytes(raw_path or "/").decode(
        "utf-8", "surrogateescape")
    if s3:
        return uri_encode(path, True)
    return uri_encode(uri_encode(normalise_path(path), True), True)


def canonical_query(raw_query):
    if not raw_query:
        return ""
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((uri_encode(urllib.parse.unquote_to_bytes(key), False),
                      uri_encode(urllib.parse.unquote_to_bytes(value), False)))
    pairs.sort()
    return "&".join("%s=%s" % pair for pair in pairs)


def canonical_request(method, raw_path, raw_query, headers, signed,
                      payload_hash, s3=False):
    """headers: lower-case name -> list of values; signed: names in order."""
    lines = "".join(
        "%s:%s\n" % (name, ",".join(" ".join(v.split())
                                    for v in headers.get(name, [])))
        for name in signed)
    return "\n".join([method, canonical_uri(raw_path, s3),
                      canonical_query(raw_query), lines, ";".join(signed),
                      payload_hash])


def signing_key(secret, date, region, service):
    key = hmac.new(("AWS4" + secret).encode(), date.encode(),
                   hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def string_to_sign(amz_date, scope, creq):
    return "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
        amz_date, scope, hashlib.sha256(creq.encode("utf-8",
                                                    "surrogateescape"))
        .hexdigest())


def signature(secret, amz_date, region, service, creq):
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    sts = string_to_sign(amz_date, scope, creq)
    sig = hmac.new(signing_key(secret, amz_date[:8], region, service),
                   sts.encode(), hashlib.sha256).hexdigest()
    return scope, sts, sig


def sign_headers(method, raw_path, raw_query, headers, body, access_key,
                 secret, region, service, amz_date, unsigned=(), s3=False):
    """Sign a request; headers: list of (name, value) including host.
    Returns the Authorization value and the canonical request."""
    hmap = {}
    for name, value in headers:
        hmap.setdefault(name.lower(), []).append(value)
    signed = sorted(n for n in hmap if n not in unsigned)
    payload_hash = (hmap["x-amz-content-sha256"][0]
                    if s3 and "x-amz-content-sha256" in hmap
                    else hashlib.sha256(body).hexdigest())
    creq = canonical_request(method, raw_path, raw_query, hmap, signed,
                             payload_hash, s3)
    scope, _, sig = signature(secret, amz_date, region, service, creq)
    auth = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, " \
        "Signature=%s" % (access_key, scope, ";".join(signed), sig)
    return auth, creq


def amz_date_of(when):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))


def parse_authorization(auth):
    """Split 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., ...'."""
    algo, _, rest = auth.strip().partition(" ")
    params = {}
    for item in rest.split(","):
        key, eq, value = item.strip().partition("=")
        if eq:
            params[key] = value
    return algo, params


def verify_sigv4(cfg, method, raw_path, raw_query, get_all, body, now,
                 record=None):
    """Check a request's SigV4 as AWS would; raise ApiError if it fails.
    Fills record with the credential scope and signed headers."""
    if record is None:
        record = {}
    auth = get_all("authorization")
    if not auth:
        raise ApiError(400, CORAL + "MissingAuthenticationTokenException",
                       "Missing Authentication Token")
    auth = auth[0]
    algo, params = parse_authorization(auth)
    if algo != "AWS4-HMAC-SHA256":
        raise ApiError(400, CORAL + "IncompleteSignatureException",
                       "Unsupported AWS 'algorithm': '%s'" % algo)
    missing = [k for k in ("Credential", "SignedHeaders", "Signature")
               if k not in params]
    if missing:
        raise ApiError(400, CORAL + "IncompleteSignatureException",
                       " ".join("Authorization header requires '%s' "
                                "parameter." % k for k in missing)
                       + " Authorization=" + auth.split("Signature=")[0])
    cred = params["Credential"].split("/")
    if len(cred) != 5:
        raise ApiError(400, CORAL + "IncompleteSignatureException",
                       "Credential must have exactly 5 slash-delimited "
                       "elements, e.g. keyid/date/region/service/term, "
                       "got '%s'" % params["Credential"])
    key_id, date, region, service, term = cred
    record["credential"] = params["Credential"]
    record["signed_headers"] = params["SignedHeaders"].split(";")
    invalid_token = ApiError(400, CORAL + "UnrecognizedClientException",
                             "The security token included in the request "
                             "is invalid.")
    if key_id != cfg.access_key:
        raise invalid_token
    token = get_all("x-amz-security-token")
    if cfg.session_token:
        if not token or token[0] != cfg.session_token:
            raise invalid_token
    elif token:
        raise invalid_token
    amz = get_all("x-amz-date")
    if not amz:
        raise ApiError(400, CORAL + "IncompleteSignatureException",
                       "Authorization header requires existence of either "
                       "a 'X-Amz-Date' or a 'Date' header.")
    amz = amz[0].strip()
    try:
        signed_at = datetime.datetime.strptime(
            amz, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        raise ApiError(400, CORAL + "IncompleteSignatureException",
                       "Date must be in ISO-8601 'basic format'. Got '%s'."
                       % amz) from None
    bad = None
    if date != amz[:8]:
        bad = ("Date in Credential scope does not match YYYYMMDD from "
               "ISO-8601 version of date from HTTP: '%s' != '%s', from "
               "'%s'." % (date, amz[:8], amz))
    elif region != cfg.region:
        bad = "Credential should be scoped to a valid region, not '%s'." \
            % region
    elif service != cfg.service:
        bad = "Credential should be scoped to correct service: '%s'." \
            % cfg.service
    elif term != "aws4_request":
        bad = "Credential should be scoped with a valid terminator: " \
            "'aws4_request', not '%s'." % term
    if bad:
        raise ApiError(400, CORAL + "InvalidSignatureException", bad)
    signed = record["signed_headers"]
    if signed != sorted(set(signed)) or any(n != n.lower() for n in signed):
        bad = "SignedHeaders must be lower-case, sorted and unique: '%s'." \
            % params["SignedHeaders"]
    elif "host" not in signed:
        bad = "'Host' or ':authority' must be a 'SignedHeader' in the AWS " \
            "Authorization."
    elif "x-amz-date" not in signed:
        bad = "'X-Amz-Date' must be a 'SignedHeader' in the AWS " \
            "Authorization."
    elif cfg.session_token and "x-amz-security-token" not in signed:
        bad = "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS " \
            "Authorization."
    if bad:
        raise ApiError(400, CORAL + "InvalidSignatureException", bad)
    if signed_at < now - MAX_SKEW:
        raise ApiError(400, CORAL + "InvalidSignatureException",
                       "Signature expired: %s is now earlier than %s (%s - "
                       "15 min.)" % (amz, amz_date_of(now - MAX_SKEW),
                                     amz_date_of(now)))
    if signed_at > now + MAX_SKEW:
        raise ApiError(400, CORAL + "InvalidSignatureException",
                       "Signature not yet current: %s is still later than "
                       "%s (%s + 15 min.)" % (amz, amz_date_of(now + MAX_SKEW),
                                              amz_date_of(now)))
    headers = {name: get_all(name) or [] for name in signed}
    creq = canonical_request(method, raw_path, raw_query, headers, signed,
                             hashlib.sha256(body).hexdigest())
    _, sts, sig = signature(cfg.secret_key, amz, region, service, creq)
    if not hmac.compare_digest(sig, params["Signature"]):
        raise ApiError(400, CORAL + "InvalidSignatureException",
                       "The request signature we calculated does not match "
                       "the signature you provided. Check your AWS Secret "
                       "Access Key and signing method. Consult the service "
                       "documentation for details.\n\nThe Canonical String "
                       "for this request should have been\n'%s'\n\nThe "
                       "String-to-Sign should have been\n'%s'\n"
                       % (creq, sts))


# --- input validation ------------------------------------------------------

def camel(name):
    return name[:1].lower() + name[1:]


def utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


def shown(value):
    return value if len(value) <= 100 else value[:100] + "..."


def validate_members(shape, obj, path, errors, strict, where):
    """Append constraint violations to errors; raise for type errors."""
    for name in obj:
        if name not in shape and strict:
            raise ApiError(400, CORAL + "SerializationException",
                           "Unknown member '%s' in %s (this double rejects "
                           "members the model does not have)"
                           % (name, where), key="Message")
    for name, rule in shape.items():
        member_path = path + [camel(name)]
        value = obj.get(name)
        if value is None:
            if rule.get("required"):
                errors.append("Value null at '%s' failed to satisfy "
                              "constraint: Member must not be null"
                              % ".".join(member_path))
            continue
        kind = rule["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                raise ApiError(400, CORAL + "SerializationException",
                               "Member '%s' must be a JSON object"
                               % ".".join(member_path), key="Message")
            validate_members(rule["members"], value, member_path, errors,
                             strict, name)
            continue
        if kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ApiError(400, CORAL + "SerializationException",
                               "Member '%s' must be a timestamp in epoch "
                               "seconds (a JSON number), got %s"
                               % (".".join(member_path),
                                  json.dumps(value)), key="Message")
            continue
        if not isinstance(value, str):
            raise ApiError(400, CORAL + "SerializationException",
                           "Member '%s' must be a JSON string, got %s"
                           % (".".join(member_path), json.dumps(value)),
                           key="Message")
        where_ = ".".join(member_path)
        prefix = "Value '%s' at '%s' failed to satisfy constraint: " % (
            shown(value), where_)
        if "max" in rule and utf16_len(value) > rule["max"]:
            errors.append(prefix + "Member must have length less than or "
                          "equal to %d" % rule["max"])
        if "min" in rule and utf16_len(value) < rule["min"]:
            errors.append(prefix + "Member must have length greater than "
                          "or equal to %d" % rule["min"])
        if "pattern" in rule and not re.search(rule["pattern"], value):
            errors.append(prefix + "Member must satisfy regular expression "
                          "pattern: %s" % rule["pattern"])
        if "enum" in rule and value not in rule["enum"]:
            errors.append(prefix + "Member must satisfy enum value set: [%s]"
                          % ", ".join(rule["enum"]))


def validate_input(op, body, strict):
    """Parse and check an operation's input; returns the JSON object."""
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, CORAL + "SerializationException",
                       "Body is not valid JSON: %s" % exc,
                       key="Message") from None
    if not isinstance(obj, dict):
        raise ApiError(400, CORAL + "SerializationException",
                       "Body must be a JSON object", key="Message")
    errors = []
    validate_members(INPUTS[op], obj, [], errors, strict, op + "Input")
    if errors:
        raise ApiError(400, VALIDATE + "ValidationException",
                       "%d validation error%s detected: %s"
                       % (len(errors), "" if len(errors) == 1 else "s",
                          "; ".join(errors)))
    return obj


# --- deployment specifications ---------------------------------------------

def make_signer(workdir):
    """A throwaway signer key and certificate; returns (cert, key)."""
    cert = os.path.join(workdir, "signer.crt")
    key = os.path.join(workdir, "signer.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=" + SIGNER_CN],
                   check=True, capture_output=True)
    return cert, key


def pkcs7_sign(content, cert, key, nocerts=False):
    """PEM PKCS#7 SignedData with content attached ("BEGIN PKCS7")."""
    args = ["openssl", "smime", "-sign", "-nodetach", "-binary",
            "-outform", "PEM", "-signer", cert, "-inkey", key]
    if nocerts:
        args.append("-nocerts")
    res = subprocess.run(args, input=content, check=True,
                         capture_output=True)
    return res.stdout.decode("ascii")


def tamper_text(content):
    """The content with one character changed, same length; JSON stays
    valid when the change is the last character of a string value."""
    match = re.search(rb'[A-Za-z0-9](?="[,}\]])', content)
    pos = match.start() if match else len(content) // 2
    char = content[pos:pos + 1]
    if char.isdigit():
        new = str((int(char) + 1) % 10).encode()
    elif char.isalpha():
        new = char.swapcase()
    else:
        new = b"X" if char != b"X" else b"Y"
    return content[:pos] + new + content[pos + 1:]


def pkcs7_tamper(pem, content):
    """Change the signed content inside a PEM PKCS#7 after signing."""
    lines = pem.strip().splitlines()
    der = base64.b64decode("".join(lines[1:-1]))
    if der.count(content) != 1:
        raise ValueError("signed content not found once in the PKCS7 DER")
    tampered = tamper_text(content)
    der = der.replace(content, tampered)
    b64 = base64.b64encode(der).decode()
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return "%s\n%s\n%s\n" % (lines[0], body, lines[-1]), tampered


# --- scenario ---------------------------------------------------------------

class ScenarioError(Exception):
    pass


def check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise ScenarioError("%s: must be a JSON object" % where)
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise ScenarioError("%s: unknown key%s %s (known: %s)"
                            % (where, "s" if len(unknown) > 1 else "",
                               ", ".join(unknown), ", ".join(sorted(allowed))))


class Command:
    KEYS = ("name", "id", "host", "report_host", "nonce", "instance",
            "ack_status", "update_status", "preacked")

    def __init__(self, spec, deployment, index, nonce, where):
        if isinstance(spec, str):
            spec = {"name": spec}
        check_keys(spec, self.KEYS, where)
        if not isinstance(spec.get("name"), str):
            raise ScenarioError("%s: \"name\" must be a string" % where)
        self.name = spec["name"]
        self.deployment = deployment
        self.index = index
        self.id = spec.get("id", "hc-%s-%d" % (deployment.id, index + 1))
        self.host = spec.get("host", deployment.host)
        self.report_host = spec.get("report_host")
        self.nonce = spec["nonce"] if "nonce" in spec else nonce
        self.instance_extra = spec.get("instance") or {}
        self.ack_status = spec.get("ack_status", "InProgress")
        self.update_status = spec.get("update_status")
        for key in ("ack_status", "update_status"):
            value = spec.get(key)
            if value is not None and value not in STATUSES:
                raise ScenarioError("%s: %s must be one of %s"
                                    % (where, key, ", ".join(STATUSES)))
        preacked = bool(spec.get("preacked"))
        self.injected = False
        self.dispatched_to = None
        self.deliveries = 0
        self.misdirected = 0
        self.dispatched = preacked
        self.acks = 0
        self.acknowledged = preacked
        self.ack_returned = None
        self.ack_diagnostics = None
        self.ack_diagnostics_raw = None
        self.status = "InProgress" if preacked else "Pending"
        self.completes = 0
        self.completed = False
        self.completed_status = None
        self.completed_before_ack = False
        self.diagnostics = None
        self.diagnostics_raw = None
        self.heartbeats = []
        self.problems = []

    def done(self):
        return self.completed or self.ack_returned in ("Succeeded", "Failed")

    def failed(self):
        return self.status == "Failed"

    def instance(self, host):
        obj = {
            "HostCommandIdentifier": self.id,
            "HostIdentifier": host,
            "DeploymentExecutionId": self.deployment.execution_id,
            "CommandName": self.name,
        }
        if self.nonce is not None:
            obj["Nonce"] = self.nonce
        for key, value in self.instance_extra.items():
            if value is None:
                obj.pop(key, None)
            else:
                obj[key] = value
        return obj

    def state(self):
        return {
            "deployment": self.deployment.id,
            "name": self.name,
            "index": self.index,
            "injected": self.injected,
            "host": self.host,
            "deliveries": self.deliveries,
            "misdirected": self.misdirected,
            "acknowledged": self.acknowledged,
            "acks": self.acks,
            "ack_status": self.ack_returned,
            "ack_diagnostics": self.ack_diagnostics,
            "ack_diagnostics_raw": self.ack_diagnostics_raw,
            "status": self.status,
            "completed": self.completed,
            "completes": self.completes,
            "completed_status": self.completed_status,
            "completed_before_ack": self.completed_before_ack,
            "diagnostics": self.diagnostics,
            "diagnostics_raw": self.diagnostics_raw,
            "heartbeats": self.heartbeats,
            "problems": self.problems,
            "skipped": not self.dispatched and not self.injected and
            self.deployment.finished(),
        }


class Deployment:
    KEYS = ("id", "execution_id", "host", "deployment_system", "spec",
            "spec_text", "envelope", "specification_extra", "concurrent",
            "held", "continue_on_failure", "commands")
    ENVELOPES = ("pkcs7", "pkcs7-tampered", "pkcs7-nocerts", "text", "json",
                 "none", "empty")

    def __init__(self, spec, index, default_host, where):
        check_keys(spec, self.KEYS, where)
        if not isinstance(spec.get("id"), str) or not spec["id"]:
            raise ScenarioError("%s: \"id\" must be a non-empty string"
                                % where)
        self.id = spec["id"]
        self.execution_id = spec.get(
            "execution_id", "codedeploy/%s/execution/%d" % (self.id,
                                                            index + 1))
        self.host = spec.get("host", default_host)
        self.system = spec.get("deployment_system", "CodeDeploy")
        self.envelope_kind = spec.get("envelope", "pkcs7")
        if not isinstance(self.envelope_kind, dict) and \
                self.envelope_kind not in self.ENVELOPES:
            raise ScenarioError("%s: envelope must be an object or one of %s"
                                % (where, ", ".join(self.ENVELOPES)))
        if "spec_text" in spec:
            self.content = spec["spec_text"].encode("utf-8")
        elif "spec" in spec:
            if not isinstance(spec["spec"], dict):
                raise ScenarioError("%s: \"spec\" must be an object" % where)
            self.content = json.dumps(spec["spec"], separators=(",", ":"),
                                      ensure_ascii=False).encode("utf-8")
        elif isinstance(self.envelope_kind, dict) or \
                self.envelope_kind in ("none", "empty"):
            self.content = b""
        else:
            raise ScenarioError("%s: needs \"spec\" or \"spec_text\"" % where)
        self.extra = spec.get("specification_extra") or {}
        self.concurrent = bool(spec.get("concurrent"))
        self.held = bool(spec.get("held"))
        self.continue_on_failure = bool(spec.get("continue_on_failure"))
        self.spec_fetches = 0
        self.tampered = None
        self.specification = None
        if not isinstance(spec.get("commands", []), list):
            raise ScenarioError("%s: \"commands\" must be a list" % where)
        self.commands = []

    def build_specification(self, signer):
        kind = self.envelope_kind
        if isinstance(kind, dict):
            envelope = kind
        elif kind in ("none", "empty"):
            envelope = None
        elif kind in ("text", "json"):
            envelope = {"Format": "TEXT/JSON" if kind == "text" else "JSON",
                        "Payload": self.content.decode("utf-8")}
        else:
            pem = pkcs7_sign(self.content, *signer,
                             nocerts=kind == "pkcs7-nocerts")
            if kind == "pkcs7-tampered":
                pem, self.tampered = pkcs7_tamper(pem, self.content)
            envelope = {"Format": "PKCS7/JSON", "Payload": pem}
        if kind == "none":
            self.specification = None
            return
        spec = {}
        if envelope is not None:
            spec["GenericEnvelope"] = envelope
        spec.update(self.extra)
        self.specification = spec

    def targets(self, host):
        return self.host is None or self.host == host

    def failed(self):
        return not self.continue_on_failure and \
            any(c.failed() for c in self.commands)

    def finished(self):
        return self.failed() or all(c.done() for c in self.commands)

    def status(self):
        if self.failed() or (self.finished() and
                             any(c.failed() for c in self.commands)):
            return "Failed"
        if self.finished():
            return "Succeeded"
        if any(c.dispatched for c in self.commands):
            return "InProgress"
        return "Pending"

    def state(self):
        return {
            "status": self.status(),
            "execution_id": self.execution_id,
            "host": self.host,
            "envelope": self.envelope_kind,
            "spec_fetches": self.spec_fetches,
            "held": self.held,
            "content": self.content.decode("utf-8", "replace"),
            "tampered_content": (self.tampered.decode("utf-8", "replace")
                                 if self.tampered else None),
            "commands": [c.id for c in self.commands],
        }


class Fault:
    KEYS = ("op", "nth", "action", "seconds", "status", "type", "message",
            "body", "host", "name")
    ACTIONS = ("throttle", "throttle-429", "server-500", "server-503",
               "error", "delay", "drop", "drop-after", "duplicate",
               "wrong-host", "unknown-command", "empty")
    POLL_ONLY = ("duplicate", "wrong-host", "unknown-command", "empty")

    def __init__(self, spec, where):
        check_keys(spec, self.KEYS, where)
        self.op = spec.get("op", "*")
        if self.op != "*" and self.op not in INPUTS:
            raise ScenarioError("%s: unknown op %r" % (where, self.op))
        nth = spec.get("nth", "always")
        if nth == "always":
            self.nth = None
        elif isinstance(nth, int):
            self.nth = {nth}
        elif isinstance(nth, list) and all(isinstance(n, int) for n in nth):
            self.nth = set(nth)
        else:
            raise ScenarioError("%s: nth must be N, [N...] or \"always\""
                                % where)
        self.action = spec.get("action")
        if self.action not in self.ACTIONS:
            raise ScenarioError("%s: action must be one of %s"
                                % (where, ", ".join(self.ACTIONS)))
        if self.action in self.POLL_ONLY and self.op != "PollHostCommand":
            raise ScenarioError("%s: %s needs \"op\": \"PollHostCommand\""
                                % (where, self.action))
        self.params = spec

    def matches(self, op, counts):
        if self.op not in ("*", op):
            return False
        return self.nth is None or counts[self.op] in self.nth

    def error(self):
        """The ApiError (or raw reply) an error action answers with."""
        act = self.action
        if act == "throttle":
            return ApiError(400, AVAILABILITY + "ThrottlingException",
                            "Rate exceeded")
        if act == "throttle-429":
            return ApiError(429, AVAILABILITY + "ThrottlingException",
                            "Rate exceeded")
        if act in ("server-500", "server-503"):
            return ApiError(int(act[-3:]), "ServerException",
                            "Internal service error (scripted fault)")
        p = self.params
        return ApiError(int(p.get("status", 400)), p.get("type",
                                                         "ClientException"),
                        p.get("message"))


class Scenario:
    KEYS = ("host", "poll_hold_seconds", "empty_poll", "redeliver_unacked",
            "deployments", "faults")

    def __init__(self, obj):
        check_keys(obj, self.KEYS, "scenario")
        self.host = obj.get("host")
        self.poll_hold = float(obj.get("poll_hold_seconds", 1.0))
        self.empty_poll = obj.get("empty_poll", "absent")
        if self.empty_poll not in ("absent", "null"):
            raise ScenarioError("scenario: empty_poll must be absent or null")
        self.redeliver = bool(obj.get("redeliver_unacked"))
        self.deployments = []
        nonce = 0
        ids = set()
        for i, dspec in enumerate(obj.get("deployments", [])):
            where = "deployments[%d]" % i
            dep = Deployment(dspec, i, self.host, where)
            if any(d.id == dep.id for d in self.deployments):
                raise ScenarioError("%s: duplicate id %s" % (where, dep.id))
            for j, cspec in enumerate(dspec.get("commands", [])):
                nonce += 1
                cmd = Command(cspec, dep, j, nonce,
                              "%s.commands[%d]" % (where, j))
                if cmd.id in ids:
                    raise ScenarioError("%s.commands[%d]: duplicate id %s"
                                        % (where, j, cmd.id))
                ids.add(cmd.id)
                dep.commands.append(cmd)
            self.deployments.append(dep)
        self.faults = [Fault(f, "faults[%d]" % i)
                       for i, f in enumerate(obj.get("faults", []))]


# --- the service ------------------------------------------------------------

DROP = object()


class Service:
    """Scenario state, checks and operations; one lock guards it all."""

    def __init__(self, args, scenario):
        self.args = args
        self.scenario = scenario
        prefix, service = VARIANTS[args.variant]
        self.prefix = prefix
        args.service = args.service or service
        self.cond = threading.Condition()
        self.commands = {}
        for dep in scenario.deployments:
            for cmd in dep.commands:
                self.commands[cmd.id] = cmd
        self.by_execution = {d.execution_id: d for d in scenario.deployments}
        self.poll_hold = min(args.poll_hold if args.poll_hold is not None
                             else scenario.poll_hold, 60.0)
        self.last_dispatched = {}
        self.injected = 0
        self.seq = 0
        self.counts = {"*": 0}
        self.by_op = {}
        self.errors = {}
        self.tls_errors = 0
        self.hosts_seen = []
        self.agent_versions = []
        self.faults_fired = []
        self.unknown_ids = []
        self.polls_held = 0
        self.handshakes = 0
        self.conn_host = {}
        self.requests_by_host = {}
        self.poll_seconds = {}
        self.window = None  # (action, until monotonic)
        self.stopping = False
        self.workdir = None
        self.signer = None
        self.requests_file = open(args.requests, "a") if args.requests \
            else None

    def now(self):
        return time.time() + self.args.clock_offset

    # --- dispatch -----------------------------------------------------------

    def next_command(self, host):
        """The next dispatchable command for host, in scenario order."""
        earlier_unfinished = False
        for dep in self.scenario.deployments:
            if not dep.targets(host):
                continue
            if dep.finished():
                continue
            active = not dep.held and (dep.concurrent or
                                       not earlier_unfinished)
            earlier_unfinished = True
            if not active:
                continue
            cmd = next(c for c in dep.commands if not c.done())
            if cmd.host is not None and cmd.host != host:
                continue
            if not cmd.dispatched:
                return cmd
            if self.scenario.redeliver and not cmd.acknowledged:
                return cmd
        return None

    def dispatch(self, cmd, host, report_host=None):
        cmd.dispatched_to = host
        cmd.dispatched = True
        cmd.deliveries += 1
        self.last_dispatched[host] = cmd
        return {"HostCommand": cmd.instance(report_host or cmd.report_host
                                            or host)}

    def empty_poll(self):
        if self.scenario.empty_poll == "null":
            return {"HostCommand": None}
        return {}

    def inject(self, host, name):
        """A fresh command (fault unknown-command) for a likely deployment."""
        nxt = self.next_command(host)
        dep = nxt.deployment if nxt else (
            self.last_dispatched[host].deployment
            if host in self.last_dispatched else None)
        if dep is None:
            deps = [d for d in self.scenario.deployments if d.targets(host)]
            if not deps:
                return None
            dep = deps[0]
        self.injected += 1
        cmd = Command({"name": name, "id": "hc-injected-%d" % self.injected},
                      dep, -1, None, "fault")
        cmd.injected = True
        self.commands[cmd.id] = cmd
        return cmd

    def op_poll(self, body, faults):
        host = body["HostIdentifier"]
        deadline = time.monotonic() + self.poll_hold
        with self.cond:
            if host not in self.hosts_seen:
                self.hosts_seen.append(host)
            action = faults[0] if faults else None
            if action and action.action == "duplicate" and \
                    host in self.last_dispatched:
                return self.dispatch(self.last_dispatched[host], host)
            if action and action.action == "empty":
                return self.empty_poll()
            if action and action.action == "unknown-command":
                cmd = self.inject(host, action.params.get("name",
                                                          "FrobnicateEvent"))
                if cmd:
                    return self.dispatch(cmd, host)
            while True:
                cmd = self.next_command(host)
                if cmd is not None:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stopping:
                    return self.empty_poll()
                self.polls_held += 1
                try:
                    self.cond.wait(remaining)
                finally:
                    self.polls_held -= 1
            if action and action.action == "wrong-host":
                cmd.misdirected += 1
                return {"HostCommand": cmd.instance(action.params.get(
                    "host", "arn:aws:ec2:us-east-1:000000000000:instance/"
                    "i-0000000000wrong"))}
            return self.dispatch(cmd, host)

    def command_for(self, ident, op):
        cmd = self.commands.get(ident)
        if cmd is None:
            if ident not in self.unknown_ids:
                self.unknown_ids.append(ident)
            raise client_error("HostCommandIdentifier %s is not known"
                               % ident)
        if not cmd.dispatched:
            cmd.problems.append("%s before the command was dispatched" % op)
            raise client_error("HostCommand %s has not been dispatched"
                               % ident)
        return cmd

    @staticmethod
    def parse_diagnostics(envelope, problems, what):
        """The parsed payload of a Diagnostics envelope (or None)."""
        if envelope is None:
            problems.append("%s without Diagnostics" % what)
            return None
        if envelope.get("Format") != "JSON":
            problems.append("%s Diagnostics Format %r, not \"JSON\""
                            % (what, envelope.get("Format")))
        try:
            return json.loads(envelope.get("Payload") or "",
                              object_pairs_hook=dict)
        except ValueError:
            problems.append("%s Diagnostics Payload is not JSON" % what)
            return None

    def op_ack(self, body):
        with self.cond:
            cmd = self.command_for(body["HostCommandIdentifier"],
                                   "PutHostCommandAcknowledgement")
            cmd.acks += 1
            diag = self.parse_diagnostics(body.get("Diagnostics"),
                                          cmd.problems, "ack")
            if diag is not None and (not isinstance(diag, dict) or
                                     list(diag) != ["IsCommandNoop"] or
                                     not isinstance(diag["IsCommandNoop"],
                                                    bool)):
                cmd.problems.append("ack payload is not "
                                    "{\"IsCommandNoop\":<bool>}")
            if cmd.acks == 1:
                cmd.ack_diagnostics = diag
                cmd.ack_diagnostics_raw = body.get("Diagnostics")
            if not cmd.acknowledged or cmd.ack_returned is None:
                cmd.acknowledged = True
                cmd.ack_returned = cmd.ack_status
                if not cmd.completed:
                    cmd.status = cmd.ack_status or "InProgress"
            self.cond.notify_all()
            if cmd.ack_status is None:
                return {}
            return {"CommandStatus": cmd.ack_status}

    def op_complete(self, body):
        with self.cond:
            cmd = self.command_for(body["HostCommandIdentifier"],
                                   "PutHostCommandComplete")
            cmd.completes += 1
            if cmd.completes > 1:
                raise client_error("HostCommand %s is already completed"
                                   % cmd.id)
            status = body["CommandStatus"]
            cmd.completed_status = status
            cmd.completed_before_ack = not cmd.acknowledged
            cmd.diagnostics_raw = body.get("Diagnostics")
            diag = self.parse_diagnostics(cmd.diagnostics_raw, cmd.problems,
                                          "complete")
            cmd.diagnostics = diag
            if status not in ("Succeeded", "Failed"):
                cmd.problems.append("complete with CommandStatus %s" % status)
            else:
                cmd.completed = True
                cmd.status = status
            if diag is not None:
                self.check_complete_payload(cmd, status, diag)
            self.cond.notify_all()
            return {}

    @staticmethod
    def check_complete_payload(cmd, status, diag):
        if not isinstance(diag, dict) or list(diag) != COMPLETE_KEYS:
            cmd.problems.append("complete payload keys are not exactly %s "
                                "in that order" % ",".join(COMPLETE_KEYS))
            return
        code = diag["error_code"]
        if isinstance(code, bool) or not isinstance(code, int) or \
                not 0 <= code <= 7:
            cmd.problems.append("error_code %r is not an integer 0..7"
                                % (code,))
        elif (code == 0) != (status == "Succeeded"):
            cmd.problems.append("error_code %d with status %s"
                                % (code, status))
        for key in ("script_name", "message", "log"):
            if not isinstance(diag[key], str):
                cmd.problems.append("%s is not a string" % key)

    def op_update(self, body):
        with self.cond:
            cmd = self.command_for(body["HostCommandIdentifier"],
                                   "PostHostCommandUpdate")
            beat = {"estimated_completion_time":
                    body.get("EstimatedCompletionTime"),
                    "diagnostics_raw": body.get("Diagnostics"),
                    "diagnostics": None}
            if body.get("Diagnostics") is not None:
                beat["diagnostics"] = self.parse_diagnostics(
                    body["Diagnostics"], cmd.problems, "update")
            cmd.heartbeats.append(beat)
            return {"CommandStatus": cmd.update_status or cmd.status}

    def op_get_spec(self, body):
        with self.cond:
            dep = self.by_execution.get(body["DeploymentExecutionId"])
            if dep is None:
                raise client_error("DeploymentExecutionId %s is not known"
                                   % body["DeploymentExecutionId"])
            if not dep.targets(body["HostIdentifier"]):
                raise client_error("Deployment %s does not target host %s"
                                   % (dep.id, body["HostIdentifier"]))
            dep.spec_fetches += 1
            out = {}
            if dep.system is not None:
                out["DeploymentSystem"] = dep.system
            if dep.specification is not None:
                out["DeploymentSpecification"] = dep.specification
            return out

    OPERATIONS = {
        "PollHostCommand": op_poll,
        "GetDeploymentSpecification": op_get_spec,
        "PutHostCommandAcknowledgement": op_ack,
        "PutHostCommandComplete": op_complete,
        "PostHostCommandUpdate": op_update,
    }

    # --- one request --------------------------------------------------------

    def check_request(self, method, path, get_all, body, rec):
        """The checks before the operation; returns the op and input."""
        raw_path, _, raw_query = path.partition("?")
        if method != "POST" or raw_path != "/":
            raise ApiError(404, CORAL + "UnknownOperationException")
        ctype = (get_all("content-type") or [""])[0]
        if ctype.split(";")[0].strip().lower() != \
                "application/x-amz-json-1.1":
            raise ApiError(400, CORAL + "UnknownOperationException")
        target = (get_all("x-amz-target") or [""])[0]
        prefix, dot, op = target.partition(".")
        if not dot or prefix != self.prefix or op not in INPUTS:
            raise ApiError(400, CORAL + "UnknownOperationException")
        rec["op"] = op
        rec["auth"] = {}
        verify_sigv4(self.args, method, raw_path, raw_query, get_all, body,
                     self.now(), rec["auth"])
        version = (get_all("x-amz-codedeploy-agent-version") or [""])[0]
        with self.cond:
            if version and version not in self.agent_versions:
                self.agent_versions.append(version)
        if self.args.require_agent_version and not version.strip():
            raise client_error("Missing x-amz-codedeploy-agent-version "
                               "header (cmdsvc.py --require-agent-version)")
        return op, validate_input(op, body, not self.args.allow_unknown)

    def handle(self, method, path, get_all, body, rec):
        """Answer one API request: (status, body object) or DROP."""
        try:
            op, inp = self.check_request(method, path, get_all, body, rec)
            with self.cond:
                self.counts[op] = self.counts.get(op, 0) + 1
                self.counts["*"] += 1
                fired = [f for f in self.scenario.faults
                         if f.matches(op, self.counts)]
                for fault in fired:
                    self.faults_fired.append({"seq": rec["seq"], "op": op,
                                              "nth": self.counts[fault.op],
                                              "action": fault.action})
            rec["fault"] = [f.action for f in fired] or None
            window = self.window
            if window and time.monotonic() < window[1]:
                rec["fault"] = [window[0]]
                if window[0] == "drop":
                    return DROP
                raise ApiError(400, AVAILABILITY + "ThrottlingException",
                               "Rate exceeded")
            time.sleep(sum(float(f.params.get("seconds", 1))
                           for f in fired if f.action == "delay"))
            terminal = [f for f in fired if f.action != "delay"]
            first = terminal[0] if terminal else None
            if first and first.action == "drop":
                return DROP
            if first and first.action in ("throttle", "throttle-429",
                                          "server-500", "server-503",
                                          "error"):
                err = first.error()
                if first.action in ("throttle-429", "error") and \
                        "body" in first.params:
                    if first.params["body"] is False:
                        return err.status, b"", err.bare()
                    if isinstance(first.params["body"], str):
                        return (err.status, first.params["body"].encode(),
                                err.bare())
                raise err
            poll_faults = [first] if first and op == "PollHostCommand" \
                else []
            if op == "PollHostCommand":
                out = self.op_poll(inp, poll_faults)
            else:
                out = self.OPERATIONS[op](self, inp)
            if first and first.action == "drop-after":
                return DROP
            return 200, out, None
        except ApiError as err:
            return err.status, err.body(), err.bare()

    def host_of(self, rec):
        body = rec.get("body") if isinstance(rec.get("body"), dict) else {}
        host = body.get("HostIdentifier")
        if not isinstance(host, str):
            cmd = self.commands.get(body.get("HostCommandIdentifier"))
            host = cmd.dispatched_to if cmd is not None else None
        return host

    def note_handshake(self):
        with self.cond:
            self.handshakes += 1
            return self.handshakes

    def record(self, rec):
        with self.cond:
            op = rec.get("op") or "(none)"
            self.by_op[op] = self.by_op.get(op, 0) + 1
            host = self.host_of(rec)
            if host is not None:
                self.requests_by_host[host] = \
                    self.requests_by_host.get(host, 0) + 1
                self.conn_host.setdefault(rec.get("conn"), host)
            if op == "PollHostCommand":
                sec = str(int(rec["time"]))
                self.poll_seconds[sec] = self.poll_seconds.get(sec, 0) + 1
            if rec.get("error"):
                self.errors[rec["error"]] = self.errors.get(rec["error"],
                                                            0) + 1
            if self.requests_file:
                self.requests_file.write(json.dumps(rec) + "\n")
                self.requests_file.flush()
            self.write_state_locked()

    def note_tls_error(self):
        with self.cond:
            self.tls_errors += 1
            self.write_state_locked()

    def state_locked(self):
        every = [c for d in self.scenario.deployments for c in d.commands]
        return {
            "variant": self.args.variant,
            "requests": {"total": self.seq, "by_op": self.by_op},
            "errors": self.errors,
            "tls_errors": self.tls_errors,
            "hosts_seen": self.hosts_seen,
            "agent_versions": self.agent_versions,
            "polls_held": self.polls_held,
            "faults_fired": self.faults_fired,
            "unknown_ids": self.unknown_ids,
            "signer_cert": self.signer[0] if self.signer else None,
            "workdir": self.workdir,
            "deployments": {d.id: d.state()
                            for d in self.scenario.deployments},
            "commands": {c.id: c.state() for c in self.commands.values()},
            "done": all(d.finished() for d in self.scenario.deployments),
            "pending": [c.id for c in every
                        if not c.done() and not c.deployment.finished()],
            "tls_handshakes": self.handshakes,
            "handshakes_by_host": self.handshakes_by_host(),
            "requests_by_host": self.requests_by_host,
            "poll_seconds": self.poll_seconds,
        }

    def summary(self):
        """The cheap part of the state, for a fleet's frequent checks."""
        with self.cond:
            return {"deployments": {d.id: d.status()
                                    for d in self.scenario.deployments},
                    "tls_handshakes": self.handshakes,
                    "handshakes_by_host": self.handshakes_by_host()}

    def handshakes_by_host(self):
        out = {}
        for host in self.conn_host.values():
            out[host] = out.get(host, 0) + 1
        return out

    def set_window(self, action, seconds):
        with self.cond:
            self.window = (action, time.monotonic() + seconds)
            if action == "drop":
                self.cond.notify_all()

    def state(self):
        with self.cond:
            return self.state_locked()

    def write_state_locked(self):
        if not self.args.state_file:
            return
        tmp = self.args.state_file + ".tmp"
        with open(tmp, "w") as out:
            json.dump(self.state_locked(), out, indent=1)
        os.replace(tmp, self.args.state_file)

    def dump_state(self):
        with self.cond:
            self.write_state_locked()

    def release(self, dep_id):
        with self.cond:
            for dep in self.scenario.deployments:
                if dep.id == dep_id:
                    dep.held = False
                    self.cond.notify_all()
                    self.write_state_locked()
                    return True
            return False

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


# --- HTTP -------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cmdsvc-double"
    sys_version = ""
    timeout = 120

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.service.args.verbose:
            sys.stderr.write("cmdsvc: %s\n" % (fmt % args))

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.service.now(), usegmt=True)

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, chunks)) > MAX_BODY:
                    raise ValueError("body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def reply(self, status, payload, error_type):
        if isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def control(self, method, path):
        svc = self.server.service
        raw_path, _, query = path.partition("?")
        params = urllib.parse.parse_qs(query)
        if method == "GET" and raw_path == "/__state":
            return self.reply(200, svc.state(), None)
        if method == "GET" and raw_path == "/__summary":
            return self.reply(200, svc.summary(), None)
        if method == "POST" and raw_path == "/__window":
            action = (params.get("action") or [""])[0]
            try:
                seconds = float((params.get("seconds") or [""])[0])
            except ValueError:
                seconds = -1
            if action not in ("drop", "throttle") or seconds < 0:
                return self.reply(400, {"message": "action drop|throttle "
                                        "and seconds >= 0, please"}, None)
            svc.set_window(action, seconds)
            return self.reply(200, {"window": action, "seconds": seconds},
                              None)
        if method == "POST" and raw_path == "/__release":
            dep = (params.get("deployment") or [""])[0]
            if svc.release(dep):
                return self.reply(200, {"released": dep}, None)
            return self.reply(404, {"message": "no deployment %s" % dep},
                              None)
        return self.reply(404, {"message": "unknown control endpoint"}, None)

    def dispatch(self, method):
        svc = self.server.service
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.reply(413, {"message": "bad or oversized body"},
                              None)
        if self.path.startswith("/__"):
            return self.control(method, self.path)
        with svc.cond:
            svc.seq += 1
            seq = svc.seq
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            if name != "authorization":
                headers[name] = (headers[name] + ", " + value
                                 if name in headers else value)
        try:
            parsed = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            parsed = {"_raw": body.decode("utf-8", "replace")}
        rec = {"seq": seq, "conn": getattr(CONN, "id", None),
               "time": svc.now(), "method": method,
               "path": self.path, "op": None, "headers": headers,
               "auth": None, "body": parsed, "status": None, "error": None,
               "fault": None, "response": None}

        def get_all(name):
            return self.headers.get_all(name)

        result = svc.handle(method, self.path, get_all, body, rec)
        if result is DROP:
            rec["status"] = "dropped"
            svc.record(rec)
            self.close_connection = True
            return None
        status, payload, error_type = result
        rec["status"] = status
        rec["error"] = error_type
        rec["response"] = payload if not isinstance(payload, bytes) \
            else payload.decode("utf-8", "replace")
        # Record first: a client that sees the reply must find it recorded.
        svc.record(rec)
        return self.reply(status, payload, error_type)

    def do_POST(self):
        self.dispatch("POST")

    def do_GET(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")


CONN = threading.local()  # the connection this thread serves


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a fleet connects at once

    def __init__(self, service, tls):
        self.service = service
        self.tls = tls
        super().__init__(("127.0.0.1", service.args.port), Handler)

    def finish_request(self, request, client_address):
        """TLS handshake in the connection's own thread, then HTTP."""
        request.settimeout(10)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            self.service.note_tls_error()
            return
        CONN.id = self.service.note_handshake()
        conn.settimeout(None)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def serve(args):
    try:
        with open(args.scenario) as src:
            scenario = Scenario(json.load(src))
    except (OSError, ValueError, ScenarioError) as exc:
        sys.stderr.write("cmdsvc.py: scenario %s: %s\n" % (args.scenario,
                                                           exc))
        return 2
    svc = Service(args, scenario)
    own_workdir = args.workdir is None
    svc.workdir = args.workdir or tempfile.mkdtemp(prefix="cmdsvc-")
    os.makedirs(svc.workdir, exist_ok=True)
    stop = threading.Event()
    try:
        needs_signer = any(isinstance(d.envelope_kind, str) and
                           d.envelope_kind.startswith("pkcs7")
                           for d in scenario.deployments)
        if needs_signer:
            svc.signer = make_signer(svc.workdir)
        for dep in scenario.deployments:
            dep.build_specification(svc.signer)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
        server = Server(svc, tls)
        port = server.server_address[1]
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGUSR1, lambda *_: threading.Thread(
            target=svc.dump_state).start())
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={"poll_interval": 0.1})
        thread.start()
        with svc.cond:
            svc.write_state_locked()
        if args.port_file:
            write_atomic(args.port_file, "%d\n" % port)
        print("READY %d" % port, flush=True)
        while not stop.wait(3600):
            pass
        svc.stop()
        server.shutdown()
        thread.join()
        server.server_close()
        with svc.cond:
            svc.write_state_locked()
        return 0
    except (OSError, subprocess.CalledProcessError, ValueError) as exc:
        sys.stderr.write("cmdsvc.py: %s\n" % exc)
        return 1
    finally:
        if own_workdir:
            shutil.rmtree(svc.workdir, ignore_errors=True)


# --- client (--call) --------------------------------------------------------

def call(args):
    """One signed request: "<status> <body>", "DROPPED <why>" when the
    connection closed without a reply, or "ERROR <why>"."""
    url = urllib.parse.urlsplit(args.url)
    prefix, service = VARIANTS[args.variant]
    service = args.service or service
    target = args.target or "%s.%s" % (prefix, args.call)
    body = (args.body if args.body is not None else "{}").encode()
    when = time.time() + args.date_offset
    amz = args.date or amz_date_of(when)
    host = url.netloc
    headers = [("host", host), ("content-type", args.content_type),
               ("x-amz-target", target), ("x-amz-date", amz)]
    if args.agent_version:
        headers.append(("x-amz-codedeploy-agent-version",
                        args.agent_version))
    if args.session_token:
        headers.append(("x-amz-security-token", args.session_token))
    headers = [h for h in headers if h[0] not in args.omit]
    auth, _ = sign_headers("POST", url.path or "/", url.query, headers, body,
                           args.access_key, args.secret_key, args.region,
                           service, amz, unsigned=set(args.unsigned))
    ctx = ssl.create_default_context(cafile=args.cacert)
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx,
                                       timeout=args.timeout)
    try:
        conn.putrequest("POST", (url.path or "/") +
                        ("?" + url.query if url.query else ""),
                        skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Authorization", auth)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
    except (http.client.RemoteDisconnected, ConnectionError) as exc:
        return "DROPPED %s" % exc
    except (OSError, http.client.HTTPException) as exc:
        return "ERROR %s" % exc
    finally:
        conn.close()
    return "%d %s" % (resp.status, data)


# --- self-test ---------------------------------------------------------------

class SelfTestConfig:
    access_key = "AKIAIOSFODNN7EXAMPLE"
    secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    session_token = None
    region = "us-east-1"
    service = "codedeploy-commands"


def self_test():
    """The signer against AWS's three S3 examples (as in test_sigv4.c),
    then sign/verify round trips and the PKCS7 helpers."""
    results = []

    def check(name, cond):
        results.append(cond)
        print("%s %d - %s" % ("ok" if cond else "not ok", len(results), name))

    cfg = SelfTestConfig()
    amz = "20130524T000000Z"
    host = "examplebucket.s3.amazonaws.com"
    base = {"host": [host], "x-amz-content-sha256": [EMPTY_SHA256],
            "x-amz-date": [amz]}
    vectors = [
        ("/test.txt", "", {"range": ["bytes=0-9"]},
         "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        ("/", "lifecycle", {},
         "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        ("/", "max-keys=2&prefix=J", {},
         "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ]
    for path, query, extra, expected in vectors:
        hdrs = dict(base, **extra)
        creq = canonical_request("GET", path, query, hdrs, sorted(hdrs),
                                 EMPTY_SHA256, s3=True)
        _, _, sig = signature(cfg.secret_key, amz, "us-east-1", "s3", creq)
        check("S3 example GET %s?%s signature" % (path, query),
              sig == expected)
        if extra:
            check("S3 example canonical request text", creq == (
                "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
                "range:bytes=0-9\nx-amz-content-sha256:" + EMPTY_SHA256 +
                "\nx-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" +
                EMPTY_SHA256))
    check("query decoded, re-encoded and sorted",
          canonical_query("versionId=a+b%2Fc&acl&b=%7e x") ==
          "acl=&b=~%20x&versionId=a%2Bb%2Fc")
    check("other services: path normalised and encoded twice",
          canonical_uri("/a/./b/../c%20d", False) == "/a/c%2520d")

    now = 1369353600.0
    body = b'{"HostIdentifier":"i-1"}'
    hdrs = [("Host", "h:1"), ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "CodeDeployCommandService_v20141006."
             "PollHostCommand"), ("X-Amz-Date", amz)]

    def verify(headers, payload, secret=cfg.secret_key, at=now,
               unsigned=(), sent=None):
        auth, _ = sign_headers("POST", "/", "", headers, payload,
                               cfg.access_key, secret, cfg.region,
                               cfg.service, amz, unsigned=unsigned)
        table = {}
        for name, value in headers + [("authorization", auth)]:
            table.setdefault(name.lower(), []).append(value)
        try:
            verify_sigv4(cfg, "POST", "/", "", table.get,
                         payload if sent is None else sent, at)
            return None
        except ApiError as err:
            return err

    check("round trip verifies", verify(hdrs, body) is None)
    err = verify(hdrs, body, secret="wrong")
    check("wrong secret: InvalidSignatureException",
          err is not None and err.bare() == "InvalidSignatureException")
    err = verify(hdrs, body, sent=body + b" ")
    check("changed body: InvalidSignatureException",
          err is not None and err.bare() == "InvalidSignatureException")
    err = verify(hdrs, body, at=now + 16 * 60)
    check("16 minutes of skew: Signature expired",
          err is not None and "Signature expired" in (err.message or ""))
    err = verify(hdrs, body, unsigned={"x-amz-date"})
    check("x-amz-date not signed: rejected",
          err is not None and "X-Amz-Date" in (err.message or ""))

    content = b'{"DeploymentId":"d-ABCDEFGHI","N":[1]}'
    tampered = tamper_text(content)
    check("tampering keeps the length and valid JSON",
          len(tampered) == len(content) and tampered != content and
          json.loads(tampered) is not None)
    workdir = tempfile.mkdtemp(prefix="cmdsvc-selftest-")
    try:
        signer = make_signer(workdir)
        pem = pkcs7_sign(content, *signer)
        check("PKCS7 is PEM 'BEGIN PKCS7'",
              pem.startswith("-----BEGIN PKCS7-----\n"))
        bad, _ = pkcs7_tamper(pem, content)
        outs = []
        for text in (pem, bad):
            res = subprocess.run(["openssl", "cms", "-verify", "-noverify",
                                  "-inform", "PEM", "-binary"],
                                 input=text.encode(), capture_output=True)
            outs.append((res.returncode, res.stdout))
        check("openssl cms -verify accepts the signed spec",
              outs[0] == (0, content))
        check("openssl cms -verify rejects the tampered spec",
              outs[1][0] != 0)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def build_parser():
    ap = argparse.ArgumentParser(
        description="HTTPS test double of the CodeDeploy Commands API",
        epilog="The scenario format is documented at the top of this file.")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--call", metavar="OPERATION",
                    help="send one signed request and print the reply")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--scenario")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--requests", help="JSON lines of every request")
    ap.add_argument("--state-file")
    ap.add_argument("--workdir", help="keep the signer here (kept)")
    ap.add_argument("--variant", choices=sorted(VARIANTS),
                    default="standard")
    ap.add_argument("--service", help="SigV4 service name (default per "
                    "variant)")
    ap.add_argument("--access-key", default="AKIDCMDSVCTEST000001")
    ap.add_argument("--secret-key",
                    default="cmdsvc-test-secret-0000000000000000000000")
    ap.add_argument("--session-token")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--require-agent-version", action="store_true")
    ap.add_argument("--allow-unknown-members", dest="allow_unknown",
                    action="store_true")
    ap.add_argument("--poll-hold", type=float)
    ap.add_argument("--clock-offset", type=float, default=0.0,
                    help="seconds added to the server's clock")
    ap.add_argument("--verbose", action="store_true")
    # --call
    ap.add_argument("--url")
    ap.add_argument("--cacert")
    ap.add_argument("--body", help="request JSON (default {})")
    ap.add_argument("--target", help="X-Amz-Target verbatim")
    ap.add_argument("--content-type", default="application/x-amz-json-1.1")
    ap.add_argument("--agent-version")
    ap.add_argument("--date", help="x-amz-date verbatim")
    ap.add_argument("--date-offset", type=float, default=0.0)
    ap.add_argument("--unsigned", action="append", default=[],
                    help="send this header without signing it")
    ap.add_argument("--omit", action="append", default=[],
                    help="do not send this header")
    ap.add_argument("--timeout", type=float, default=30.0)
    return ap


def main(argv=None):
    """Serve, self-test, or make one call (prints the reply; exit status 3
    when the connection was dropped)."""
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if args.call:
        if not args.url or not args.cacert:
            ap.error("--call needs --url and --cacert")
        reply = call(args)
        print(reply)
        return {"DROPPED": 3, "ERROR": 4}.get(reply.split(" ")[0], 0)
    if not (args.cert and args.key and args.scenario):
        ap.error("serving needs --cert, --key and --scenario")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
