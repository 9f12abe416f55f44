"""Property-based tests of the running service against its own OpenAPI document.

Schemathesis generates requests from /openapi.json; each one is signed with valid headers and a
valid tran token (X-KM-Tran-Token over the exact bytes sent), so the bodies reach validation and
the business rules. Every answer must be documented: no 5xx, a documented status, content type
and schema. The generated cases must reach the use cases: /metrics counts, per operation, the
requests that passed authentication and validation, and at least a third of the cases must be
among them. A stateful test then follows the document's links from one operation's answer to
the next. Run by .ci/run with PREPAID_URL and PREPAID_CREDENTIALS set.
"""
import base64
import collections
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets

import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize
from jwcrypto import jwe, jwk

BASE_URL = os.environ["PREPAID_URL"]
CREDENTIALS = json.load(open(os.environ["PREPAID_CREDENTIALS"]))
EXAMPLES = int(os.environ.get("PREPAID_SCHEMATHESIS_EXAMPLES", "500"))
STATEFUL_EXAMPLES = int(os.environ.get("PREPAID_SCHEMATHESIS_STATEFUL_EXAMPLES", "150"))
KST = datetime.timezone(datetime.timedelta(hours=9))
SERVER_KEY = jwk.JWK.from_pem(CREDENTIALS["serverPublicKeyPem"].encode())
CLIENT_KEY = jwk.JWK.from_pem(CREDENTIALS["clientPrivateKeyPem"].encode())

schema = schemathesis.from_uri(f"{BASE_URL}/openapi.json", base_url=BASE_URL)
# Cases sent by the stateless test, per operation id.
SENT = collections.Counter()
CODES = collections.Counter()


LAST_SIGNED = [None]


