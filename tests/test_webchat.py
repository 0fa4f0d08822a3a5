"""The mobile web chat (bot/channels/webchat.py) through a real Rasa server: HTTP API, then a real headless Chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import requests

from .conftest import ROOT

pytestmark = pytest.mark.e2e

TOKEN_RE = re.compile(r"^web-[0-9a-f]{32}\.[0-9a-f]{64}$")
SCREENSHOTS = ROOT / "var" / "screenshots"
DESCRIPTIONS = {
    "en": ("He asked three times whether the guarantee is real and wants to see proof of everything.", "Suspicious"),
    "zh": ("客户什么都要看合同原文才肯信，总担心我们在价格上做手脚", "疑心型"),
}
REPLY_TIMEOUT = 120  # seconds: the first message of a fresh action server loads the engine's models


@pytest.fixture(autouse=True, scope="module")
def built_knowledge(engine):
    """Build the store and models in this process first, so the servers' first reply only loads them."""
    return engine


def visit(servers) -> requests.Session:
    """A new browser-like visitor: opens the page and keeps the cookie it is given."""
    visitor = requests.Session()
    visitor.get(f"{servers.url}/chat/", timeout=30).raise_for_status()
    return visitor


def say(servers, visitor: requests.Session, text: str, title: Optional[str] = None, lang: str = "en") -> List[Dict]:
    body = {"text": text, "lang": lang, **({"title": title} if title else {})}
    r = visitor.post(f"{servers.url}/chat/api/message", json=body, timeout=REPLY_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def history(servers, visitor: requests.Session) -> List[Dict]:
    r = visitor.get(f"{servers.url}/chat/api/history", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def text_of(messages: List[Dict]) -> str:
    return "\n".join(m["text"] for m in messages)


# HTTP ----------------------------------------------------------------------------------------------------------


def test_a_new_visitor_gets_a_signed_identity_in_an_httponly_cookie(servers):
    r = requests.get(f"{servers.url}/chat/", timeout=30)
    assert r.status_code == 200 and "static/webchat.js" in r.text
    header = r.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/chat" in header
    token = r.cookies["coach_chat"]
    assert TOKEN_RE.match(token)
    again = requests.get(f"{servers.url}/chat/", cookies={"coach_chat": token}, timeout=30)
    assert "Set-Cookie" not in again.headers  # a valid identity is kept, not replaced
    assert requests.get(f"{servers.url}/chat/", timeout=30).cookies["coach_chat"] != token
    assert requests.get(f"{servers.url}/chat", timeout=30).url.endswith("/chat/")
    for name in ("webchat.js", "webchat.css", "strings.json"):
        assert requests.get(f"{servers.url}/chat/static/{name}", timeout=30).status_code == 200
    assert requests.get(f"{servers.url}/chat/static/index.py", timeout=30).status_code == 404


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_message_round_trip_with_buttons_and_history(servers, lang):
    description, type_name = DESCRIPTIONS[lang]
    visitor = visit(servers)
    assert history(servers, visitor) == []
    reply = say(servers, visitor, description, lang=lang)
    assert type_name in text_of(reply), reply
    buttons = [b for m in reply for b in m["buttons"]]
    avoid = next(b for b in buttons if b["payload"] == "/ask_avoid")
    assert say(servers, visitor, avoid["payload"], title=avoid["title"], lang=lang)
    shown = history(servers, visitor)
    users = [m["text"] for m in shown if m["from"] == "user"]
    assert users == [description, avoid["title"]]  # a pressed button shows its title, not its payload
    assert any(b["payload"] == "/ask_avoid" for m in shown if m["from"] == "bot" for b in m["buttons"])


def test_a_forged_or_altered_token_never_reaches_another_conversation(servers):
    owner = visit(servers)
    say(servers, owner, "She nitpicks every little flaw and keeps haggling over the price.")
    token = owner.cookies["coach_chat"]
    sender, signature = token.split(".")
    other_sender = "web-" + "0" * 32
    forgeries = [
        f"{sender}.{signature[:-1]}{'0' if signature[-1] != '0' else '1'}",  # altered signature
        f"{other_sender}.{signature}",  # someone else's id with this signature
        sender,  # no signature at all
        f"{sender}.{signature}.extra",
        "",
    ]
    for forged in forgeries:
        jar = {"coach_chat": forged}
        assert requests.get(f"{servers.url}/chat/api/history", cookies=jar, timeout=30).status_code == 401
        r = requests.post(f"{servers.url}/chat/api/message", cookies=jar, json={"text": "/ask_avoid"}, timeout=30)
        assert r.status_code == 401 and "error" in r.json()
        page = requests.get(f"{servers.url}/chat/", cookies=jar, timeout=30)
        fresh = page.cookies["coach_chat"]
        assert fresh != token and TOKEN_RE.match(fresh)
        assert requests.get(f"{servers.url}/chat/api/history", cookies={"coach_chat": fresh}, timeout=30).json() == {"messages": []}
    elsewhere = {"Origin": "http://127.0.0.1:1"}  # a page on another port of the same host: same site, other origin
    assert owner.get(f"{servers.url}/chat/api/history", headers=elsewhere, timeout=30).status_code == 401
    assert owner.post(f"{servers.url}/chat/api/message", json={"text": "hi"}, headers=elsewhere, timeout=30).status_code == 401
    assert "nitpicks" in text_of(history(servers, owner))  # the owner's conversation is untouched


def test_bad_input_gets_a_clear_4xx_never_a_500(servers):
    visitor = visit(servers)
    url = f"{servers.url}/chat/api/message"
    headers = {"Content-Type": "application/json"}
    cases = [
        (b"", 400),
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"text"', 400),
        (b'{"text": 5}', 400),
        (b'{"text": ["a"]}', 400),
        (b'{"text": "   "}', 400),
        (b"{}", 400),
        (b'{"text": "hi", "title": 3}', 400),
        (('{"text": "' + "a" * 8001 + '"}').encode(), 413),
        (b"x" * 1_000_000, 413),
        (b"\xff\xfe\x00", 400),
        (b'{"text": ' + b"[" * 8000 + b"]" * 8000 + b"}", 400),  # issue 25 item 12: nested deeper than Python parses
    ]
    for body, status in cases:
        r = visitor.post(url, data=body, headers=headers, timeout=30)
        assert r.status_code == status, (body[:40], r.status_code, r.text[:200])
        assert r.json()["error"]
    r = visitor.post(f"{servers.url}/chat/api/profile", json={"name": {"x": 1}}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]
    assert requests.post(url, json={"text": "hello"}, timeout=30).status_code == 401  # no cookie at all
    sender = visitor.cookies["coach_chat"].split(".")[0]
    odd = {"Cookie": f"coach_chat={sender}.{'é' * 64}".encode("latin-1")}  # a non-ASCII signature (item 12)
    assert requests.post(url, json={"text": "hello"}, headers=odd, timeout=30).status_code == 401
    assert say(servers, visitor, "hello")  # still serving


def test_the_cookie_is_secure_and_hsts_sent_only_over_https(servers):
    """Issue 25 item 3: behind TLS (a proxy on this machine says X-Forwarded-Proto: https) the cookie is Secure and
    HSTS is sent; on plain http (a phone on the Wi-Fi) neither, so the chat keeps working; a client elsewhere
    cannot claim https for itself (the header counts only from a loopback peer: unit-tested in test_security)."""
    plain = requests.get(f"{servers.url}/chat/", timeout=30)
    assert "secure" not in plain.headers["Set-Cookie"].lower() and "Strict-Transport-Security" not in plain.headers
    proxied = requests.get(f"{servers.url}/chat/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}, timeout=30)
    assert "; secure" in proxied.headers["Set-Cookie"].lower() and proxied.headers["Strict-Transport-Security"].startswith("max-age=")
    session = requests.get(f"{servers.url}/chat/api/session", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert "; secure" in session.headers["Set-Cookie"].lower()


def test_an_empty_or_short_secret_is_never_a_signing_key(tmp_path, monkeypatch):
    """Issue 25 item 12: an empty var/webchat_secret gave an empty HMAC key, with which anyone can sign."""
    from bot.channels.webchat import MIN_SECRET_CHARS, Signer
    from knowledge import secret_files

    def load_secret() -> bytes:  # as the web chat reads its key (WebChatInput)
        return secret_files.WEBCHAT.load().encode()

    monkeypatch.delenv("WEBCHAT_SECRET", raising=False)
    monkeypatch.setenv("COACH_VAR_DIR", str(tmp_path))
    (tmp_path / "webchat_secret").write_text("\n")
    key = load_secret()
    assert len(key) >= MIN_SECRET_CHARS and (tmp_path / "webchat_secret").read_text().strip().encode() == key
    assert (tmp_path / "webchat_secret").stat().st_mode & 0o077 == 0
    for bad in (b"", b"short"):
        with pytest.raises(ValueError):
            Signer(bad)
    monkeypatch.setenv("WEBCHAT_SECRET", "changeme")
    with pytest.raises(ValueError):
        load_secret()


def web_team(name: str) -> str:
    """A web-chat team made as an operator does (`coach team create`), in the servers' store; its invite code."""
    from knowledge.teams import Teams
    from knowledge.userdata import UserData

    store = UserData()
    team = Teams(store).by_name(name)
    return Teams(store).new_invite(name) if team else Teams(store).create(name)[1]


def test_a_visitor_cannot_see_a_workspace_board_by_naming_it(servers):
    """Issue 25 item 1: the team was free text, so `slack:T…` as a team showed that workspace's names and scores."""
    from knowledge.teams import Teams
    from knowledge.userdata import UserData

    from .test_privacy import practise

    store = UserData()
    insider = "slack:TSECRET:U1"
    store.set_profile(insider, "Bob Insider")
    Teams(store).join_platform(insider, "slack", "TSECRET", "Acme")
    for score in (61, 72, 83):
        practise(store, insider, score)
    visitor = visit(servers)
    for body in ({"name": "Eve", "team": "slack:TSECRET"}, {"name": "Eve", "team": "SLACK:tsecret"}):
        visitor.post(f"{servers.url}/chat/api/profile", json=body, timeout=30)
        page = visitor.get(f"{servers.url}/chat/progress", timeout=30).text
        assert "Bob Insider" not in page and "72" not in page, body
    for code in ("slack:TSECRET", "Acme", "ABCD-EFGH-JKLM-NPQR"):
        r = visitor.post(f"{servers.url}/chat/api/profile", json={"name": "Eve", "invite": code}, timeout=30)
        assert r.status_code == 403 and "invite code" in r.json()["error"], code
    assert store.team_members("slack:TSECRET") == [{"user": insider, "name": "Bob Insider", "role": "member"}]
    board = text_of(say(servers, visitor, "how is my team doing"))
    assert "Bob Insider" not in board, board


def test_profile_practice_and_progress_page(servers):
    visitor = visit(servers)
    code = web_team("North")
    r = visitor.post(f"{servers.url}/chat/api/profile", json={"name": "Ann <script>x</script>", "invite": code}, timeout=30)
    assert r.status_code == 200 and r.json()["profile"] == {"name": "Ann <script>x</script>", "team": "North", "manager": False}
    assert visitor.get(f"{servers.url}/chat/api/session", timeout=30).json()["profile"]["team"] == "North"
    empty = visitor.get(f"{servers.url}/chat/progress", timeout=30).text
    assert "<circle" not in empty and "&lt;script&gt;" in empty and "<script>x" not in empty
    assert "Customer" in text_of(say(servers, visitor, '/start_practice{"type_id": "suspicious"}'))
    assert "/10" in text_of(say(servers, visitor, "Here is the contract and the inspection report, please check every clause."))
    assert "/100" in text_of(say(servers, visitor, "/practice_end"))
    page = visitor.get(f"{servers.url}/chat/progress?lang=en", timeout=30).text
    assert page.count("<circle") == 1 and "Suspicious" in page and "inspection report" in page
    assert "practise=suspicious" in page
    assert "疑心型" in visitor.get(f"{servers.url}/chat/progress?lang=zh", timeout=30).text
    stranger = visit(servers).get(f"{servers.url}/chat/progress", timeout=30).text
    assert "<circle" not in stranger and "inspection report" not in stranger  # only the signed sender's data


@pytest.mark.slow
def test_history_survives_a_rasa_restart(own_servers):
    servers = own_servers()  # restarted below: this test's own Rasa server
    visitor = visit(servers)
    say(servers, visitor, "She nitpicks every little flaw and keeps haggling over the price.")
    before = history(servers, visitor)
    servers.restart_rasa()  # the signing key is in the var dir, so the cookie stays valid
    assert history(servers, visitor) == before
    avoid = say(servers, visitor, "/ask_avoid", title="What to avoid")
    assert "picky" in text_of(avoid).lower()  # same sender, same tracker, same customer


# A real browser ------------------------------------------------------------------------------------------------


def chromium_paths() -> Optional[tuple]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser_paths():
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[test]' (make setup) installs it")
    paths = chromium_paths()
    if not paths:
        pytest.skip(
            "chromium and chromedriver not found: as root, `make browser` installs the Debian packages "
            "(apt-get install chromium chromium-driver)"
        )
    return paths


def open_browser(paths: tuple, width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    driver.set_window_size(width, height)
    return driver


@pytest.fixture
def phone(browser_paths) -> Iterator:
    driver = open_browser(browser_paths, 375, 812)
    yield driver
    driver.quit()


@pytest.fixture
def desktop(browser_paths) -> Iterator:
    driver = open_browser(browser_paths, 1280, 860)
    yield driver
    driver.quit()


def ready(driver) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.find_element("css selector", "body").get_attribute("data-ready") == "1")


def bubbles(driver, who: str) -> List[str]:
    return [e.text for e in driver.find_elements("css selector", f"#log .msg.{who}")]


def type_message(driver, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("id", "text")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def wait_for_bot(driver, count_before: int, contains: str = "") -> None:
    """Until more bot bubbles than before have arrived (and the typing indicator is gone), one containing `contains`."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, REPLY_TIMEOUT).until(
        lambda d: len(bubbles(d, "bot")) > count_before
        and not d.find_elements("css selector", ".typing")
        and contains in "\n".join(bubbles(d, "bot")[count_before:])
    )


def screenshot(driver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    driver.save_screenshot(str(path))
    return path


def click_button(driver, title: str) -> None:
    button = next(b for b in reversed(driver.find_elements("css selector", "#log .buttons button")) if b.text == title)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


@pytest.mark.browser
def test_browser_phone_chat_buttons_reload_and_escaping(servers, phone):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.support.ui import WebDriverWait

    phone.get(f"{servers.url}/chat/")
    ready(phone)
    assert phone.find_element("id", "text").get_attribute("placeholder").startswith("Describe")
    assert len(bubbles(phone, "bot")) == 1  # the welcome
    description, type_name = DESCRIPTIONS["en"]
    type_message(phone, description)
    wait_for_bot(phone, 0, type_name)
    assert phone.find_elements("css selector", "#log .buttons button")
    screenshot(phone, "webchat-phone-answer.png")
    before = len(bubbles(phone, "bot"))
    click_button(phone, "What to avoid")
    wait_for_bot(phone, before)
    assert bubbles(phone, "user")[-1] == "What to avoid"  # the title, not "/ask_avoid"

    phone.refresh()
    ready(phone)
    assert bubbles(phone, "user") == [description, "What to avoid"]
    assert type_name in "\n".join(bubbles(phone, "bot"))

    before = len(bubbles(phone, "bot"))
    type_message(phone, "<script>alert(1)</script>")
    wait_for_bot(phone, before)
    assert bubbles(phone, "user")[-1] == "<script>alert(1)</script>"
    assert not phone.find_elements("css selector", "#log script")
    with pytest.raises(NoAlertPresentException):
        phone.switch_to.alert.text  # noqa: B018
    # the composer stays inside the 812 px viewport, above where the keyboard opens
    bottom = phone.execute_script("return document.getElementById('composer').getBoundingClientRect().bottom")
    assert bottom <= phone.execute_script("return window.innerHeight") + 1
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    screenshot(phone, "webchat-phone.png")
    phone.find_element("id", "progress-link").click()
    WebDriverWait(phone, 30).until(lambda d: "/chat/progress" in d.current_url)
    assert "No finished practice sessions yet" in phone.find_element("tag name", "main").text
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 375
    screenshot(phone, "webchat-phone-progress.png")


@pytest.mark.browser
def test_browser_desktop_chinese_practice_and_progress(servers, desktop):
    desktop.get(f"{servers.url}/chat/")
    ready(desktop)
    desktop.find_element("id", "lang").click()
    assert desktop.find_element("id", "text").get_attribute("placeholder") == "说说你的客户……"
    assert "销售教练" in bubbles(desktop, "bot")[0] or "销售教练" in desktop.find_element("id", "title").text
    desktop.find_element("id", "who").click()
    desktop.find_element("id", "name").send_keys("王芳")
    desktop.find_element("id", "team").send_keys(web_team("North"))
    desktop.find_element("id", "profile-save").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(desktop, 30).until(lambda d: d.find_element("id", "who").text == "王芳 · North")
    description, type_name = DESCRIPTIONS["zh"]
    type_message(desktop, description)
    wait_for_bot(desktop, 0, type_name)
    before = len(bubbles(desktop, "bot"))
    click_button(desktop, next(b.text for b in desktop.find_elements("css selector", "#log .buttons button") if "练" in b.text))
    wait_for_bot(desktop, before, "客户")
    before = len(bubbles(desktop, "bot"))
    type_message(desktop, "这是合同原文和检测报告，您每一条都可以自己核对，也可以带回去慢慢看。")
    wait_for_bot(desktop, before, "/10")
    before = len(bubbles(desktop, "bot"))
    click_button(desktop, "结束")
    wait_for_bot(desktop, before, "/100")
    screenshot(desktop, "webchat-desktop.png")

    desktop.find_element("id", "progress-link").click()
    WebDriverWait(desktop, 30).until(lambda d: "/chat/progress" in d.current_url)
    assert len(desktop.find_elements("css selector", "svg.chart circle")) == 1  # the session just played
    assert type_name in desktop.find_element("tag name", "main").text
    assert "王芳 · North" in desktop.find_element("css selector", "header").text
    screenshot(desktop, "webchat-progress.png")


def in_view(driver, element) -> bool:
    """The element's top is inside the chat log's visible area."""
    return driver.execute_script(
        "var log = document.getElementById('log').getBoundingClientRect(), box = arguments[0].getBoundingClientRect();"
        "return box.top >= log.top - 1 && box.top < log.bottom;",
        element,
    )


@pytest.mark.browser
def test_browser_language_toggle_sends_nothing_and_a_long_answer_shows_its_headline(servers, phone):
    """The 中文 toggle switches the page and the bot's language without a made-up user bubble; a long coaching
    answer on a phone is shown from its headline, not scrolled past it (persona 7)."""
    phone.get(f"{servers.url}/chat/")
    ready(phone)
    description, type_name = DESCRIPTIONS["en"]
    type_message(phone, description)
    wait_for_bot(phone, 0, type_name)
    headline = next(e for e in phone.find_elements("css selector", "#log .msg.bot") if type_name in e.text)
    assert in_view(phone, headline)
    users = bubbles(phone, "user")
    phone.find_element("id", "lang").click()
    assert phone.find_element("id", "text").get_attribute("placeholder") == "说说你的客户……"
    assert bubbles(phone, "user") == users  # nothing posted
    before = len(bubbles(phone, "bot"))
    click_button(phone, "What to avoid")  # an English button pressed after the switch: answered in Chinese
    wait_for_bot(phone, before, "避免")
    phone.refresh()
    ready(phone)
    assert bubbles(phone, "user") == [description, "What to avoid"]  # no hidden greeting in the history either
    screenshot(phone, "webchat-phone-toggle.png")
