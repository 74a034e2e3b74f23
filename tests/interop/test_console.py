"""The web console in a real browser: Debian's Chromium, headless, driven by Selenium through
chromedriver. Every action is checked with boto3 as well (the browser's word is not taken
for it), and found afterwards in the audit trail as the signed-in principal's.

With SWIFTKMS_CONSOLE_SCREENSHOTS=DIR, each page is saved there as a PNG (docs/console/ holds
the ones the README shows)."""
import base64
import json
import os
import shutil
import time

import pytest

from conftest import ACCESS_KEY, ACCOUNT, SECRET_KEY, Server, db_execute, db_rows

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# scripts/test installs them (scripts/setup): there, a missing browser fails the run.
pytestmark = pytest.mark.skipif(
    (not CHROMIUM or not DRIVER) and not os.environ.get("SWIFTKMS_FULL_INTEROP"), reason="chromium and chromium-driver are not installed (scripts/setup)")
SHOTS = os.environ.get("SWIFTKMS_CONSOLE_SCREENSHOTS")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("console") / "data").start()
    kms = s.client()
    s.key = kms.create_key(Description="payments data keys")["KeyMetadata"]
    kms.create_alias(AliasName="alias/payments", TargetKeyId=s.key["KeyId"])
    kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY", Description="release signing")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def wait(browser, condition, timeout=20):
    return WebDriverWait(browser, timeout).until(condition)


