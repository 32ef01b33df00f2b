#!/usr/bin/python3
"""Seed corpora for the fuzz targets that have no fixture directory of
their own: `mkseeds.py NAME SRCDIR OUTDIR` writes OUTDIR/seed-N files for
target NAME, built from the inputs the unit and integration tests use
(conf/, tests/data/sigv4, tests/data/dspec) and the replies the test
servers send (tests/servers/cmdsvc.py, imds.py, the S3 error documents)."""
import glob
import json
import os
import sys

SEP = b"\x1e"


def reply(status, body=b"", headers=()):
    head = b"%d\n" % status
    for h in headers:
        head += h.encode() + b"\n"
    return head + b"\n" + (body if isinstance(body, bytes) else body.encode())


def hooklog(src):
    outs = [
        [(0, b"hello\nworld\n")],
        [(0, b"\x1b[1;31mred\x1b[0m plain\n"), (1, b"warn: x\n")],
        [(0, b"no newline")],
        [(0, b"a\x00b\xffc\r\n"), (1, b"\xe2\x82\xac\xf0\x9f\x98\x80\n")],
        [(0, b"\x00" * 600), (0, b"\n"), (1, bytes(range(256)))],
        [(0, b"x" * 3000), (0, b"y" * 3000 + b"\n")],
        [(1, b"\x1b]0;title\x07osc\n\x1b[")],
    ]
    seeds = []
    for chunks in outs:
        data = b""
        for stream, chunk in chunks:
            while chunk:
                piece, chunk = chunk[:4095], chunk[4095:]
                n = len(piece)
                data += bytes([((n >> 7) & 0x1E) | stream, n & 0xFF]) + piece
        seeds.append(data)
    return seeds


def cfg(src):
    base = open(os.path.join(src, "conf/codedeployagent.yml"), "rb").read()
    return [
        base,
        b"---\n:log_aws_wire: false\n:verbose: yes\n:wait_between_runs: 030\n"
        b":max_revisions: 0x10\n:root_dir: '/opt/codedeploy-agent/deployment-root'\n",
        b":archive_max_extraction_size: 512 MiB\n:scripts_log_max_size: 10mb\n"
        b":proxy_uri: https://proxy:3128\n:enable_auth_policy: on\n",
        b":http_read_timeout: 80\n:kill_agent_max_wait_time_seconds: 7200\n"
        b":program_name: codedeploy-agent\n:unknown_key: 1\n",
        b"\xef\xbb\xbf:verbose: true\n:max_revisions: 5\n:log_dir: &a /var/log\n"
        b":pid_dir: *a\n",
        b":verbose: [1, 2]\n:max_revisions: -1\n:ongoing: !!binary aGk=\n",
    ]


def onprem(src):
    base = open(os.path.join(src, "conf/codedeploy.onpremises.yml.example"), "rb").read()
    return [
        base,
        b"---\naws_access_key_id: AKIAEXAMPLE\naws_secret_access_key: s3cr3t\n"
        b"iam_user_arn: arn:aws:iam::123456789012:user/host\nregion: us-west-2\n",
        b"---\niam_session_arn: arn:aws:sts::123456789012:assumed-role/r/s\n"
        b"aws_credentials_file: /etc/codedeploy-agent/conf/credentials\n"
        b"region: eu-west-1\n",
        b"region: us-east-1\n",
    ]


def creds(src):
    return [
        b"[default]\naws_access_key_id = AKIAEXAMPLE\n"
        b"aws_secret_access_key = secret\naws_session_token = tok\n",
        b"\xef\xbb\xbf# comment\n; other\n[other]\nx=1\n[default]\n"
        b"aws_access_key_id=A\naws_secret_access_key =  B  \n",
        b"@cdagent\n[cdagent]\naws_access_key_id = A\n"
        b"aws_secret_access_key = B\naws_session_token =\n",
        b"[default]\nbroken line\n",
    ]


def sigv4(src):
    seeds = []
    for req in sorted(glob.glob(os.path.join(src, "tests/data/sigv4/*/request.txt"))):
        lines = open(req, "rb").read().split(b"\n")
        method, rest = (lines[0].split(b" ", 1) + [b""])[:2]
        target = rest.rsplit(b" ", 1)[0]
        path, _, query = target.partition(b"?")
        headers, host = [], b"example.amazonaws.com"
        for h in lines[1:]:
            if not h.strip():
                break
            name, _, value = h.partition(b":")
            if name.lower() == b"host":
                host = value
            elif name.lower() != b"x-amz-date":
                headers.append(name + b":" + value)
        for flags, service in ((b"0", b"x"), (b"8", b"s3")):
            seeds.append(b"\n".join([flags, method, host, path, query, service] + headers))
    return seeds


