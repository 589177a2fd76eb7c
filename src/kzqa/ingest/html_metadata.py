"""The metadata a web page states of itself (title, author, publisher, date, url, language),
for :func:`kzqa.ingest.html_text.extract_html`: meta tags, JSON-LD, ``<title>``, ``<h1>`` and
a listing of labelled fields, never a guess from the page's address or its host."""

from __future__ import annotations

import json
import re
from typing import Any

from kzqa.ingest.html_tree import visible
from kzqa.ingest.printed_dates import date_in

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def _html_language(tree: Any) -> str | None:
    """The language the page declares: ``<html lang>`` or a Content-Language meta tag."""
    declared = [tree.get("lang")] + [
        meta.get("content")
        for meta in tree.iter("meta")
        if (meta.get("http-equiv") or "").lower() == "content-language"
    ]
    return next((v.strip() for v in declared if v and _LANGUAGE_TAG.fullmatch(v.strip())), None)


def page_metadata(tree: Any) -> dict[str, str]:
    """Title, author, publisher, date, url and language as the page states them.

    Title: the article's headline (schema.org ``headline``, ``og:title``, the first ``<h1>``,
    ``<title>``), skipping any that is the site's name or ends with it (" - Site", " | Site").
    Date: the publication date (schema.org ``datePublished``, ``article:published_time`` and
    the like, else a definition list's "Published:"), never a modification date. Publisher:
    schema.org ``publisher``, else ``og:site_name``, else the schema.org WebSite's name, else a
    definition list's "From:"/"Publisher:"."""
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        value = " ".join((meta.get("content") or "").split())
        if key and value and key not in metas:
            metas[key] = value
    ld = _json_ld(tree)
    by_id = {o["@id"]: o for o in ld if isinstance(o.get("@id"), str)}

    def ld_value(key: str) -> str:
        for obj in ld:
            value = obj.get(key)
            if isinstance(value, dict):
                value = by_id.get(value.get("@id"), value) if "@id" in value else value
                value = value.get("name")
            elif isinstance(value, list):
                value = next((v.get("name") if isinstance(v, dict) else v for v in value), None)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
        return ""

    website = next((" ".join(str(o.get("name") or "").split()) for o in ld
                    if o.get("@type") == "WebSite"), "")
    publisher = ld_value("publisher") or metas.get("og:site_name", "") or website
    sites = {n.casefold() for n in (publisher, metas.get("og:site_name", ""), website) if n}

    def names_the_site(title: str) -> bool:
        low = title.casefold()
        return low in sites or any(re.search(r"\s[-|–—:·•]+\s*" + re.escape(n) + r"\s*$", low)
                                   for n in sites)

    title_el = tree.find(".//title")
    h1 = [el for el in tree.xpath("//h1") if not _navigation_heading(el)]
    page_title = " ".join(title_el.text_content().split()) if title_el is not None else ""
    if h1 and len(visible(h1[0]).split()) == 1 and len(page_title.split()) > 1:
        h1 = []  # one word ("Library") under a longer <title>: the site's section, not the headline
    candidates = [ld_value("headline"), metas.get("og:title", ""), metas.get("twitter:title", ""),
                  visible(h1[0]) if h1 else "",
                  " ".join(title_el.text_content().split()) if title_el is not None else ""]
    title = next((c for c in candidates if c and not names_the_site(c)), "")
    dates = [ld_value("datePublished"), metas.get("article:published_time", ""),
             metas.get("citation_publication_date", ""), metas.get("dc.date.issued", ""),
             metas.get("dcterms.issued", ""), metas.get("datepublished", ""),
             *(t.get("datetime") or "" for t in tree.xpath("//time[@itemprop='datePublished' or @pubdate]"))]
    listed = _listed_metadata(tree)
    dates.append(listed.get("date", ""))
    publisher = publisher or listed.get("publisher", "")
    date = next((m[0].replace("/", "-") for d in dates if (m := re.match(r"\d{4}[-/]\d{2}[-/]\d{2}", d))), "")
    author = ld_value("author") or metas.get("author", "") or metas.get("article:author", "")
    if re.match(r"https?://", author):
        author = ""  # a profile address, not a name
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    url = (canonical[0].strip() if canonical else "") or metas.get("og:url", "")
    found = {"title": title, "author": author, "publisher": publisher, "date": date,
             "url": url if re.match(r"https?://\S+$", url) else "", "language": _html_language(tree) or ""}
    return {k: " ".join(v.split()) for k, v in found.items() if v and v.strip()}