def signed_headers(body: bytes) -> dict:
    # A token is the body's MAC at a millisecond: two identical bodies signed in one millisecond
    # would be one token, refused the second time as a replay. Each request gets its own.
    now = datetime.datetime.now(KST).replace(microsecond=0) + datetime.timedelta(
        milliseconds=datetime.datetime.now(KST).microsecond // 1000)
    if LAST_SIGNED[0] is not None and now <= LAST_SIGNED[0]:
        now = LAST_SIGNED[0] + datetime.timedelta(milliseconds=1)
    LAST_SIGNED[0] = now
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


# How often each body was sent: a token is the MAC of the bytes sent, and the same bytes within
# the time window are refused as a replay (as they must be). A generator repeats bodies, so a
# repeat goes with trailing white space, which JSON ignores: new bytes, the same request.
BODIES = collections.Counter()


def seal(plaintext: bytes) -> bytes:
    """The body encrypted to the sandbox server's key, as a client sends it."""
    token = jwe.JWE(plaintext, protected=json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM"}))
    token.add_recipient(SERVER_KEY)
    return json.dumps({"encData": token.serialize(compact=True)}).encode()


def opened(response: requests.Response) -> dict:
    """The answer, decrypted with the sandbox client's key when it came encrypted."""
    document = response.json()
    if set(document) == {"encData"}:
        token = jwe.JWE()
        token.deserialize(document["encData"], key=CLIENT_KEY)
        document = json.loads(token.payload)
    return document


def send(case, vary: bool = True) -> requests.Response:
    """Sends a generated case, signed, and checks what every answer must be. With `vary`, some
    cases go encrypted or with their generated key id, chosen at random."""
    body = b"" if case.body is None else json.dumps(case.body, ensure_ascii=False).encode()
    BODIES[body] += 1
    body += b" " * (BODIES[body] - 1)
    generated = case.headers or {}
    key_id = None
    if vary and isinstance(case.body, dict) and "encData" not in case.body and secrets.randbelow(4) == 0:
        # A quarter of the plaintext cases go encrypted for real, as a client encrypts them.
        body = seal(body)
        key_id = CREDENTIALS["cryptoKeyId"]
    elif vary and "X-KM-Crypto-Key-Id" in generated and secrets.randbelow(4) == 0:
        # And a generated key id on some others: refused, or naming where the answer goes.
        key_id = generated["X-KM-Crypto-Key-Id"]
    headers = signed_headers(body)
    if key_id is not None:
        headers["X-KM-Crypto-Key-Id"] = key_id
    response = requests.post(f"{BASE_URL}{case.formatted_path}", data=body, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    document = opened(response)
    assert "response" in document and "code" in document["response"], document
    response.answer = document
    return response


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_never_a_server_error(case):
    response = send(case)
    SENT[case.operation.definition.raw["operationId"]] += 1
    CODES[(case.operation.definition.raw["operationId"].removesuffix("OpenApi"), response.answer["response"]["code"])] += 1
    case.validate_response(response)


def use_case_answers() -> collections.Counter:
    """Requests that reached each use case, from /metrics, per operation id (any base path)."""
    reached = collections.Counter()
    metric = re.compile(r'^prepaid_use_case_answers_total\{code="[^"]+",operation="([^"]+)"\} (\d+)$')
    for line in requests.get(f"{BASE_URL}/metrics", timeout=30).text.splitlines():
        match = metric.match(line)
        if match:
            reached[match.group(1)] += int(match.group(2))
    return reached


def test_at_least_a_third_of_the_generated_cases_reach_a_use_case():
    reached = use_case_answers()
    # The operation ids of the copies under a base path end in its suffix (`...OpenApi`).
    sent = collections.Counter()
    for operation_id, count in SENT.items():
        sent[operation_id.removesuffix("OpenApi")] += count
    total = sum(sent.values())
    assert total > 0, "the stateless test ran first and sent cases"
    lines = [f"{operation}: {reached[operation]} of {count} generated cases reached the use case"
             for operation, count in sorted(sent.items())]
    print("\n".join(lines))
    print("answers of the generated cases, by operation and code:")
    for (operation, code), count in sorted(CODES.items()):
        print(f"  {operation} {code}: {count}")
    report = os.environ.get("PREPAID_REACH_REPORT")
    if report:
        with open(report, "w") as file:
            file.write("\n".join(lines) + "\n")
    assert 3 * sum(reached.values()) >= total, lines
    assert all(reached[operation] > 0 for operation in sent), lines


# Steps whose request was built from an earlier answer along a link.
FOLLOWED = collections.Counter()


INQUIRY = "/api/v1/service/info/list"
# The product ids the document's inquiry examples ask for: the sandbox's products, where a
# generated id would name none.
SANDBOX_PRODUCTS = sorted({
    product
    for example in schema.raw_schema["paths"][INQUIRY]["post"]["requestBody"]["content"][
        "application/json"]["examples"].values()
    for product in example["value"].get("serviceIdList", [])
    if isinstance(product, str) and re.fullmatch(r"[0-9]{15}", product)
})
Base = schema.as_state_machine()


class Workflow(Base):
    """Chains of operations along the document's links, each request signed."""

    @initialize(target=Base.bundles[f"POST {INQUIRY} -> 200"])
    def ask_for_the_sandbox_products(self):
        case = schema[INQUIRY]["POST"].make_case(
            body={"serviceIdList": SANDBOX_PRODUCTS}, media_type="application/json")
        return self.step(case)

    def before_call(self, case):
        # A generated inquiry also asks for a sandbox product, so that its answer lists one for
        # the link to follow (random ids name none); the rest of the body stays as generated.
        body = case.body
        if case.path.endswith(INQUIRY) and isinstance(body, dict) and isinstance(body.get("serviceIdList"), list):
            body["serviceIdList"] = (body["serviceIdList"] + SANDBOX_PRODUCTS[:1])[-100:]

    def call(self, case, **kwargs):
        # No random choice: the steps a machine can take follow from the answers, which must be
        # the same when Hypothesis runs an example again; and a link reads plaintext answers.
        response = send(case, vary=False)
        source = case.source.response.answer if case.source is not None else {}
        if source.get("serviceInfos"):
            FOLLOWED[case.operation.definition.raw["operationId"].removesuffix("OpenApi")] += 1
            # A product listed makes a request the application's use case answers itself.
            assert response.answer["response"]["code"] not in ("000_003", "000_015"), response.answer
        return response


def test_following_the_links_every_answer_is_documented():
    Workflow.run(settings=settings(
        max_examples=STATEFUL_EXAMPLES,
        stateful_step_count=4,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    ))
    print(f"steps along a link: {dict(FOLLOWED)}")
    assert FOLLOWED["issuePrepaidCardWithDelivery"] > 0, "the inquiry's link to an application was followed"
