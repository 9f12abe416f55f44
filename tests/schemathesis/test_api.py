"""Property-based tests of the running service against its own OpenAPI document.

Schemathesis generates requests from /openapi.json; each one is signed with valid headers and a
valid tran token (X-KM-Tran-Token over the exact bytes sent), so the bodies reach validation and
the business rules. Every answer must be documented: no 5xx, a documented status, content type
and schema. Run by .ci/run with PREPAID_URL and PREPAID_CREDENTIALS set.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets

import requests
import schemathesis
from hypothesis import HealthCheck, settings

BASE_URL = os.environ["PREPAID_URL"]
CREDENTIALS = json.load(open(os.environ["PREPAID_CREDENTIALS"]))
EXAMPLES = int(os.environ.get("PREPAID_SCHEMATHESIS_EXAMPLES", "1200"))
KST = datetime.timezone(datetime.timedelta(hours=9))

schema = schemathesis.from_uri(f"{BASE_URL}/openapi.json", base_url=BASE_URL)


def signed_headers(body: bytes) -> dict:
    now = datetime.datetime.now(KST)
    time17 = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
    mac = hmac.new(CREDENTIALS["secretKey"].encode(), body, hashlib.sha256).digest()
    signature = base64.b64encode(mac).decode().rstrip("=")
    return {
        "X-KM-User-AspId": CREDENTIALS["aspId"],
        "X-KM-Correlation-Id": now.strftime("%y%m%d%H%M%S") + "-" + secrets.token_hex(4)[:7],
        "X-KM-Access-Key": CREDENTIALS["accessKey"],
        "X-KM-Tran-Token": f"KMV1:{time17}:{signature}",
        "X-KM-Tran-Time": time17[:14],
        "X-KM-Time-Zone": "KST",
        "Content-Type": "application/json",
    }


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_never_a_server_error(case):
    body = b"" if case.body is None else json.dumps(case.body, ensure_ascii=False).encode()
    headers = signed_headers(body)
    # Keep a generated crypto key id on a fraction of cases, so the encrypted path is hit too.
    generated = case.headers or {}
    if "X-KM-Crypto-Key-Id" in generated and secrets.randbelow(4) == 0:
        headers["X-KM-Crypto-Key-Id"] = generated["X-KM-Crypto-Key-Id"]
    response = requests.post(f"{BASE_URL}{case.path}", data=body, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    document = response.json()
    assert "response" in document and "code" in document["response"], document
    case.validate_response(response)
