"""The API page tries the API, in a real browser (Debian's Chromium, headless, through
chromedriver): in the sandbox, opened on this machine, "Try it out" runs every Test Data
scenario of every operation, each request signed in the page, and shows each documented answer;
with the page's encryption on, a request leaves encrypted and its answer is decrypted in the
page. A screenshot of the page is kept in the test's temporary folder.

Run by .ci/browser.sh with PREPAID_URL set to a fresh sandbox.
"""
import json
import os
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE_URL = os.environ["PREPAID_URL"]
CHROMIUM = os.environ.get("PREPAID_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PREPAID_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 30


@pytest.fixture(scope="module")
def document():
    return json.load(urllib.request.urlopen(f"{BASE_URL}/openapi.json"))


def chromium(*extra):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,2400",
        *extra,
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def prepared(document):
    """{(operation id, scenario name): its x-prepare} for the scenarios that need a request first."""
    found = {}
    for path, item in document["paths"].items():
        operation = item["post"]
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        for name, example in examples.items():
            if "x-prepare" in example:
                found[(operation["operationId"], name)] = example["x-prepare"]
    return found


def scenarios(document):
    """(operation id, scenario name, expected code) for every Test Data scenario at the root."""
    found = []
    for path, item in document["paths"].items():
        if path.startswith("/open-api"):
            continue
        operation = item["post"]
        expected = {}
        for response in operation["responses"].values():
            examples = response["content"]["application/json"].get("examples", {})
            for name, example in examples.items():
                expected[name] = example["value"]["response"]["code"]
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        for name in examples:
            found.append((operation["operationId"], name, expected[name]))
    return found


def open_operation(driver, operation_id):
    block = WebDriverWait(driver, WAIT).until(
        ready.presence_of_element_located((By.ID, f"operations-default-{operation_id}"))
    )
    if "is-open" not in block.get_attribute("class"):
        block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    button = WebDriverWait(block, WAIT).until(
        lambda element: element.find_element(By.CSS_SELECTOR, ".try-out__btn")
    )
    if "cancel" not in button.get_attribute("class"):
        button.click()
    return block


# The textarea's value set through the element's own setter, then an `input` event, so that the
# page's framework sees the change as if typed.
SET_TEXT = """
const [area, text] = arguments;
const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
setter.call(area, text);
area.dispatchEvent(new Event("input", { bubbles: true }));
"""


def run_example(driver, block, example, edit=None):
    """Chooses the request example, changes its body with `edit` (a function of the body's JSON)
    when given, executes it and returns the answer the page shows."""
    select = WebDriverWait(block, WAIT).until(
        lambda element: element.find_element(
            By.CSS_SELECTOR, ".opblock-section-request-body select.examples-select-element"
        )
    )
    Select(select).select_by_value(example)
    for clear in block.find_elements(By.CSS_SELECTOR, ".btn-clear"):
        clear.click()
    if edit is not None:
        body = block.find_element(By.CSS_SELECTOR, ".opblock-section-request-body textarea")
        edited = json.dumps(edit(json.loads(body.get_attribute("value"))), ensure_ascii=False)
        # Set at once, as a paste would, rather than typed key by key: the page renders again on
        # every key, which on a long page under load took longer than chromedriver waits.
        driver.execute_script(SET_TEXT, body, edited)
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    shown = WebDriverWait(driver, WAIT).until(
        lambda _: block.find_element(
            By.CSS_SELECTOR, ".live-responses-table .response-col_description pre"
        )
    )
    return json.loads(shown.text)


def test_the_page_is_signing_with_the_sandbox_project(browser):
    browser.get(f"{BASE_URL}/docs")
    bar = WebDriverWait(browser, WAIT).until(
        lambda driver: driver.find_element(By.ID, "try-it-asp")
    )
    credentials = json.load(urllib.request.urlopen(f"{BASE_URL}/docs/sandbox-credentials.json"))
    assert bar.text == credentials["aspId"]


def test_every_test_data_scenario_runs_through_try_it_out_and_gets_its_code(
    browser, document, tmp_path
):
    browser.get(f"{BASE_URL}/docs")
    results = []
    first_requests = prepared(document)
    for operation_id, example, code in scenarios(document):
        # Every scenario's body gets a member the service ignores, its own: the page writes the
        # examples out again, so that two operations' equal bodies (`{"userId": 1002}`) become
        # the same bytes, the same signature, and the second a replay (`000_093`) within the
        # request window.
        nonce = {"clientNonce": f"{operation_id}.{example}.scenario"}
        edit = lambda body, nonce=nonce: {**body, **nonce}
        prepare = first_requests.get((operation_id, example))
        if prepare is not None:
            # The request its scenario needs first, made another body than its own scenario's
            # (the same body twice is the same signature, refused as a replay).
            first = run_example(
                browser,
                open_operation(browser, prepare["operationId"]),
                prepare["example"],
                lambda body: {**body, "clientNonce": f"{operation_id}.{example}"},
            )
            assert first["response"]["code"] == "000_000", first
            if "member" in prepare:
                member = prepare["member"]
                value = first[prepare.get("from", member)]
                edit = lambda body, member=member, value=value, nonce=nonce: {
                    **body,
                    member: value,
                    **nonce,
                }
        block = open_operation(browser, operation_id)
        answer = run_example(browser, block, example, edit)
        results.append((operation_id, example, code, answer["response"]["code"]))
    screenshot = tmp_path / "try-it.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot of the API page: {screenshot}")
    assert len(results) >= 9, results
    wrong = [result for result in results if result[2] != result[3]]
    assert not wrong, f"(operation, scenario, expected, answered): {wrong}"