_SKIP_LINK_TEXT = re.compile(r"(?i)(?:skip\s+to\s+|jump\s+to\s+)?(?:the\s+)?(?:main\s+)?"
                             r"(?:content|navigation|menu|search)")


_SCREEN_READER_NAMES = re.compile(r"(?i)\b(?:sr-only|visually-hidden|screen-reader|skip-?link|skip-?nav)\b")


def _navigation_heading(el: Any) -> bool:
    """An ``<h1>`` that is navigation, not the page's headline: a skip link ("Main Content"),
    a link alone (the site's logo linking home), or a heading for screen readers only."""
    text = visible(el)
    if not text or _SKIP_LINK_TEXT.fullmatch(text):
        return True
    names = " ".join(f"{x.get('class') or ''} {x.get('id') or ''}" for x in (el, *el.iterancestors()))
    if _SCREEN_READER_NAMES.search(names):
        return True
    links = [a for a in el.iter("a") if a.get("href") is not None]
    return bool(links) and " ".join(visible(a) for a in links).split() == text.split()  # a link alone: a logo


_DT_DATE = re.compile(r"(?i)(?:first\s+)?(?:published|issued|publication\s+date|date\s+of\s+publication)"
                      r"\s*(?:on)?\s*:?")


_DT_PUBLISHER = re.compile(r"(?i)(?:from|publisher|published\s+by|organi[sz]ation)\s*:?")


def _listed_metadata(tree: Any) -> dict[str, str]:
    """The publication date and publisher a page lists in a definition list ("First published:
    20 March 2013", "From: Foreign & Commonwealth Office"): ``<dt>`` names the field, the next
    ``<dd>`` holds it (a machine-readable ``datetime`` or ``title`` of a date inside it first).
    Never a date listed as updated or modified."""
    found: dict[str, str] = {}
    for dt in tree.iter("dt"):
        label = " ".join(dt.text_content().split())
        dd = dt.getnext()
        while dd is not None and dd.tag != "dd":
            dd = dd.getnext() if dd.tag not in ("dt",) else None
        if dd is None:
            continue
        if "date" not in found and _DT_DATE.fullmatch(label):
            stamps = [x.get("datetime") or x.get("title") or "" for x in dd.iter("time", "abbr")]
            iso = next((m[0] for x in stamps if (m := re.match(r"\d{4}-\d{2}-\d{2}", x))), "")
            found["date"] = iso or date_in(" ".join(dd.text_content().split()))
        elif "publisher" not in found and _DT_PUBLISHER.fullmatch(label):
            first = next((a for a in dd.iter("a")), dd)
            name = " ".join(first.text_content().split())
            if 0 < len(name) <= 120:
                found["publisher"] = name
    return {k: v for k, v in found.items() if v}


def _json_ld(tree: Any) -> list[dict[str, Any]]:
    """Every object of the page's schema.org JSON-LD (``@graph`` members included)."""

    out: list[dict[str, Any]] = []

    def add(value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                add(v)
        elif isinstance(value, dict):
            out.append(value)
            add(value.get("@graph"))

    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            add(json.loads(script.text or ""))
        except ValueError:
            continue  # malformed JSON-LD is ignored, as search engines do
    return out


__all__ = ["page_metadata"]
