"""The chat page in a real browser: Debian's headless Chromium driven by Playwright,
against the live server with the real model. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from conftest import PROTEST, ROOT

pytestmark = [pytest.mark.model, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"
BOT = '[data-testid="bot"]'
USER = '[data-testid="user"]'
ELECTIONS_START = "Although Kazakhstan holds regular elections, they are widely criticised"


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(live_server)
    page.wait_for_selector("#kzqa-question textarea", timeout=30_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def ask(page, question: str, submit: str = "enter"):
    """Type a question, submit it, and return the new bot message once it arrived."""
    before = page.locator(BOT).count()
    page.fill("#kzqa-question textarea", question)
    if submit == "enter":
        page.press("#kzqa-question textarea", "Enter")
    else:
        page.click("#kzqa-ask")
    page.wait_for_function(f"document.querySelectorAll('{BOT}').length > {before}", timeout=60_000)
    return page.locator(BOT).last


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
    assert link.get_attribute("href") == ("https://thehuman-rights.com/limited_political_freedoms_"
                                          "encourage_citizens_to_flee_kazakhstan")
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
