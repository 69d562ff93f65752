#!/usr/bin/env python3
"""Create bucket NAME in moto (S3) and in the GCS emulator, and container NAME in
Azurite, then print container SAS tokens. Idempotent (existing ones are kept).

Reads the endpoints from the environment written by scripts/emulators.sh
(MLR_S3_ENDPOINT, MLR_GCS_ENDPOINT, MLR_GCS_CA, MLR_AZURE_URL, MLR_AZURE_KEY, ...).
Only 127.0.0.1 endpoints are accepted. Prints KEY=VALUE lines (SAS values contain
'&': quote them before using them in a shell):
  MLR_BUCKET, MLR_AZURE_SAS (racwdl, 10 years), MLR_AZURE_SAS_RO (rl, 10 years),
  MLR_AZURE_SAS_EXPIRED (racwdl, expired an hour ago)
"""

import datetime as dt
import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 10


def need(var):
    val = os.environ.get(var)
    if not val:
        sys.exit("make_buckets: {} not set: source .tools/run/emulators.env".format(var))
    host = urllib.parse.urlparse(val).hostname if "://" in val else None
    if host not in (None, "127.0.0.1"):
        sys.exit("make_buckets: {} must point at 127.0.0.1, not {}".format(var, host))
    return val


def s3_bucket(name):
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=need("MLR_S3_ENDPOINT"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        config=Config(retries={"max_attempts": 2, "mode": "standard"},
                      connect_timeout=TIMEOUT, read_timeout=TIMEOUT),
    )
    try:
        s3.create_bucket(Bucket=name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def gcs_bucket(name):
    url = need("MLR_GCS_ENDPOINT") + "/storage/v1/b?project=test-project"
    ctx = ssl.create_default_context(cafile=need("MLR_GCS_CA"))
    req = urllib.request.Request(
        url, data=json.dumps({"name": name}).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=TIMEOUT) as resp:
            resp.read()
    except urllib.error.HTTPError as err:
        if err.code != 409:  # 409: already exists
            raise


def azure_container(name):
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import (
        BlobServiceClient,
        ContainerSasPermissions,
        generate_container_sas,
    )

    url = need("MLR_AZURE_URL")
    account = os.environ.get("MLR_AZURE_ACCOUNT", "devstoreaccount1")
    key = need("MLR_AZURE_KEY")
    svc = BlobServiceClient(
        account_url=url,
        credential={"account_name": account, "account_key": key},
        retry_total=1, connection_timeout=TIMEOUT, read_timeout=TIMEOUT,
    )
    try:
        svc.create_container(name)
    except ResourceExistsError:
        pass

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = now - dt.timedelta(minutes=5)  # tolerate clock skew

    def sas(perm, expiry, st=start):
        return generate_container_sas(
            account, name, account_key=key, permission=perm, start=st, expiry=expiry,
            protocol="https,http",
        )

    full = ContainerSasPermissions(read=True, add=True, create=True, write=True,
                                   delete=True, list=True)
    ro = ContainerSasPermissions(read=True, list=True)
    return {
        "MLR_AZURE_SAS": sas(full, now + dt.timedelta(days=3650)),
        "MLR_AZURE_SAS_RO": sas(ro, now + dt.timedelta(days=3650)),
        "MLR_AZURE_SAS_EXPIRED": sas(full, now - dt.timedelta(hours=1),
                                     now - dt.timedelta(hours=2)),
    }


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: make_buckets.py NAME")
    name = argv[1]
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]", name) or "--" in name:
        sys.exit("make_buckets: {!r}: use 3-63 chars of a-z 0-9 '-' (valid for S3, GCS "
                 "and Azure)".format(name))
    s3_bucket(name)
    gcs_bucket(name)
    tokens = azure_container(name)
    print("MLR_BUCKET={}".format(name))
    for k, v in tokens.items():
        print("{}={}".format(k, v))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
