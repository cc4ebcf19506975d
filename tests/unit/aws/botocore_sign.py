#!/usr/bin/python3
"""Reference SigV4 signatures for thumbflow's unit tests, computed by botocore at test time.

Reads a JSON array of cases on stdin and writes a JSON array of results on stdout, one per case.
botocore reproduces the official SigV4 test-suite signatures, so agreeing with it is agreeing
with AWS. The signer classes are used as botocore's clients use them; only the clock is frozen.

Case fields:
  mode            "header" (SigV4Auth / S3SigV4Auth) or "query" (SigV4QueryAuth / S3SigV4QueryAuth)
  method, region, service, access_key, secret_key, timestamp ("YYYYMMDDTHHMMSSZ")
  url             the URL to sign, or
  endpoint, bucket, key   path-style S3 URL built the way botocore's serializer builds {Key+}
  params          optional [[name, value], ...] passed as request.params (botocore encodes them)
  headers         optional [[name, value], ...] (repeated names allowed)
  body            optional text; payload_hash optional override of the signed payload hash
  token           optional session token; expires (query mode), default 3600
Result fields: signature, canonical_request, string_to_sign, url, headers ([[name, value], ...]).
"""
import datetime
import json
import sys
import types

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode


class _FrozenDatetime(datetime.datetime):
    frozen = None

    @classmethod
    def utcnow(cls):
        return cls.frozen


botocore.auth.datetime = types.SimpleNamespace(datetime=_FrozenDatetime)


def sign(case):
    _FrozenDatetime.frozen = datetime.datetime.strptime(case['timestamp'], '%Y%m%dT%H%M%SZ')
    credentials = Credentials(case['access_key'], case['secret_key'], case.get('token') or None)
    s3 = case['service'] == 's3'
    if case['mode'] == 'header':
        cls = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
        signer = cls(credentials, case['service'], case['region'])
    else:
        cls = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
        signer = cls(credentials, case['service'], case['region'], expires=case.get('expires', 3600))

    if 'url' in case:
        url = case['url']
    else:
        url = '%s/%s/%s' % (case['endpoint'], case['bucket'], percent_encode(case['key'], safe='/~'))
    params = dict(case.get('params', []))
    request = AWSRequest(method=case['method'], url=url, data=case.get('body', '').encode('utf-8'),
                         params=params)
    for name, value in case.get('headers', []):
        request.headers[name] = value
    if 'payload_hash' in case:
        signer.payload = lambda _request: case['payload_hash']

    captured = {}
    original_string_to_sign = signer.string_to_sign

    def string_to_sign(req, canonical_request):
        captured['canonical_request'] = canonical_request
        captured['string_to_sign'] = original_string_to_sign(req, canonical_request)
        return captured['string_to_sign']

    signer.string_to_sign = string_to_sign
    signer.add_auth(request)
    prepared = request.prepare()
    if case['mode'] == 'header':
        signature = request.headers['Authorization'].rsplit('Signature=', 1)[1]
    else:
        signature = request.url.rsplit('X-Amz-Signature=', 1)[1]
    return {
        'signature': signature,
        'canonical_request': captured['canonical_request'],
        'string_to_sign': captured['string_to_sign'],
        'url': prepared.url,
        'headers': [[k, v] for k, v in request.headers.items()],
    }


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(case) for case in cases], sys.stdout)


if __name__ == '__main__':
    main()
