#!/usr/bin/python3
"""s3ctl.py: set up S3 fixtures for tests (Debian's python3-boto3).

Usage:
  s3ctl.py [--env FILE] [--endpoint URL] [--ca FILE] [--region R]
           [--access-key K] [--secret-key S] COMMAND ARGS...
Commands (each prints one JSON document on stdout):
  mb BUCKET                  create a bucket: {"Bucket"}
  versioning BUCKET          enable versioning: {"Status"}
  put BUCKET KEY FILE        upload FILE as KEY: {"VersionId", "ETag"}
  get BUCKET KEY OUT [--version-id=V]
                             download KEY into OUT:
                             {"VersionId", "ETag", "ContentLength"}
  versions BUCKET [--prefix P]
                             ListObjectVersions: [{"Key", "VersionId",
                             "ETag", "IsLatest", "Size"}, ...]
  rm BUCKET KEY [--version-id=V]
                             DeleteObject: {"VersionId", "DeleteMarker"}
Write --version-id=V with '=': a radosgw version id may start with '-',
which argparse takes for an option when it is a separate word.
Defaults come from the environment written by rgw-up.sh (S3_ENDPOINT, S3_CA,
S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), or from --env FILE
(that file itself); options override both.  Requests are path-style and
SigV4-signed by botocore, so keys with spaces, '+' or non-ASCII characters
work.  Keys are taken verbatim (UTF-8).  No retries: an S3 error prints
"s3ctl: COMMAND: <Code> (HTTP <status>): <message>" on stderr and exits 1.
Run it with /usr/bin/python3 (a pyenv python3 cannot import Debian's boto3).
"""
import argparse
import json
import os
import shlex
import sys

try:
    import boto3
    import botocore.config
    import botocore.exceptions
except ImportError:
    sys.exit("s3ctl: boto3 is missing: apt-get install python3-boto3, "
             "and run this with /usr/bin/python3")

ENV_KEYS = ("S3_ENDPOINT", "S3_CA", "S3_REGION", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY")


def read_env_file(path):
    """KEY=VALUE lines (shell-quoted, as rgw-up.sh writes them)."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            words = shlex.split(value)
            values[key] = words[0] if words else ""
    return values


def client(args):
    cfg = botocore.config.Config(
        signature_version="s3v4", retries={"max_attempts": 1},
        s3={"addressing_style": "path"}, connect_timeout=10, read_timeout=60)
    return boto3.client(
        "s3", endpoint_url=args.endpoint, region_name=args.region,
        aws_access_key_id=args.access_key,
        aws_secret_access_key=args.secret_key,
        verify=args.ca if args.ca else True, config=cfg)


def run(args):
    s3 = client(args)
    if args.command == "mb":
        s3.create_bucket(Bucket=args.bucket)
        return {"Bucket": args.bucket}
    if args.command == "versioning":
        s3.put_bucket_versioning(Bucket=args.bucket,
                                 VersioningConfiguration={
                                     "Status": "Enabled"})
        r = s3.get_bucket_versioning(Bucket=args.bucket)
        return {"Status": r.get("Status")}
    if args.command == "put":
        with open(args.file, "rb") as f:
            r = s3.put_object(Bucket=args.bucket, Key=args.key, Body=f)
        return {"VersionId": r.get("VersionId"), "ETag": r.get("ETag")}
    if args.command == "get":
        extra = {"VersionId": args.version_id} if args.version_id else {}
        r = s3.get_object(Bucket=args.bucket, Key=args.key, **extra)
        with open(args.out, "wb") as f:
            for chunk in r["Body"].iter_chunks(1 << 20):
                f.write(chunk)
        return {"VersionId": r.get("VersionId"), "ETag": r.get("ETag"),
                "ContentLength": r.get("ContentLength")}
    if args.command == "versions":
        out = []
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=args.bucket, Prefix=args.prefix)
        for page in pages:
            for v in page.get("Versions", []):
                out.append({"Key": v["Key"], "VersionId": v["VersionId"],
                            "ETag": v["ETag"], "IsLatest": v["IsLatest"],
                            "Size": v["Size"]})
        return out
    if args.command == "rm":
        extra = {"VersionId": args.version_id} if args.version_id else {}
        r = s3.delete_object(Bucket=args.bucket, Key=args.key, **extra)
        return {"VersionId": r.get("VersionId"),
                "DeleteMarker": r.get("DeleteMarker", False)}
    raise AssertionError(args.command)


def main():
    ap = argparse.ArgumentParser(description="S3 fixture client (boto3)")
    ap.add_argument("--env", help="an env file written by rgw-up.sh")
    ap.add_argument("--endpoint")
    ap.add_argument("--ca")
    ap.add_argument("--region")
    ap.add_argument("--access-key")
    ap.add_argument("--secret-key")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("mb")
    p.add_argument("bucket")
    p = sub.add_parser("versioning")
    p.add_argument("bucket")
    p = sub.add_parser("put")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("file")
    p = sub.add_parser("get")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("out")
    p.add_argument("--version-id")
    p = sub.add_parser("versions")
    p.add_argument("bucket")
    p.add_argument("--prefix", default="")
    p = sub.add_parser("rm")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("--version-id")
    args = ap.parse_args()

    env = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    if args.env:
        env.update({k: v for k, v in read_env_file(args.env).items()
                    if k in ENV_KEYS})
    args.endpoint = args.endpoint or env.get("S3_ENDPOINT")
    args.ca = args.ca or env.get("S3_CA")
    args.region = args.region or env.get("S3_REGION") or "us-east-1"
    args.access_key = args.access_key or env.get("AWS_ACCESS_KEY_ID")
    args.secret_key = args.secret_key or env.get("AWS_SECRET_ACCESS_KEY")
    if not args.endpoint:
        ap.error("no endpoint: give --endpoint, --env or S3_ENDPOINT")
    if not (args.access_key and args.secret_key):
        ap.error("no credentials: give --access-key/--secret-key, --env or "
                 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")

    try:
        result = run(args)
    except botocore.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        print("s3ctl: %s: %s (HTTP %s): %s" % (
            args.command, err.get("Code"), status, err.get("Message") or ""),
            file=sys.stderr)
        return 1
    except (botocore.exceptions.BotoCoreError, OSError) as e:
        print("s3ctl: %s: %s" % (args.command, e), file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
