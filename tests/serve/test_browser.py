"""The chat page in a real browser: Debian's headless Chromium driven by Playwright,
against the live server with the real model. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import re
import struct
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from conftest import PROTEST, ROOT, http_get

pytestmark = [pytest.mark.model, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"
BOT = '[data-testid="bot"]'
USER = '[data-testid="user"]'
ELECTIONS_START = "Although Kazakhstan holds regular elections, they are widely criticised"
PROTEST_URL = "https://thehuman-rights.com/limited_political_freedoms_encourage_citizens_to_flee_kazakhstan"


def open_page(browser, url: str, request, height: int = 1000):
    """The chat at ``url`` in a fresh desktop context that may use the clipboard, with the
    dialogs it opens recorded (``page.dialogs``); a full-page screenshot after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": height})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("#kzqa-question textarea", timeout=30_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, live_server, request):
    yield from open_page(browser, live_server, request)


def ask(page, question: str, submit: str = "enter"):
    """Type a question, submit it, and return the new bot message once it arrived (that
    message, not whichever is last when the locator is used)."""
    before = page.locator(BOT).count()
    page.fill("#kzqa-question textarea", question)
    if submit == "enter":
        page.press("#kzqa-question textarea", "Enter")
    else:
        page.click("#kzqa-ask")
    page.wait_for_function(f"document.querySelectorAll('{BOT}').length > {before}", timeout=60_000)
    return page.locator(BOT).nth(before)


def test_a_question_gets_the_verbatim_quote_and_its_source(page):
    reply = ask(page, "Can people protest in Kazakhstan?")
    quote = reply.locator("blockquote").first
    assert quote.inner_text().strip() == PROTEST  # displayed exactly as in the source
    bold = quote.locator("strong")  # the answering sentence, highlighted inside the quote
    assert bold.count() >= 1 and bold.first.inner_text() in PROTEST
    text = reply.inner_text()
    assert "Limited Political Freedoms Encourage Citizens to Flee Kazakhstan" in text
    assert "section “Crackdowns on Peaceful Assembly”, ¶ 6." in text
    link = reply.locator("a", has_text="thehuman-rights.com").first
    assert link.get_attribute("href") == PROTEST_URL
    assert link.inner_text() == PROTEST_URL  # the address in full, not its host: what a reader copies
    assert "2 more supporting passages" in text
    summary = reply.locator("summary")
    summary.click()
    assert reply.locator("blockquote").nth(2).is_visible()


def test_the_page_says_what_it_is_and_lists_its_sources(page):
    body = page.locator("body").inner_text()
    assert "only with passages quoted verbatim" in body and "never writes text of its own" in body
    link = page.locator("a", has_text="Kazakhstan’s Human Rights Crackdown")
    assert link.get_attribute("href").startswith("https://www.foreignaffairs.com/articles/asia/2016-12-21/")
    page.locator("#kzqa-k").wait_for(state="visible", timeout=15_000)  # the settings column renders last


def test_clicking_an_example_question_asks_it(page):
    page.get_by_text("Are elections in Kazakhstan free and fair?", exact=True).first.click()
    page.wait_for_selector(BOT, timeout=60_000)
    assert page.locator(USER).last.inner_text().strip() == "Are elections in Kazakhstan free and fair?"
    assert page.locator(BOT).last.locator("blockquote").first.inner_text().startswith(ELECTIONS_START)


def test_a_follow_up_uses_the_conversation(page):
    first = ask(page, "Who ruled Kazakhstan after independence?")
    assert "Nazarbayev" in first.inner_text()
    follow = ask(page, "Who came after him?", submit="button")
    text = follow.inner_text()
    assert "follow-up to the earlier question" in text and "Kassym-Jomart Tokayev" in text


def test_an_off_topic_question_is_answered_with_silence_and_examples(page):
    reply = ask(page, "What is a good recipe for pasta?")
    text = reply.inner_text()
    assert "do not cover this question" in text and "Can people protest in Kazakhstan?" in text
    assert reply.locator("blockquote").count() == 0


PAYLOAD = ('<img src=x onerror="window.__kzqa_xss=1;alert(1)"> <script>window.__kzqa_xss=2</script> '
           '**not bold** `not code` [not a link](https://evil.example) $$x$$')


def test_html_and_markdown_in_a_question_render_literally_and_nothing_runs(page):
    reply = ask(page, PAYLOAD)
    shown = page.locator(USER).last
    assert shown.inner_text().strip() == PAYLOAD
    for selector in ("img", "script", "strong", "code", "a", ".katex"):
        assert shown.locator(selector).count() == 0, selector
    assert page.evaluate("window.__kzqa_xss") is None
    assert page.dialogs == []
    assert reply.is_visible()
    assert page.locator("#kzqa-question textarea").is_enabled()  # the page still works
    assert ask(page, "Is the press free in Kazakhstan?").locator("blockquote").count() >= 1


