#!/usr/bin/python3
"""boto3 against the local S3 endpoint (run by s3_endpoint_test.cpp with S3_ENDPOINT, S3_BUCKET,
WORK_DIR and the AWS_* credentials in the environment). Prints one line per check; exits non-zero
on the first failure."""
import hashlib
import os
import sys
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = os.environ["S3_ENDPOINT"]
bucket = os.environ["S3_BUCKET"]
work = os.environ["WORK_DIR"]
config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, signature_version="s3v4")
s3 = boto3.client("s3", endpoint_url=endpoint, config=config)


def check(name, cond, detail=""):
    if not cond:
        print(f"FAILED {name} {detail}")
        sys.exit(1)
    print(f"ok {name}")


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


# upload_file / download_file (multipart above 8 MB: use 9 MB to go through it)
data = os.urandom(9 * 1024 * 1024 + 123)
src = os.path.join(work, "boto3-src.bin")
dst = os.path.join(work, "boto3-dst.bin")
with open(src, "wb") as f:
    f.write(data)
s3.upload_file(src, bucket, "boto3/big file+plus.bin")
s3.download_file(bucket, "boto3/big file+plus.bin", dst)
with open(dst, "rb") as f:
    check("upload_file/download_file round trip", f.read() == data)
head = s3.head_object(Bucket=bucket, Key="boto3/big file+plus.bin")
check("multipart ETag", head["ETag"].endswith('-2"'), head["ETag"])

# put/get with metadata, range, copy
s3.put_object(Bucket=bucket, Key="boto3/small.txt", Body=b"hello world", ContentType="text/plain",
              Metadata={"colour": "blue"}, CacheControl="max-age=60")
got = s3.get_object(Bucket=bucket, Key="boto3/small.txt")
check("get body", got["Body"].read() == b"hello world")
check("content type", got["ContentType"] == "text/plain", got["ContentType"])
check("metadata", got["Metadata"] == {"colour": "blue"}, got["Metadata"])
check("cache control", got.get("CacheControl") == "max-age=60")
check("etag", got["ETag"] == '"%s"' % hashlib.md5(b"hello world").hexdigest())
rng = s3.get_object(Bucket=bucket, Key="boto3/small.txt", Range="bytes=6-")
check("range", rng["Body"].read() == b"world" and rng["ContentRange"] == "bytes 6-10/11")
check("if-none-match 304", error_code(lambda: s3.get_object(Bucket=bucket, Key="boto3/small.txt",
                                                              IfNoneMatch=got["ETag"])) == "304")
s3.copy_object(Bucket=bucket, Key="boto3/copy.txt", CopySource={"Bucket": bucket, "Key": "boto3/small.txt"})
check("copy", s3.get_object(Bucket=bucket, Key="boto3/copy.txt")["Body"].read() == b"hello world")
s3.copy_object(Bucket=bucket, Key="boto3/copy2.txt", CopySource={"Bucket": bucket, "Key": "boto3/small.txt"},
               MetadataDirective="REPLACE", ContentType="application/x-test", Metadata={"new": "1"})
h2 = s3.head_object(Bucket=bucket, Key="boto3/copy2.txt")
check("copy replace metadata", h2["ContentType"] == "application/x-test" and h2["Metadata"] == {"new": "1"})

# listing with pagination, delimiter, start-after
for i in range(5):
    s3.put_object(Bucket=bucket, Key=f"boto3/list/{i}", Body=b"x")
pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="boto3/list/",
                                                          PaginationConfig={"PageSize": 2}))
keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
check("v2 pagination", keys == [f"boto3/list/{i}" for i in range(5)] and len(pages) == 3, keys)
after = s3.list_objects_v2(Bucket=bucket, Prefix="boto3/list/", StartAfter="boto3/list/2")
check("start-after", [o["Key"] for o in after["Contents"]] == ["boto3/list/3", "boto3/list/4"])
grouped = s3.list_objects_v2(Bucket=bucket, Prefix="boto3/", Delimiter="/")
check("delimiter", [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["boto3/list/"], grouped)
v1 = list(s3.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="boto3/list/",
                                                    PaginationConfig={"PageSize": 2}))
check("v1 pagination", [o["Key"] for p in v1 for o in p["Contents"]] == keys)

# delete_objects (botocore sends Content-MD5)
res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"boto3/list/{i}"} for i in range(5)]})
check("delete_objects", len(res["Deleted"]) == 5 and not res.get("Errors"), res)
check("deleted", "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="boto3/list/"))

# presigned GET and PUT through urllib (no SDK on the wire)
put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "boto3/presigned.bin"},
                                    ExpiresIn=300)
req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
with urllib.request.urlopen(req) as r:
    check("presigned PUT", r.status == 200)
get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "boto3/presigned.bin"},
                                    ExpiresIn=300)
with urllib.request.urlopen(get_url) as r:
    check("presigned GET", r.read() == b"presigned body")
try:
    urllib.request.urlopen(get_url.replace("presigned.bin", "other.bin"))
    check("tampered presigned URL refused", False)
except urllib.error.HTTPError as e:
    check("tampered presigned URL refused", e.code == 403 and b"SignatureDoesNotMatch" in e.read())

# buckets
check("no such bucket", error_code(lambda: s3.head_bucket(Bucket="no-such-bucket")) == "404")
s3.create_bucket(Bucket="boto3-extra")
check("bucket exists", error_code(lambda: s3.create_bucket(Bucket="boto3-extra")) == "BucketAlreadyOwnedByYou")
s3.put_object(Bucket="boto3-extra", Key="k", Body=b"1")
check("bucket not empty", error_code(lambda: s3.delete_bucket(Bucket="boto3-extra")) == "BucketNotEmpty")
s3.delete_object(Bucket="boto3-extra", Key="k")
s3.delete_bucket(Bucket="boto3-extra")
check("bucket deleted", "boto3-extra" not in [b["Name"] for b in s3.list_buckets()["Buckets"]])
check("no such key", error_code(lambda: s3.get_object(Bucket=bucket, Key="boto3/none")) == "NoSuchKey")

# a wrong secret
bad = boto3.client("s3", endpoint_url=endpoint, config=config, aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                   aws_secret_access_key="not-the-secret")
check("wrong secret refused", error_code(lambda: bad.list_objects_v2(Bucket=bucket)) == "SignatureDoesNotMatch")
check("wrong secret cannot write",
      error_code(lambda: bad.put_object(Bucket=bucket, Key="boto3/evil", Body=b"x")) == "SignatureDoesNotMatch")
print("boto3: all checks passed")
