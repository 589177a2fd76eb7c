"""The chat page over a library of report editions, in a real browser: every quote shows
its date, a paragraph the editions repeat is shown once with the others named, and the
filters choose the edition. The documents are the real state.gov pages of
../shared/library; the model is the fake one (this is about the page, not the ranking)."""

from __future__ import annotations

import pytest
import yaml

from conftest import LIBRARY, FakeEmbedder, start_server, write
from test_browser import ARTIFACTS, ask

pytestmark = [pytest.mark.browser]

DOMAINS = "suspend or revoke registration as punishment for placing computer databases or servers"
QUESTION = "Can authorities revoke the registration of a domain for placing servers outside the country?"


@pytest.fixture(scope="module")
def library_server(tmp_path_factory):
    if not LIBRARY.is_dir():
        pytest.skip(f"the real documents are not at {LIBRARY} (../shared/library)")
    import kzqa
    from kzqa.catalogue import CATALOGUE
    from kzqa.embedding import substitute

    tmp = tmp_path_factory.mktemp("library")
    shipped = yaml.safe_load((CATALOGUE / "usdos-kazakhstan.yaml").read_text(encoding="utf-8"))
    shipped["documents"] = [d for d in shipped["documents"] if d["metadata"]["covers"] in ("2021", "2022", "2023")]
    three = write(tmp / "three-editions.yaml", yaml.safe_dump(shipped, allow_unicode=True))
    corpus, index = tmp / "corpus", tmp / "index"
    corpus.mkdir()
    with substitute(lambda name: FakeEmbedder()):
        kzqa.add([], corpus, index, collection=str(three), source=LIBRARY / "usdos-kazakhstan")
        qa = kzqa.load(index).warm_up()
    from kzqa.server import make_server

    yield from start_server(make_server(qa))


@pytest.fixture
def page(browser, library_server, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    page.goto(library_server)
    page.wait_for_selector("#kzqa-question textarea", timeout=30_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_a_repeated_paragraph_shows_once_from_the_latest_edition_with_its_date_and_the_others(page):
    reply = ask(page, QUESTION)
    shown = reply.locator("blockquote").first.inner_text()
    assert DOMAINS in shown, shown
    text = reply.inner_text()
    assert "2023 Country Reports on Human Rights Practices: Kazakhstan" in text and "2024-04-22" in text
    summary = reply.locator("summary", has_text="Also in the 2022 and 2021 editions").first
    summary.click()
    assert "2022 Country Reports on Human Rights Practices: Kazakhstan" in reply.inner_text()
    assert reply.inner_text().count(DOMAINS) == 1  # the echo is named, not quoted again


def test_the_filters_choose_the_edition(page):
    page.click("#kzqa-filters")
    page.click("#kzqa-until input")
    page.get_by_role("option", name="2021", exact=True).click()
    reply = ask(page, QUESTION)
    text = reply.inner_text()
    assert DOMAINS in text and "2021 Country Reports on Human Rights Practices: Kazakhstan" in text
    assert "2022-04-12" in text and "2023 Country Reports" not in text.split("Also in")[0]