def click(browser, by, value):
    """Clicks the element once it is there, again if the page re-rendered it meanwhile (each
    action reloads the page from the API)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    def attempt(b):
        b.find_element(by, value).click()
        return True
    WebDriverWait(browser, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(attempt)


def element(browser, by, value):
    return wait(browser, EC.presence_of_element_located((by, value)))


def text_present(browser, text):
    wait(browser, lambda b: text in b.find_element(By.ID, "app").text)


def shot(browser, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        browser.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def sign_in(browser, server, access_key, secret_key):
    browser.get(server.url + "/console/")
    if browser.find_elements(By.ID, "sign-out") and browser.find_element(By.ID, "nav").is_displayed():
        click(browser, By.ID, "sign-out")
    wait(browser, EC.presence_of_element_located((By.NAME, "accessKeyId")))
    shot(browser, "sign-in")
    browser.find_element(By.NAME, "accessKeyId").send_keys(access_key)
    browser.find_element(By.NAME, "secretAccessKey").send_keys(secret_key)
    click(browser, By.CSS_SELECTOR, "form button[type=submit]")


def severe_console_messages(browser):
    """What Chromium logged at SEVERE (a script error, a resource the CSP refused), but the
    API's refusals (a 400 from POST /, which the page shows as AWS's error)."""
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE" and "/ - Failed to load resource: the server responded with a status of 400" not in entry["message"]]


def test_the_console_is_served_with_a_strict_policy(server):
    import urllib.request
    with urllib.request.urlopen(server.url + "/console/") as r:
        policy = r.headers["Content-Security-Policy"]
        page = r.read().decode()
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "<script type=\"module\" src=\"/console/app.js\">" in page and "onclick" not in page and "<style" not in page


def test_a_session_in_the_browser_is_a_session_of_signed_requests(server, browser):
    kms = server.client()
    sign_in(browser, server, ACCESS_KEY, SECRET_KEY)
    text_present(browser, "alias/payments")
    text_present(browser, "release signing")
    shot(browser, "keys")
    # Filters narrow the list in the page.
    Select(browser.find_element(By.NAME, "Spec")).select_by_value("RSA_2048")
    wait(browser, lambda b: "alias/payments" not in b.find_element(By.TAG_NAME, "table").text)
    assert "release signing" in browser.find_element(By.TAG_NAME, "table").text
    Select(browser.find_element(By.NAME, "Spec")).select_by_value("")

    # Create an HMAC key with an alias.
    click(browser, By.LINK_TEXT, "Create key")
    wait(browser, EC.presence_of_element_located((By.NAME, "KeySpec")))
    Select(browser.find_element(By.NAME, "KeySpec")).select_by_value("HMAC_256")
    browser.find_element(By.NAME, "Description").send_keys("webhook MACs")
    browser.find_element(By.NAME, "Alias").send_keys("alias/webhooks")
    shot(browser, "create-key")
    click(browser, By.CSS_SELECTOR, "form button[type=submit]")
    wait(browser, lambda b: "/keys/" in b.current_url)
    element(browser, By.NAME, "window")
    key_id = browser.current_url.rsplit("/", 1)[1]
    described = kms.describe_key(KeyId="alias/webhooks")["KeyMetadata"]
    assert described["KeyId"] == key_id and described["KeySpec"] == "HMAC_256" and described["Description"] == "webhook MACs"
    shot(browser, "key")

    # Schedule deletion (7 days), cancel it, enable the key again.
    field = element(browser, By.NAME, "window")
    field.clear()
    field.send_keys("7")
    click(browser, By.XPATH, "//button[text()='Schedule deletion']")
    text_present(browser, "PendingDeletion")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    click(browser, By.XPATH, "//button[text()='Cancel deletion']")
    wait(browser, lambda b: b.find_elements(By.XPATH, "//button[text()='Enable']"))
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    click(browser, By.XPATH, "//button[text()='Enable']")
    wait(browser, lambda b: b.find_elements(By.XPATH, "//button[text()='Disable']"))
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"

    # The key policy: a malformed one is refused with the server's words, then a good one saved.
    editor = element(browser, By.NAME, "policy")
    browser.execute_script("arguments[0].value = arguments[1]", editor, '{"Version": "2012-10-17", "Statement": [')
    click(browser, By.XPATH, "//button[text()='Save policy']")
    alert = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert alert.text.startswith("MalformedPolicyDocumentException")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Console", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:app": "blocked"}}}]}
    browser.execute_script("arguments[0].value = arguments[1]", editor, json.dumps(policy, indent=2))
    click(browser, By.XPATH, "//button[text()='Save policy']")
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "[role=status]")))
    assert json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == policy

    # A grant, created then revoked.
    alice = json.loads(server.admin("create-user", "--name", "alice"))
    element(browser, By.NAME, "grantee").send_keys(f"arn:aws:iam::{ACCOUNT}:user/alice")
    for operation in ("GenerateMac", "VerifyMac"):
        click(browser, By.CSS_SELECTOR, f"input[name=operation][value={operation}]")
    click(browser, By.XPATH, "//button[text()='Create grant']")
    element(browser, By.XPATH, "//button[text()='Revoke']")
    grants = kms.list_grants(KeyId=key_id)["Grants"]
    assert [(g["GranteePrincipal"], sorted(g["Operations"])) for g in grants] == [(f"arn:aws:iam::{ACCOUNT}:user/alice", ["GenerateMac", "VerifyMac"])]
    assert alice["AccessKeyId"]
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.XPATH, "//h2[text()='Key policy']"))
    shot(browser, "key-policy-and-grants")
    click(browser, By.XPATH, "//button[text()='Revoke']")
    wait(browser, lambda b: not b.find_elements(By.XPATH, "//button[text()='Revoke']"))
    assert kms.list_grants(KeyId=key_id)["Grants"] == []
    # And one retired (as the account's root may).
    element(browser, By.NAME, "grantee").send_keys(f"arn:aws:iam::{ACCOUNT}:user/alice")
    click(browser, By.CSS_SELECTOR, "input[name=operation][value=GenerateMac]")
    click(browser, By.XPATH, "//button[text()='Create grant']")
    click(browser, By.XPATH, "//button[text()='Retire']")
    wait(browser, lambda b: not b.find_elements(By.XPATH, "//button[text()='Retire']"))
    assert kms.list_grants(KeyId=key_id)["Grants"] == []

    # The audit page finds every step, as the root's.
    click(browser, By.LINK_TEXT, "Every request that named this key")
    # Each page is 50 events (the console's own reads are events too): "More" until all are shown.
    wait(browser, lambda b: "all hold" in b.find_element(By.CSS_SELECTOR, "main p[role=status]").text)
    while browser.find_element(By.XPATH, "//button[text()='More']").is_displayed():
        shown = len(browser.find_elements(By.CSS_SELECTOR, "tbody tr"))
        click(browser, By.XPATH, "//button[text()='More']")
        wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, "tbody tr")) > shown)
    for step in ("CreateKey", "CreateAlias", "ScheduleKeyDeletion", "CancelKeyDeletion", "EnableKey", "PutKeyPolicy", "CreateGrant", "RevokeGrant",
                 "RetireGrant"):
        text_present(browser, step)
    assert "all hold" in browser.find_element(By.CSS_SELECTOR, "main p[role=status]").text
    shot(browser, "audit")
    click(browser, By.LINK_TEXT, "ScheduleKeyDeletion")
    record = json.loads(wait(browser, EC.presence_of_element_located((By.TAG_NAME, "pre"))).text)
    assert record["requestParameters"] == {"keyId": key_id, "pendingWindowInDays": 7}
    assert record["userIdentity"]["accessKeyId"] == ACCESS_KEY and record["eventSource"] == "kms.amazonaws.com"
    assert severe_console_messages(browser) == []

    # The CLI session's cryptography, on the payments key: what the page encrypts, boto3
    # decrypts; a wrong context is AWS's InvalidCiphertextException.
    browser.get(server.url + f"/console/#/keys/{server.key['KeyId']}")
    text_present(browser, "Not rotated yet.")
    click(browser, By.XPATH, "//button[text()='Rotate now']")
    wait(browser, lambda b: "ON_DEMAND" in b.find_element(By.ID, "app").text)
    assert [r["RotationType"] for r in kms.list_key_rotations(KeyId=server.key["KeyId"])["Rotations"]] == ["ON_DEMAND"]
    wait(browser, EC.presence_of_element_located((By.NAME, "plaintext"))).send_keys("the launch codes")
    browser.find_element(By.NAME, "context").send_keys("app=demo")
    click(browser, By.XPATH, "//button[text()='Encrypt']")
    wait(browser, lambda b: b.find_element(By.NAME, "ciphertext").get_attribute("value"))
    blob = base64.b64decode(browser.find_element(By.NAME, "ciphertext").get_attribute("value"))
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "demo"})["Plaintext"] == b"the launch codes"
    browser.find_element(By.NAME, "plaintext").clear()
    click(browser, By.XPATH, "//button[text()='Decrypt']")
    wait(browser, lambda b: b.find_element(By.NAME, "plaintext").get_attribute("value") == "the launch codes")
    browser.find_element(By.NAME, "context").clear()
    browser.find_element(By.NAME, "context").send_keys("app=other")
    click(browser, By.XPATH, "//button[text()='Decrypt']")
    alert = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert alert.text == "InvalidCiphertextException"
    click(browser, By.XPATH, "//button[text()='Generate a data key']")
    text_present(browser, "Data key (encrypted, base64)")
    # Those steps are in the audit trail, found from the key's page.
    click(browser, By.LINK_TEXT, "Every request that named this key")
    for step in ("RotateKeyOnDemand", "Encrypt", "Decrypt", "GenerateDataKey"):
        text_present(browser, step)
    wait(browser, lambda b: "InvalidCiphertextException" in b.find_element(By.TAG_NAME, "table").text)
    browser.back()
    # The chart of the key's use: a bar per day, its count in the bar's title.
    bars = wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "figure svg rect"))
    assert bars and "Decrypt" not in bars[0].text
    shot(browser, "use")

    # Aliases: made and deleted from their page.
    click(browser, By.LINK_TEXT, "Aliases")
    wait(browser, EC.presence_of_element_located((By.NAME, "AliasName"))).send_keys("alias/console-made")
    browser.find_element(By.NAME, "TargetKeyId").send_keys(server.key["KeyId"])
    click(browser, By.XPATH, "//button[text()='Create alias']")
    text_present(browser, "alias/console-made")
    assert kms.describe_key(KeyId="alias/console-made")["KeyMetadata"]["KeyId"] == server.key["KeyId"]
    shot(browser, "aliases")
    click(browser, By.CSS_SELECTOR, "button[aria-label='Delete alias/console-made']")
    wait(browser, lambda b: "alias/console-made" not in b.find_element(By.ID, "app").text)
    assert "alias/console-made" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert severe_console_messages(browser) == []

    # Signing out forgets the credentials.
    click(browser, By.ID, "sign-out")
    wait(browser, EC.presence_of_element_located((By.NAME, "accessKeyId")))
    assert browser.execute_script("return sessionStorage.length") == 0


def test_a_key_of_each_kind_from_the_create_page(server, browser):
    """Every kind the create page offers, each as boto3 then describes it; the page says what
    each choice is."""
    kms = server.client()
    sign_in(browser, server, ACCESS_KEY, SECRET_KEY)
    text_present(browser, "alias/payments")
    kinds = [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS", "AES-GCM"), ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "EXTERNAL", "AES-GCM"),
             ("HMAC_512", "GENERATE_VERIFY_MAC", "AWS_KMS", "HMAC_SHA_512"), ("RSA_3072", "ENCRYPT_DECRYPT", "AWS_KMS", "RSAES_OAEP"),
             ("RSA_2048", "SIGN_VERIFY", "AWS_KMS", "verify signatures"), ("ECC_NIST_P256", "KEY_AGREEMENT", "AWS_KMS", "ECDH"),
             ("ECC_SECG_P256K1", "SIGN_VERIFY", "AWS_KMS", "verify signatures"), ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "AWS_KMS", "verify signatures"),
             ("ML_DSA_65", "SIGN_VERIFY", "AWS_KMS", "verify signatures")]
    for spec, usage, origin, said in kinds:
        browser.get(server.url + "/console/#/create")
        wait(browser, EC.presence_of_element_located((By.NAME, "KeySpec")))
        Select(browser.find_element(By.NAME, "KeySpec")).select_by_value(spec)
        Select(browser.find_element(By.NAME, "KeyUsage")).select_by_value(usage)
        Select(browser.find_element(By.NAME, "Origin")).select_by_value(origin)
        text_present(browser, said)
        browser.find_element(By.NAME, "Description").send_keys(f"{spec} {usage} {origin}")
        click(browser, By.CSS_SELECTOR, "form button[type=submit]")
        wait(browser, lambda b: "/keys/" in b.current_url)
        key_id = browser.current_url.rsplit("/", 1)[1]
        described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert (described["KeySpec"], described["KeyUsage"], described["Origin"]) == (spec, usage, origin)
        text_present(browser, "PendingImport" if origin == "EXTERNAL" else "Enabled")


def test_at_phone_width_nothing_overflows_the_page(server, browser):
    sign_in(browser, server, ACCESS_KEY, SECRET_KEY)
    browser.set_window_size(390, 844)
    try:
        for page, text in (("keys", "alias/payments"), (f"keys/{server.key['KeyId']}", "Key policy"), ("audit", "Chain links"), ("create", "Key spec")):
            browser.get(server.url + f"/console/#/{page}")
            text_present(browser, text)
            assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), page
        browser.get(server.url + "/console/#/keys")
        text_present(browser, "alias/payments")
        shot(browser, "keys-phone")
    finally:
        browser.set_window_size(1280, 1000)


def test_the_audit_page_bounds_a_lookup_in_time(server, browser):
    sign_in(browser, server, ACCESS_KEY, SECRET_KEY)
    text_present(browser, "alias/payments")
    browser.get(server.url + "/console/#/audit?EventName=CreateAlias&from=2000-01-01T00:00&to=2000-01-02T00:00")
    wait(browser, lambda b: "0 checked" in b.find_element(By.CSS_SELECTOR, "main p[role=status]").text)
    assert browser.find_elements(By.CSS_SELECTOR, "tbody tr") == []
    browser.get(server.url + "/console/#/audit?EventName=CreateAlias&from=2000-01-01T00:00")
    text_present(browser, "CreateAlias")
    assert browser.find_elements(By.CSS_SELECTOR, "tbody tr")


def test_a_principal_denied_an_action_sees_awss_refusal_and_nothing_happens(server, browser):
    viewer = json.loads(server.admin("create-user", "--name", "viewer"))
    server.admin("attach-policy", "--principal", "user/viewer", "--policy-name", "p", "--policy-document", json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:List*", "kms:Describe*"], "Resource": "*"}]}))
    before = len(server.client().list_keys()["Keys"])
    sign_in(browser, server, viewer["AccessKeyId"], viewer["SecretAccessKey"])
    text_present(browser, "alias/payments")
    click(browser, By.LINK_TEXT, "Create key")
    wait(browser, EC.presence_of_element_located((By.NAME, "KeySpec")))
    click(browser, By.CSS_SELECTOR, "form button[type=submit]")
    alert = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert alert.text == (f"AccessDeniedException: User: arn:aws:iam::{ACCOUNT}:user/viewer is not authorized to perform: "
                          "kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action")
    assert len(server.client().list_keys()["Keys"]) == before
    # Its audit page is refused too: it may not call LookupEvents.
    browser.get(server.url + "/console/#/audit")
    alert = wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert "cloudtrail:LookupEvents" in alert.text
    click(browser, By.ID, "sign-out")


def test_the_audit_page_checks_the_chain_links_it_shows(server, browser):
    """The page recomputes, with WebCrypto, the digest each shown event names of the one before
    it: an event altered in the database is caught in the browser (then put back)."""
    sign_in(browser, server, ACCESS_KEY, SECRET_KEY)
    text_present(browser, "alias/payments")
    browser.get(server.url + "/console/#/audit")
    wait(browser, lambda b: "all hold" in b.find_element(By.CSS_SELECTOR, "main p[role=status]").text)
    server.stop()
    chain, last = db_rows(server.data_dir, "SELECT chain, MAX(seq) FROM audit_event WHERE chain = 'main'")[0]
    original = bytes(db_rows(server.data_dir, "SELECT record FROM audit_event WHERE chain = ? AND seq = ?", (chain, last - 1))[0][0])
    altered = original.replace(b'"eventCategory":"Management"', b'"eventCategory":"Managemant"')
    assert altered != original
    db_execute(server.data_dir, "UPDATE audit_event SET record = ? WHERE chain = ? AND seq = ?", (altered, chain, last - 1))
    try:
        server.start()
        browser.get(server.url + "/console/#/keys")
        text_present(browser, "alias/payments")
        browser.get(server.url + "/console/#/audit")
        status = wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "main p[role=status]").text)
        wait(browser, lambda b: "Broken chain link" in b.find_element(By.CSS_SELECTOR, "main p[role=status]").text)
    finally:
        server.stop()
        db_execute(server.data_dir, "UPDATE audit_event SET record = ? WHERE chain = ? AND seq = ?", (original, chain, last - 1))
        server.start()
    assert status is not None


def test_no_console_flag_serves_none(tmp_path):
    import urllib.error
    import urllib.request
    s = Server(tmp_path / "data", args=["--no-console"]).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(s.url + "/console/")
        assert refused.value.code == 404
    finally:
        s.stop()
