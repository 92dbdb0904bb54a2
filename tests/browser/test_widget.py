"""The web chat widget in a real browser against a real server (see ``conftest.py``).

A visitor's view only: the widget on the demo page (hostile CSS included), the offline AI
answering from the demo knowledge, safe rendering, history and tabs, the keyboard, the
handoff, reconnects. The operator side is driven through the REST API. Events the demo
cannot produce on demand (AI streaming, an operator typing) are injected into the real
socket with Playwright's WebSocket routing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.browser.conftest import Server
from tests.browser.widget_kit import (
    ROOT,
    SHADOW_FOCUS_JS,
    Frames,
    messages,
    new_context,
    open_chat,
    open_demo,
    send,
    stored,
    track_ready,
    wait_for_text,
)

# ---- the demo: isolation and the AI's answer ------------------------------------------------


def test_demo_page_widget_is_isolated_and_the_ai_answers(
    context: BrowserContext, server: Server, artifacts: Path
) -> None:
    page = context.new_page()
    track_ready(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_demo(page, server)

    # the host page's `* { font-family: serif; color: red }`, `button { display: none }`,
    # `svg { display: none }`, `#frontline-widget { opacity: .1; transform: rotate() }`
    host = page.locator("#frontline-widget")
    assert host.evaluate("(e) => getComputedStyle(e).opacity") == "1"
    assert host.evaluate("(e) => getComputedStyle(e).transform") == "none"
    expect(page.locator(".launcher svg")).to_be_visible()
    assert (
        page.locator("body")
        .evaluate("(e) => getComputedStyle(e).fontFamily")
        .startswith('"Times New Roman"')
    )  # the page really is hostile

    open_chat(page)
    panel = page.locator(".panel")
    font = panel.evaluate("(e) => getComputedStyle(e).fontFamily")
    assert "Times" not in font and "sans-serif" in font, font
    expect(page.locator(".send")).to_be_visible()
    send_box = page.locator(".send").bounding_box()
    assert send_box is not None and round(send_box["width"]) == 40  # no content-box leak
    assert panel.get_attribute("role") == "dialog"
    expect(page.locator(".head h2")).to_have_text("Demo Tours")
    expect(page.locator(".greeting")).to_contain_text("Здравствуйте")

    send(page, "Сколько стоит тур на Байкал?")
    wait_for_text(page, ".log .msg.contact[data-id]", "Сколько стоит тур на Байкал?")
    wait_for_text(page, ".log .msg.ai", "45 000")
    answer = page.locator(".log .msg.ai").last
    assert answer.evaluate("(e) => getComputedStyle(e).color") == "rgb(17, 24, 39)"  # not red
    assert answer.evaluate("(e) => getComputedStyle(e).fontFamily") == font
    page.screenshot(path=str(artifacts / "widget-demo-answer.png"))

    kinds = [m["cls"].split()[1] for m in stored(page)]
    assert kinds[:2] == ["contact", "ai"], kinds
    assert errors == []


# ---- safe rendering ------------------------------------------------------------------------


def test_message_text_is_shown_as_text_never_run(
    context: BrowserContext, server: Server, artifacts: Path
) -> None:
    page = context.new_page()
    track_ready(page)
    frames = Frames(page)
    open_demo(page, server)
    open_chat(page)

    payload = "<img src=x onerror=window.__xss=1> <script>window.__xss=2</script>"
    send(page, payload)
    wait_for_text(page, ".log .msg.contact[data-id]", "<img src=x")
    mine = [m for m in stored(page) if "contact" in m["cls"]]
    assert [m["text"] for m in mine] == [payload]

    # the operator side: markup, a javascript: "link" and a real link
    operator = server.token("operator")
    conversation_id = frames.conversation_id()
    reply = (
        '<b>bold</b> <img src=x onerror="window.__xss=3"> javascript:alert(1) '
        "see https://example.com/tours?x=1."
    )
    r = server.api(
        "POST", f"/conversations/{conversation_id}/messages", operator, json={"text": reply}
    )
    assert r.status_code == 201, r.text
    wait_for_text(page, ".log .msg.operator", "see https://example.com")
    body = page.locator(".log .msg.operator .body").last
    assert body.text_content() == reply
    links = body.locator("a")
    expect(links).to_have_count(1)
    assert links.get_attribute("href") == "https://example.com/tours?x=1"
    assert set((links.get_attribute("rel") or "").split()) == {"noopener", "noreferrer", "nofollow"}
    assert links.get_attribute("target") == "_blank"

    # an internal note never reaches the visitor
    r = server.api(
        "POST", f"/conversations/{conversation_id}/notes", operator, json={"text": "VIP"}
    )
    assert r.status_code == 201, r.text
    page.wait_for_timeout(1000)
    assert all(m["text"] != "VIP" for m in messages(page))

    counts = page.evaluate(f"() => {ROOT}.querySelectorAll('.log img, .log script, .log b').length")
    assert counts == 0
    assert page.evaluate("() => window.__xss") is None
    page.screenshot(path=str(artifacts / "widget-safe-text.png"))


# ---- history, reload and tabs ----------------------------------------------------------------


def test_reload_restores_history_once_and_tabs_stay_in_sync(
    context: BrowserContext, server: Server
) -> None:
    first = context.new_page()
    track_ready(first)
    open_demo(first, server)
    open_chat(first)
    send(first, "Можно ли взять с собой собаку?")
    wait_for_text(first, ".log .msg.ai", "15 кг")
    before = stored(first)
    ids = [m["id"] for m in before]
    assert len(ids) == len(set(ids)) >= 2

    # a reload: same visitor (token in localStorage), history back without a click, once
    first.reload()
    first.wait_for_function(
        f"(n) => {ROOT}.querySelectorAll('.log .msg[data-id]').length >= n", arg=len(ids)
    )
    first.wait_for_timeout(500)  # nothing else trickles in
    assert [m["id"] for m in stored(first)] == ids
    assert [m["text"] for m in stored(first)] == [m["text"] for m in before]

    # a second tab of the same visitor sees the same history and every new message
    second = context.new_page()
    track_ready(second)
    open_demo(second, server)
    second.wait_for_function(
        f"(n) => {ROOT}.querySelectorAll('.log .msg[data-id]').length >= n", arg=len(ids)
    )
    open_chat(first)
    send(first, "А в тур на Байкал можно с собакой?")
    for page in (first, second):
        wait_for_text(page, ".log .msg.contact[data-id]", "А в тур на Байкал")
        page.wait_for_function(  # and the answer to it
            f"(n) => {ROOT}.querySelectorAll('.log .msg[data-id]').length >= n", arg=len(ids) + 2
        )
    first.wait_for_timeout(500)
    for page in (first, second):
        all_ids = [m["id"] for m in stored(page)]
        assert len(all_ids) == len(set(all_ids)), all_ids
        texts = [m["text"] for m in stored(page)]
        assert texts.count("А в тур на Байкал можно с собакой?") == 1
    assert [m["id"] for m in stored(first)] == [m["id"] for m in stored(second)]
    # the closed tab shows the answer as unread
    expect(second.locator(".badge")).to_be_visible()
    assert "new" in (second.locator(".launcher").get_attribute("aria-label") or "")


# ---- keyboard and screen readers -------------------------------------------------------------


def test_keyboard_only_visitor(context: BrowserContext, server: Server, artifacts: Path) -> None:
    page = context.new_page()
    open_demo(page, server)
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate(SHADOW_FOCUS_JS) == "launcher":
            break
    else:
        raise AssertionError("the launcher is not reachable with Tab")
    launcher = page.locator(".launcher")
    assert launcher.get_attribute("aria-label")
    assert launcher.get_attribute("aria-expanded") == "false"

    page.keyboard.press("Enter")
    expect(page.locator(".panel")).to_be_visible()
    assert launcher.get_attribute("aria-expanded") == "true"
    assert page.evaluate(SHADOW_FOCUS_JS) == "fl-input"  # focus moved into the dialog
    assert page.locator("label[for=fl-input]").text_content()
    assert page.locator(".log").get_attribute("role") == "log"
    assert page.locator(".log").get_attribute("aria-live") == "polite"

    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    page.keyboard.press("Enter")
    wait_for_text(page, ".log .msg.contact[data-id]", "second line")
    assert [m["text"] for m in stored(page) if "contact" in m["cls"]] == ["first line\nsecond line"]
    assert page.locator("#fl-input").input_value() == ""
    page.screenshot(path=str(artifacts / "widget-keyboard.png"))

    page.keyboard.press("Escape")
    expect(page.locator(".panel")).to_be_hidden()
    assert launcher.get_attribute("aria-expanded") == "false"
    assert page.evaluate(SHADOW_FOCUS_JS) == "launcher"  # focus returned


# ---- handoff ---------------------------------------------------------------------------------


def test_talk_to_a_person_without_operators_asks_for_an_email(
    browser: Browser, server: Server, artifacts: Path
) -> None:
    context = new_context(browser, "ru-RU")
    try:
        page = context.new_page()
        track_ready(page)
        frames = Frames(page)
        open_demo(page, server)
        open_chat(page)
        human = page.locator(".human")
        expect(human).to_have_text("Позвать оператора")

        human.click()  # before the first message: asked to describe the question first
        expect(page.locator(".err.note")).to_be_visible()
        # a question the AI could answer: the handoff, not the AI, sends it to the queue
        send(page, "Сколько стоит тур на Байкал?")
        expect(page.locator(".banner")).to_have_text(re.compile("Ждём оператора"))
        expect(human).to_be_hidden()
        assert any(f["type"] == "handoff.request" for f in frames.sent)
        assert all(f["data"].get("code") != "no_conversation" for f in frames.received)

        card = page.locator(".email")  # no console is connected: nobody is online
        expect(card).to_be_visible()
        expect(card).to_contain_text("нет операторов")
        email = page.locator("#fl-email")
        email.fill("not-an-address")
        email.press("Enter")
        expect(page.locator(".err")).to_contain_text("e-mail")
        email.fill("anna@example.com")
        email.press("Enter")
        expect(card.get_by_text("Спасибо! Мы ответим на e-mail.")).to_be_visible()
        expect(page.locator("#fl-email")).to_be_hidden()
        assert {"type": "contact.update", "data": {"email": "anna@example.com"}} in frames.sent
        page.screenshot(path=str(artifacts / "widget-handoff-offline.png"))
    finally:
        context.close()


def test_operator_joins_resolves_and_the_visitor_rates(
    context: BrowserContext, server: Server, artifacts: Path
) -> None:
    page = context.new_page()
    track_ready(page)
    frames = Frames(page)
    open_demo(page, server)
    open_chat(page)
    send(page, "I would like to talk to a person about my booking")
    wait_for_text(page, ".log .msg.contact[data-id]", "about my booking")
    operator = server.token("operator")
    conversation_id = frames.conversation_id()

    # the operator accepts the conversation, then answers
    me = server.api("GET", "/me", operator).json()
    r = server.api(
        "POST",
        f"/conversations/{conversation_id}/assign",
        operator,
        json={"assignee_id": me["user_id"]},
    )
    assert r.status_code == 200, r.text
    expect(page.locator(".banner")).to_have_text(re.compile("operator has joined"))
    expect(page.locator(".human")).to_be_hidden()
    r = server.api(
        "POST",
        f"/conversations/{conversation_id}/messages",
        operator,
        json={"text": "Hi, I am here"},
    )
    assert r.status_code == 201, r.text
    wait_for_text(page, ".log .msg.operator", "Hi, I am here")

    r = server.api(
        "PATCH", f"/conversations/{conversation_id}", operator, json={"status": "resolved"}
    )
    assert r.status_code == 200, r.text
    expect(page.locator(".banner")).to_have_text(re.compile("resolved"))
    rating = page.locator(".rating")
    expect(rating).to_be_visible()
    submit = rating.locator("button[type=submit]")
    expect(submit).to_be_disabled()
    rating.locator(".stars button").nth(3).click()
    assert rating.locator(".stars button").nth(3).get_attribute("aria-pressed") == "true"
    rating.locator("textarea").fill("Quick and kind")
    page.screenshot(path=str(artifacts / "widget-rating.png"))
    submit.click()
    expect(rating.get_by_text("Thank you for your rating!")).to_be_visible()
    expect(rating.locator(".stars")).to_be_hidden()

    detail = server.api("GET", f"/conversations/{conversation_id}", operator).json()
    assert detail["csat_rating"] == 4
    assert detail["csat_comment"] == "Quick and kind"


# ---- reconnects ----------------------------------------------------------------------------


def test_offline_then_online_sends_the_queued_message(
    context: BrowserContext, server: Server
) -> None:
    page = context.new_page()
    track_ready(page)
    open_demo(page, server)
    open_chat(page)
    send(page, "Привет!")
    wait_for_text(page, ".log .msg.contact[data-id]", "Привет!")

    context.set_offline(True)
    expect(page.locator(".banner")).to_have_text(re.compile("Connection lost"))
    send(page, "Written while offline")
    expect(page.locator(".log .msg.pending")).to_have_text(re.compile("Written while offline"))
    page.wait_for_timeout(1500)
    context.set_offline(False)
    wait_for_text(page, ".log .msg.contact[data-id]", "Written while offline")
    expect(page.locator(".log .msg.pending")).to_have_count(0)
    # (the AI may have passed the question to a person: that banner may show)
    expect(page.locator(".banner")).not_to_have_text(re.compile("Connection lost"))
    texts = [m["text"] for m in stored(page)]
    assert texts.count("Written while offline") == 1


def route_widget_socket(
    page: Page,
    server: Server,
    from_page: Callable[[WebSocketRoute, WebSocketRoute, dict[str, Any]], bool] | None = None,
    from_server: Callable[[WebSocketRoute, WebSocketRoute, dict[str, Any]], bool] | None = None,
) -> list[WebSocketRoute]:
    """Put Playwright between the widget and the real server. Each hook sees every frame
    of its direction and returns whether to forward it. The page's side of every
    connection is returned (to inject frames with ``send``)."""
    routes: list[WebSocketRoute] = []

    def handler(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()
        routes.append(ws)

        def up(message: str | bytes) -> None:
            frame = json.loads(message)
            if from_page is None or from_page(ws, upstream, frame):
                upstream.send(message)

        def down(message: str | bytes) -> None:
            frame = json.loads(message)
            if from_server is None or from_server(ws, upstream, frame):
                ws.send(message)

        ws.on_message(up)
        upstream.on_message(down)

    page.route_web_socket(re.compile(r".*/ws/widget\?.*"), handler)
    return routes


def test_a_send_lost_in_a_drop_is_resent_with_the_same_client_id(
    context: BrowserContext, server: Server
) -> None:
    page = context.new_page()
    track_ready(page)
    sends: list[dict[str, Any]] = []
    hellos: list[str] = []
    echoed: list[str] = []
    plan = {"lose_send": False, "lose_ack": False}

    def from_page(ws: WebSocketRoute, upstream: WebSocketRoute, frame: dict[str, Any]) -> bool:
        if frame["type"] != "message.send":
            return True
        sends.append(frame["data"])
        if plan["lose_send"]:  # the network drops before the server reads it
            plan["lose_send"] = False
            ws.close(code=4000)
            upstream.close()
            return False
        return True

    def from_server(ws: WebSocketRoute, upstream: WebSocketRoute, frame: dict[str, Any]) -> bool:
        if frame["type"] == "hello":
            hellos.append(ws.url)
        if frame["type"] == "message.created":
            echoed.append(frame["data"].get("text"))
        if frame["type"] == "message.ack" and plan["lose_ack"]:  # stored, answer lost
            plan["lose_ack"] = False
            ws.close(code=4000)
            upstream.close()
            return False
        return True

    route_widget_socket(page, server, from_page, from_server)
    open_demo(page, server)
    open_chat(page)
    send(page, "First")
    wait_for_text(page, ".log .msg.contact[data-id]", "First")
    # the ack marks the bubble stored; the widget's resume point (last_id) is the last message
    # *event* it saw, so the drop below waits for the echo, which may come after the ack
    deadline = time.monotonic() + 15
    while "First" not in echoed and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert "First" in echoed

    plan["lose_send"] = True
    send(page, "Second")
    wait_for_text(page, ".log .msg.contact[data-id]", "Second")
    seconds = [s for s in sends if s["text"] == "Second"]
    assert len(seconds) == 2 and seconds[0]["client_id"] == seconds[1]["client_id"]
    assert "last_id=" in hellos[-1]  # the reconnect asked only for the gap

    plan["lose_ack"] = True
    send(page, "Third")
    wait_for_text(page, ".log .msg.contact[data-id]", "Third")
    thirds = [s for s in sends if s["text"] == "Third"]
    assert len({s["client_id"] for s in thirds}) == 1
    page.wait_for_timeout(1000)
    texts = [m["text"] for m in messages(page)]
    for text in ("First", "Second", "Third"):
        assert texts.count(text) == 1, texts
    ids = [m["id"] for m in stored(page)]
    assert len(ids) == len(set(ids))
    assert len(hellos) == 3


# ---- events the demo cannot produce on demand -----------------------------------------------


def test_streaming_typing_errors_and_heartbeat(
    context: BrowserContext, server: Server, artifacts: Path
) -> None:
    page = context.new_page()
    track_ready(page)
    pongs: list[dict[str, Any]] = []

    def from_page(ws: WebSocketRoute, upstream: WebSocketRoute, frame: dict[str, Any]) -> bool:
        if frame["type"] == "pong":
            pongs.append(frame)
        return True

    routes = route_widget_socket(page, server, from_page)
    open_demo(page, server)
    open_chat(page)

    def inject(kind: str, **data: Any) -> None:
        routes[-1].send(json.dumps({"type": kind, "data": {"conversation_id": 1, **data}}))

    status = page.locator(".status")
    inject("ai.typing", active=True)
    expect(status).to_have_text("AI is writing…")

    inject("message.delta", stream_id="ai-s1", delta="Hel")
    inject("message.delta", stream_id="ai-s1", delta="lo <b>")
    streaming = page.locator(".log .msg.streaming")
    expect(streaming.locator(".body")).to_have_text("Hello <b>")
    assert streaming.get_attribute("aria-hidden") == "true"  # announced once, when stored
    inject("message.delta", stream_id="ai-s1", reset=True)
    inject("message.delta", stream_id="ai-s1", delta="Bonjour")
    expect(streaming.locator(".body")).to_have_text("Bonjour")
    inject("message.delta", stream_id="ai-s1", done=True, discarded=True)
    expect(streaming).to_have_count(0)

    inject("message.delta", stream_id="ai-s2", delta="The tour costs")
    expect(streaming).to_have_count(1)
    page.screenshot(path=str(artifacts / "widget-streaming.png"))
    inject("message.delta", stream_id="ai-s2", done=True, discarded=False)
    inject(
        "message.created",
        id=900_000_001,
        sender="ai",
        text="The tour costs 45 000 ₽.",
        created_at="2026-01-01T10:00:00+00:00",
        client_id=None,
        stream_id="ai-s2",
        author_name=None,
    )
    inject("message.delta", stream_id="ai-s2", delta=" late")  # after the end: ignored
    inject("ai.typing", active=False)
    expect(streaming).to_have_count(0)
    final = page.locator(".log .msg.ai")
    expect(final).to_have_count(1)
    expect(final.locator(".body")).to_have_text("The tour costs 45 000 ₽.")
    assert final.get_attribute("aria-hidden") is None

    inject("typing", active=True, author_name="Анна")
    expect(status).to_have_text("Анна is typing…")
    inject("typing", active=False, author_name="Анна")
    expect(status).to_have_text("")

    inject("error", code="rate_limited", message="slow down", retry_after=7)
    expect(page.locator(".err")).to_have_text("Too many messages. Try again in 7 s.")

    inject("conversation.status", status="open", state="operator_joined", operators_online=True)
    expect(page.locator(".banner")).to_have_text(re.compile("operator has joined"))
    expect(page.locator(".human")).to_be_hidden()

    inject("ping")
    page.wait_for_function("() => true")
    page.wait_for_timeout(300)
    assert pongs, "no pong for a ping"