def test_odd_questions_in_the_chat_get_a_reply_or_a_clear_message(page):
    empty = ask(page, "   ", submit="button")
    assert "the question is empty" in empty.inner_text().lower()
    for question in ("Выборы в Казахстане свободны?", "هل الانتخابات حرة؟", "🗳️❓", "?!?"):
        reply = ask(page, question)
        assert page.locator(USER).last.inner_text().strip() == question  # shown as typed
        assert reply.inner_text().strip()
    box = page.locator("#kzqa-question textarea")
    assert box.get_attribute("maxlength") == "2000"  # the page refuses to take more
    assert page.evaluate("window.__kzqa_xss") is None and page.dialogs == []


# -- the researcher's workflow (issue 16): copy, citation styles, strength, layout ---------

PROTEST_Q = "Can people protest in Kazakhstan?"
TRUMP_Q = "What did Trump say about Kazakhstan?"  # answered from Foreign Affairs, dated 2016-12-21
OFF_TOPIC = "What is the capital of France?"
STRENGTHS = {"strong": "Strong match", "partial": "Partial match: check that the passage answers your question"}
MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def copied(page, button) -> str:
    """Press a copy button (a clipboard holding something else before) and return what the
    clipboard holds then."""
    page.evaluate("navigator.clipboard.writeText('(the clipboard before)')")
    button.click()
    expect(button).to_have_text("Copied ✓")
    return clipboard(page)


def shown_citation(quote_or_reply) -> str:
    """The citation the chat shows under a reply's first quote, without its leading dash."""
    line = quote_or_reply.locator("blockquote + p").first.inner_text()
    assert line.startswith("— "), line
    return line.removeprefix("— ")


def test_copy_puts_the_quote_and_its_citation_with_the_full_url_on_the_clipboard(page, live_server):
    reply = ask(page, PROTEST_Q)
    citation = shown_citation(reply)
    status, body = http_get(f"{live_server}api/ask?question={quote(PROTEST_Q)}")
    assert status == 200 and body["passages"][0]["citation"] == citation  # what is shown is what is copied
    assert citation.endswith(f". {PROTEST_URL}")  # the address in full, not "thehuman-rights.com"
    both, alone = reply.locator("button.kzqa-copy").nth(0), reply.locator("button.kzqa-copy").nth(1)
    assert both.inner_text() == "Copy quote + citation" and alone.inner_text() == "Copy citation"
    assert copied(page, both) == f"“{PROTEST}”\n— {citation}"
    assert copied(page, alone) == citation
    expect(both).to_have_text("Copy quote + citation", timeout=5_000)  # the label comes back


def test_the_citation_style_chosen_applies_to_the_next_answers_and_their_copies(page):
    plain = ask(page, TRUMP_Q)
    assert "Foreign Affairs, 2016-12-21, ¶ 1." in shown_citation(plain)
    page.locator("#kzqa-style").get_by_text("COI (with the date accessed)").click()
    coi = ask(page, TRUMP_Q)
    url = coi.locator("blockquote + p a").first.get_attribute("href")
    assert url.startswith("https://www.foreignaffairs.com/articles/asia/2016-12-21/")
    text = shown_citation(coi)
    # Who: title, the date as "21 December 2016", ¶, the URL, "[accessed D Month YYYY]" when known
    assert text.startswith("Hugh Williamson, Foreign Affairs: Kazakhstan’s Human Rights Crackdown: "
                           "Astana Is Moving Backwards, 21 December 2016, ¶ 1, "), text
    assert re.fullmatch(rf".*, {re.escape(url)}( \[accessed \d{{1,2}} {MONTH} \d{{4}}\])?", text), text
    assert copied(page, coi.locator("button.kzqa-copy").nth(1)) == text
    assert "2016-12-21, ¶ 1." in shown_citation(plain)  # the earlier answer keeps its citation

    page.locator("#kzqa-style").get_by_text("CSL-JSON (reference managers)").click()
    item = json.loads(shown_citation(ask(page, TRUMP_Q)))
    assert item["title"] == "Kazakhstan’s Human Rights Crackdown: Astana Is Moving Backwards"
    assert item["URL"] == url and item["issued"] == {"date-parts": [[2016, 12, 21]]}