def location(src):
    return [
        b"\x00s3://bucket/key.tar",
        b"\x01s3://my-bucket/dir/app.tgz?versionId=abc&etag=%22e%22",
        b"\x02https://github.com/owner/repo",
        b"\x00https://github.com/owner/repo.git/tree/main",
        b"\x02https://api.github.com/repos/owner/repo/zipball/0123abc",
        b"\x00https://api.github.com/repos/o/r/tarball",
        b"\x01s3://b/",
    ]


def cmdsvc(src):
    command = json.dumps({"HostCommand": {
        "HostCommandIdentifier": "hc-1", "HostIdentifier": "i-1",
        "DeploymentExecutionId": "e-1", "CommandName": "Install",
        "Nonce": 7}}).encode()
    seeds = [
        b"\x00" + reply(200, command),
        b"\x00" + reply(200, b"{}"),
        b"\x00" + reply(400, b'{"__type":"com.amazon#ThrottlingException"}')
        + SEP + reply(200, command),
        b"\x00" + reply(429, b"") + SEP + reply(200, b'{"HostCommand":null}'),
        b"\x02" + reply(200, b'{"CommandStatus":"InProgress"}'),
        b"\x02" + reply(503, b"") + SEP + reply(200, b'{"CommandStatus":"Failed"}'),
        b"\x03" + reply(400, b'{"__type":"ValidationException","message":"bad"}'),
        b"\x04" + reply(400, b"", ["x-amzn-ErrorType: ThrottlingException:http://x"]),
        b"\x04" + reply(200, b'{"CommandStatus":"Succeeded"}'),
    ]
    for path in sorted(glob.glob(os.path.join(src, "tests/data/dspec/*"))):
        payload = open(path, "rb").read().decode("utf-8", "replace")
        body = json.dumps({"DeploymentSystem": "CodeDeploy",
                           "DeploymentSpecification": {
                               "GenericEnvelope": {"Format": "TEXT/JSON",
                                                   "Payload": payload}}})
        # 0x42: GetDeploymentSpecification (66 % 5 == 1) in developer
        # mode (0x40), so the TEXT/JSON payload is parsed too
        seeds.append(b"\x42" + reply(200, body.encode()))
    return seeds


def imds(src):
    token = reply(200, b"AQAEAFTOKEN==")
    ident = json.dumps({"region": "us-east-1", "accountId": "123456789012",
                        "instanceId": "i-0123456789abcdef0"}).encode()
    cred = json.dumps({"Code": "Success", "AccessKeyId": "ASIAEXAMPLE",
                       "SecretAccessKey": "s", "Token": "t",
                       "Expiration": "2026-12-03T18:15:00Z"}).encode()
    return [
        b"\x00" + token + SEP + reply(200, ident),
        b"\x80" + reply(404, b"") + SEP + reply(200, ident),
        b"\x01" + token + SEP + reply(200, cred),
        b"\x01" + token + SEP + reply(200, cred.replace(b"Z", b"+05:30")),
        b"\x02" + token + SEP + reply(200, b"my-role\nother\n"),
        b"\x03" + token + SEP + reply(200, b"aws-cn"),
        b"\x04" + token + SEP + reply(404, b""),
        b"\x05" + reply(401, b"") + SEP + token + SEP + reply(200, b"i-1"),
        b"\x012026-02-29T23:59:60.123-00:00",
    ]


def s3reply(src):
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
           b"<Message>%s</Message><RequestId>r</RequestId></Error>")
    return [
        reply(403, xml % (b"AccessDenied", b"Access Denied")),
        reply(404, xml % (b"NoSuchKey", b"The specified key does not exist.")),
        reply(301, xml % (b"PermanentRedirect", b"use the endpoint"),
              ["x-amz-bucket-region: eu-west-1", "Location: https://b.s3.eu-west-1.amazonaws.com/k"]),
        reply(503, xml % (b"SlowDown", b"Please reduce your request rate.")),
        reply(206, b"x", ["ETag: \"9b2cf535f27731c974343645a3985328\"",
                          "Content-Range: bytes 0-0/1048576"]),
        reply(200, b"", ["ETag: \"abc-12\""]),
        reply(400, b'{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}'),
        reply(403, b'{"message":"API rate limit exceeded","documentation_url":"https://x"}'),
        reply(302, b"", ["Location: https://codeload.github.com/o/r/legacy.tar.gz/HEAD"]),
    ]


def main():
    name, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    gen = globals()[name[len("fuzz_"):]]
    os.makedirs(out, exist_ok=True)
    for i, seed in enumerate(gen(src)):
        with open(os.path.join(out, "seed-%d" % i), "wb") as f:
            f.write(seed)


if __name__ == "__main__":
    main()