def test_an_encrypted_request_is_answered_encrypted_and_decrypted_in_the_page(
    browser, document, tmp_path
):
    browser.get(f"{BASE_URL}/docs")
    encrypt = WebDriverWait(browser, WAIT).until(
        lambda driver: driver.find_element(By.ID, "try-it-encrypt")
    )
    encrypt.click()
    inquiry = next(
        (operation_id, example)
        for operation_id, example, code in scenarios(document)
        if operation_id == "inquireCardProducts" and code == "000_000"
    )
    block = open_operation(browser, inquiry[0])
    answer = run_example(browser, block, inquiry[1])
    browser.save_screenshot(str(tmp_path / "try-it-encrypted.png"))
    assert answer["response"]["code"] == "000_000", answer
    assert answer["serviceInfos"], answer
    last = browser.find_element(By.ID, "try-it-last").text
    assert last == "The last answer came encrypted and was decrypted in this page.", last


def test_a_page_that_names_another_host_is_read_only(tmp_path):
    """The sandbox reached under another name (as a site rebound to 127.0.0.1 would): the page
    says it is read-only and offers no "Try it out". Two things stop it here: the service gives
    no credentials to a page that named another host (tested on its own in the HTTP adapter's
    tests), and the browser gives no Web Crypto to a plain-HTTP page that is not local."""
    port = BASE_URL.rsplit(":", 1)[1]
    driver = chromium("--host-resolver-rules=MAP elsewhere.test 127.0.0.1")
    try:
        driver.get(f"http://elsewhere.test:{port}/docs")
        bar = WebDriverWait(driver, WAIT).until(
            lambda page: page.find_element(By.ID, "try-it")
            if page.find_element(By.ID, "try-it").text.startswith("Read-only") else False
        )
        block = WebDriverWait(driver, WAIT).until(
            ready.presence_of_element_located((By.ID, "operations-default-inquireCardProducts"))
        )
        block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
        WebDriverWait(block, WAIT).until(
            lambda element: element.find_element(By.CSS_SELECTOR, ".opblock-body")
        )
        driver.save_screenshot(str(tmp_path / "read-only.png"))
        assert bar.text.startswith("Read-only documentation."), bar.text
        assert block.find_elements(By.CSS_SELECTOR, ".try-out__btn") == []
    finally:
        driver.quit()