def test_an_answer_says_how_strong_its_match_and_an_abstention_claims_no_strength(page, live_server):
    for question in (PROTEST_Q, "Is the press free in Kazakhstan?"):
        reply = ask(page, question)
        _, body = http_get(f"{live_server}api/ask?question={quote(question)}")
        label = reply.locator(".kzqa-strength")
        assert label.count() == 1 and label.inner_text() == STRENGTHS[body["strength"]]
        assert label.bounding_box()["y"] < reply.locator("blockquote").first.bounding_box()["y"]
    assert reply.locator(".kzqa-strength").inner_text().startswith("Partial match")  # the press: a near one

    off = ask(page, OFF_TOPIC)
    assert "do not cover this question" in off.inner_text()
    for selector in (".kzqa-strength", "blockquote", "button", "details"):
        assert off.locator(selector).count() == 0, selector


def test_on_request_an_abstention_shows_the_closest_passages_clearly_marked_weak(page):
    page.locator("#kzqa-closest input").check()
    reply = ask(page, OFF_TOPIC)
    text = reply.inner_text()
    assert text.startswith("The documents do not cover this question")
    block = reply.locator("details[open]")
    assert block.count() == 1
    assert block.locator("summary").inner_text().startswith("Closest passages (weak: not an answer")
    quotes = block.locator("blockquote")
    assert quotes.count() >= 1 and quotes.first.is_visible()
    assert reply.locator(".kzqa-strength").count() == 0
    assert block.locator("button.kzqa-copy").count() == 2 * quotes.count()
    assert reply.locator("button.kzqa-pin").count() == 0  # a weak passage is not evidence to keep
    copy = block.locator("button.kzqa-copy").first
    assert copy.get_attribute("title") == "Copy weak passage 1 with its citation"
    assert copied(page, copy).startswith("“")


def _clipping(page) -> list[str]:
    """The elements of the chat, and its ancestors up to body, that hide part of their
    content vertically (an inner scroll box or a clip)."""
    return page.evaluate("""() => {
        const chat = document.querySelector('#kzqa-chat');
        const all = [chat, ...chat.querySelectorAll('*')];
        for (let e = chat.parentElement; e && e !== document.documentElement; e = e.parentElement) all.push(e);
        return all.filter((e) => {
            const y = getComputedStyle(e).overflowY;
            return (e === chat || y !== 'visible') && e.scrollHeight > e.clientHeight + 1;
        }).map((e) => `${e.tagName}#${e.id}.${e.className} ${e.scrollHeight}>${e.clientHeight}`);
    }""")


def _page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


LONG = (PROTEST_Q, "Are elections in Kazakhstan free and fair?", "Is the press free in Kazakhstan?",
        "How are NGOs treated?", TRUMP_Q, "Who ruled Kazakhstan after independence?")


def test_a_long_conversation_grows_with_the_page_and_a_full_page_screenshot_shows_all_of_it(page):
    new, send = page.locator("#kzqa-new").bounding_box(), page.locator("#kzqa-ask").bounding_box()
    assert abs(new["y"] - send["y"]) < 10 and new["x"] > send["x"]  # "New conversation" next to Ask
    k = page.locator("#kzqa-k input[type=number]")
    k.fill("6")
    k.press("Enter")
    heights = []
    for question in LONG:
        reply = ask(page, question)
        reply.locator("summary", has_text="more supporting").click()
        assert reply.locator("blockquote").nth(5).is_visible()  # k = 6 passages, all unfolded
        heights.append(_page_height(page))
    assert heights == sorted(heights) and heights[-1] > heights[0] + 3000, heights
    chat = page.locator("#kzqa-chat")
    assert chat.evaluate("e => [e.scrollHeight, e.clientHeight]") == [chat.evaluate("e => e.clientHeight")] * 2
    assert _clipping(page) == []
    label = chat.locator('[data-testid="block-label"]').bounding_box()
    first = page.locator(USER).first.bounding_box()
    assert first["y"] >= label["y"] + label["height"], (first, label)  # not under the chat's label

    path = ARTIFACTS / "desktop-long-conversation.png"
    ARTIFACTS.mkdir(exist_ok=True)
    png = page.screenshot(path=str(path), full_page=True)
    width, height = struct.unpack(">II", png[16:24])
    assert height == _page_height(page)
    last = page.locator(BOT).last
    bottom = page.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY", last.element_handle())
    assert page.locator(BOT).count() == len(LONG) and bottom <= height
    assert page.locator(USER).first.inner_text().strip() == LONG[0]


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.rstrip("/"))
    page = context.new_page()
    page.goto(live_server)
    page.wait_for_selector("#kzqa-question textarea", timeout=30_000)
    yield page
    context.close()


def _overflows(page, locator) -> list[str]:
    """The elements of ``locator`` that stand out of the phone's 390-pixel width."""
    boxes = [(el.inner_text(), el.bounding_box()) for el in locator.all()]
    return [text for text, box in boxes if box is None or box["x"] < 0 or box["x"] + box["width"] > 390]


def test_on_a_phone_the_page_fits_the_screen_and_the_buttons_work_by_tap(phone):
    assert "on the right" not in phone.locator("body").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    reply = ask(phone, PROTEST_Q)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    label = phone.locator('#kzqa-chat [data-testid="block-label"]').bounding_box()
    assert phone.locator(USER).first.bounding_box()["y"] >= label["y"] + label["height"]
    quote_box = reply.locator("blockquote").first
    quote_box.scroll_into_view_if_needed()
    assert quote_box.is_visible() and quote_box.inner_text().strip() == PROTEST
    assert _overflows(phone, reply.locator("blockquote").first) == []
    assert _overflows(phone, reply.locator("blockquote + p").first) == []  # the citation wraps, URL too
    buttons = reply.locator(".kzqa-tools").first.locator("button")
    assert buttons.count() == 3 and all(b.is_visible() for b in buttons.all())
    assert _overflows(phone, buttons) == []
    phone.evaluate("navigator.clipboard.writeText('(the clipboard before)')")
    buttons.nth(1).tap()
    expect(buttons.nth(1)).to_have_text("Copied ✓")
    assert clipboard(phone) == shown_citation(reply)
    buttons.nth(2).tap()
    expect(phone.locator("#kzqa-collection-count")).to_have_text("1 quote pinned.")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)


def test_the_keyboard_reaches_a_copy_button_enter_copies_and_every_button_is_named(page):
    reply = ask(page, PROTEST_Q)
    page.evaluate("navigator.clipboard.writeText('(the clipboard before)')")
    page.get_by_text("kzqa — political freedoms in Kazakhstan", exact=False).first.click()  # focus starts at the top
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('button.kzqa-copy')"):
            break
    else:
        pytest.fail("40 presses of Tab never reached a copy button")
    focused = page.evaluate_handle("document.activeElement")
    assert focused.evaluate("e => e.textContent") == "Copy quote + citation"
    assert focused.evaluate("e => getComputedStyle(e).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(reply.locator("button.kzqa-copy").first).to_have_text("Copied ✓")
    assert clipboard(page) == f"“{PROTEST}”\n— {shown_citation(reply)}"

    reply.locator("button.kzqa-pin").first.click()
    buttons = page.locator("#kzqa-chat button.kzqa-copy, #kzqa-chat button.kzqa-pin, #kzqa-collection button")
    names = buttons.evaluate_all(
        "bs => bs.map((b) => (b.getAttribute('aria-label') || b.textContent || b.title || '').trim())")
    assert len(names) == 9 + 5 and all(names), names  # 3 quotes x 3 buttons, 4 exports/clear + 1 unpin
    assert page.get_by_role("button", name="Unpin quote 1").count() == 1
    assert reply.locator("button.kzqa-pin").first.get_attribute("aria-pressed") == "true"


def test_a_copy_button_pressed_twice_in_a_row_gets_its_label_back(page):
    button = ask(page, PROTEST_Q).locator("button.kzqa-copy").first
    button.click()
    button.click()  # while it still says "Copied ✓"
    expect(button).to_have_text("Copy quote + citation", timeout=5_000)
    page.wait_for_timeout(1_000)  # the second press's timer has run too
    assert button.inner_text() == "Copy quote + citation"


def test_a_pin_button_says_whether_its_quote_is_in_the_collection(page):
    reply = ask(page, PROTEST_Q)
    pin = reply.locator("button.kzqa-pin").first
    pin.click()
    expect(pin).to_have_text("Pinned ✓")
    assert pin.get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Unpin quote 1").click()
    expect(page.locator("#kzqa-collection-count")).to_have_text("No quotes pinned yet: press “Pin” under a quote.")
    expect(pin).to_have_text("Pin")  # not "Pinned ✓" for a quote the collection no longer holds
    assert pin.get_attribute("aria-pressed") != "true"
    pin.click()
    expect(pin).to_have_text("Pinned ✓")
    again = ask(page, PROTEST_Q).locator("button.kzqa-pin").first  # the same quote, answered anew
    expect(again).to_have_text("Pinned ✓")
    page.click("#kzqa-clear")
    expect(page.locator("#kzqa-collection-count")).to_have_text("No quotes pinned yet: press “Pin” under a quote.")
    expect(pin).to_have_text("Pin")
    expect(again).to_have_text("Pin")
    again.click()
    page.click("#kzqa-new")
    expect(page.locator(BOT)).to_have_count(0)
    expect(page.locator("#kzqa-collection-count")).to_have_text("1 quote pinned.")  # a new conversation keeps them
