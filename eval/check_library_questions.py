#!/usr/bin/env python3
"""Check eval/library-questions.jsonl against the document library.

For every line: valid JSON with the expected fields, unique ids, known kinds and splits,
every evidence quote (6-20 words) found verbatim in its document's text (whitespace
normalised only: for HTML the trafilatura text (when installed), else lxml's visible text; for PDF the
pypdf text of all pages), `latest` = the most recent evidence document, kind-specific rules
(no evidence for uncovered/off-topic, only Kazakhstan documents for wrong-country, only
other countries' documents for other-country, history for follow-up, years for dated),
and tune/heldout balance per kind. Prints counts per kind x split. Exit status 1 on error.

Run with the project's venv (pypdf, lxml; trafilatura too if installed):
    /work/main/.venv/bin/python eval/check_library_questions.py [FILE] [--passages]
--passages also checks, with kzqa's own extractor (kzqa.ingest.extract, from /work/main/src),
that every quote lies inside one block (paragraph) of the text kzqa indexes, so that some
passage of that document can contain it.
Library: $KZQA_LIBRARY or ../shared/library; corpus: $KZQA_CORPUS or /work/main/corpus.
"""
from __future__ import annotations

import collections
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
PASSAGES = "--passages" in sys.argv[1:]
QUESTIONS = Path(ARGS[0]) if ARGS else HERE / "library-questions.jsonl"
KZQA_SRC = Path(os.environ.get("KZQA_SRC", "/work/main/src"))
LIBRARY = Path(os.environ.get("KZQA_LIBRARY", "/work/shared/library"))
CORPUS = Path(os.environ.get("KZQA_CORPUS", "/work/main/corpus"))

KZ_YEARS = range(2016, 2025)
KZ_DOCS = {f"usdos-hrr-{y}-kazakhstan": LIBRARY / "usdos-kazakhstan" / f"usdos-hrr-{y}-kazakhstan.html"
           for y in KZ_YEARS}
SEED_DOCS = {"kazakhstans-human-rights-crackdown": CORPUS / "kazakhstans-human-rights-crackdown.txt",
             "limited-political-freedoms-kazakhstan": CORPUS / "limited-political-freedoms-kazakhstan.txt"}
OTHER_DOCS = {p.stem: p for p in sorted((LIBRARY / "pdf").glob("*.pdf"))}
DOCS = {**KZ_DOCS, **SEED_DOCS, **OTHER_DOCS}

# Recency key (year, tie-break). Reports: the report year. Seeds: their date's year from
# corpus/*.meta.yaml; limited-political-freedoms states no date, the project brief dates
# it 2023. On a tie of years a State Department report counts as the more recent (it is
# dated, the seed is not). Other countries' documents: the year of the period covered /
# issue; the two Slovenia UPR documents (both November 2024) are ordered by symbol SVN/2 < SVN/3.
SEED_FALLBACK_YEAR = {"limited-political-freedoms-kazakhstan": 2023}
OTHER_KEYS = {"usdos-hrr-2023-nicaragua": (2023, 1), "usdos-refugee-admissions-fy2025": (2024, 1),
              "upr-svn-2024-ohchr-compilation": (2024, 2), "upr-svn-2024-stakeholder-summary": (2024, 3)}

KINDS = {"undated", "dated", "named", "uncovered", "off-topic", "other-country", "follow-up", "wrong-country"}
ANSWERABLE = {"undated", "dated", "named", "other-country", "wrong-country"}
UNANSWERABLE = {"uncovered", "off-topic"}
SPLITS = {"tune", "heldout"}
FIELDS = {"id", "question", "kind", "split", "evidence", "latest", "years", "history"}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seed_year(doc: str) -> int:
    meta = SEED_DOCS[doc].with_suffix(".meta.yaml")
    if meta.exists():
        m = re.search(r"^date:\s*(\d{4})", meta.read_text(encoding="utf-8"), re.M)
        if m:
            return int(m.group(1))
    return SEED_FALLBACK_YEAR[doc]


def recency(doc: str) -> tuple[int, int]:
    if doc in KZ_DOCS:
        return (int(doc.split("-")[2]), 9)
    if doc in SEED_DOCS:
        return (seed_year(doc), 0)
    return OTHER_KEYS.get(doc, (0, 0))


_TEXTS: dict[str, list[str]] = {}


def texts(doc: str) -> list[str]:
    """The normalised text(s) in which a quote may be found."""
    if doc not in _TEXTS:
        path = DOCS[doc]
        out = []
        if path.suffix == ".html":
            import lxml.html
            raw = path.read_text(encoding="utf-8")
            try:  # an extractor independent of kzqa's, where installed (not a kzqa dependency)
                import trafilatura
                out.append(norm(trafilatura.extract(raw) or ""))
            except ImportError:
                pass
            tree = lxml.html.fromstring(raw)
            for bad in tree.xpath("//script|//style|//noscript"):
                bad.drop_tree()
            out.append(norm(tree.text_content()))
        elif path.suffix == ".pdf":
            import logging

            import pypdf
            logging.getLogger("pypdf").setLevel(logging.ERROR)
            reader = pypdf.PdfReader(str(path))
            out.append(norm("\n".join(p.extract_text() or "" for p in reader.pages)))
        else:
            out.append(norm(path.read_text(encoding="utf-8")))
        _TEXTS[doc] = out
    return _TEXTS[doc]


_BLOCKS: dict[str, list[str]] = {}


def blocks(doc: str) -> list[str]:
    """Blocks (paragraphs) of the text kzqa itself extracts from the document."""
    if doc not in _BLOCKS:
        sys.path.insert(0, str(KZQA_SRC))
        from kzqa.ingest.extract import extract
        path = DOCS[doc]
        text = (extract(path, path.read_bytes()).text if path.suffix in (".pdf", ".html")
                else path.read_text(encoding="utf-8"))
        _BLOCKS[doc] = [norm(b) for b in re.split(r"\n\s*\n", text)]
    return _BLOCKS[doc]


def main() -> int:
    errors: list[str] = []
    warnings: list[str] = []
    seen: set[str] = set()
    counts: collections.Counter = collections.Counter()
    n_quotes = 0
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        where = f"line {lineno}"
        if not line.strip():
            errors.append(f"{where}: empty line")
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append(f"{where}: invalid JSON ({err})")
            continue
        if not isinstance(q, dict) or set(q) - {"standalone"} != FIELDS:
            errors.append(f"{where}: fields {sorted(q) if isinstance(q, dict) else type(q)} != {sorted(FIELDS)}"
                          " (and, for a follow-up, standalone)")
            continue
        if "standalone" in q and (q["kind"] != "follow-up" or not isinstance(q["standalone"], str)
                                  or not q["standalone"].strip()):
            errors.append(f"{where}: standalone (the follow-up written without the conversation) "
                          "belongs to a follow-up and is a question")
        qid = q["id"]
        where = f"{qid} (line {lineno})"
        if not isinstance(qid, str) or not re.fullmatch(r"(lib|fresh)-\d{3}", qid):
            errors.append(f"{where}: bad id")
        if qid in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(qid)
        kind, split = q["kind"], q["split"]
        if kind not in KINDS:
            errors.append(f"{where}: unknown kind {kind!r}")
        if split not in SPLITS:
            errors.append(f"{where}: unknown split {split!r}")
        counts[(kind, split)] += 1
        if not isinstance(q["question"], str) or not q["question"].strip():
            errors.append(f"{where}: empty question")
        ev = q["evidence"]
        if not isinstance(ev, list):
            errors.append(f"{where}: evidence is not a list")
            continue
        docs, quotes = [], []
        for e in ev:
            if not isinstance(e, dict) or set(e) - {"judged"} != {"doc", "quote"}:
                errors.append(f"{where}: evidence item {e!r} must have doc and quote (and may say when it was judged)")
                continue
            doc, quote = e["doc"], e["quote"]
            if doc not in DOCS:
                errors.append(f"{where}: unknown doc {doc!r}")
                continue
            docs.append(doc)
            nq = norm(quote)
            quotes.append((doc, nq))
            words = len(nq.split())
            if not 6 <= words <= 20:
                errors.append(f"{where}: quote from {doc} has {words} words (6-20): {quote!r}")
            if "…" in quote or "..." in quote:
                errors.append(f"{where}: quote from {doc} contains an ellipsis")
            if not any(nq in t for t in texts(doc)):
                errors.append(f"{where}: quote not found in {doc}: {quote!r}")
            elif PASSAGES and not any(nq in b for b in blocks(doc)):
                errors.append(f"{where}: quote crosses a paragraph of kzqa's text of {doc}: {quote!r}")
            n_quotes += 1
        if len(set(quotes)) != len(quotes):
            errors.append(f"{where}: a quote appears twice in evidence")
        # latest
        expected = max(docs, key=recency) if docs else None
        if q["latest"] != expected:
            errors.append(f"{where}: latest {q['latest']!r} != most recent evidence doc {expected!r}")
        # kind rules
        if kind in ANSWERABLE and not docs:
            errors.append(f"{where}: kind {kind} needs evidence")
        if kind in UNANSWERABLE and docs:
            errors.append(f"{where}: kind {kind} must have no evidence")
        if kind == "wrong-country" and any(d in OTHER_DOCS for d in docs):
            errors.append(f"{where}: wrong-country evidence must come from Kazakhstan documents only")
        if kind == "other-country" and any(d not in OTHER_DOCS for d in docs):
            errors.append(f"{where}: other-country evidence must come from the other countries' documents")
        if kind in ("undated", "named") and any(d in OTHER_DOCS for d in docs):
            errors.append(f"{where}: Kazakhstan question with evidence from another country's document")
        # years / history
        years, history = q["years"], q["history"]
        if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
            errors.append(f"{where}: years must be a list of integers")
            years = []
        if not isinstance(history, list) or not all(isinstance(h, str) and h.strip() for h in history):
            errors.append(f"{where}: history must be a list of questions")
            history = []
        if kind == "dated":
            if not years:
                errors.append(f"{where}: dated question without years")
        if kind == "undated" and years:
            errors.append(f"{where}: undated question with years")
        for y in years:
            if f"usdos-hrr-{y}-kazakhstan" in KZ_DOCS and docs and any(d in KZ_DOCS for d in docs) \
                    and f"usdos-hrr-{y}-kazakhstan" not in docs:
                errors.append(f"{where}: year {y} listed but its edition is not in evidence")
        if kind == "follow-up" and not history:
            errors.append(f"{where}: follow-up without history")
        if kind != "follow-up" and history:
            errors.append(f"{where}: history on a non-follow-up question")
    # ids consecutive (informative)
    prefix = min(seen)[:-3] if seen else "lib-"
    ids = [f"{prefix}{i:03d}" for i in range(1, len(seen) + 1)]
    if sorted(seen) != ids:
        warnings.append(f"ids are not consecutive {prefix}001..")
    kinds = sorted({k for k, _ in counts})
    # a set split in halves: balanced per kind; the library set (lib-) also big enough
    if {s for _, s in counts} == SPLITS:
        for k in kinds:
            t, h = counts[(k, "tune")], counts[(k, "heldout")]
            # 2, not 1: a later judgement can move a question to another kind without
            # moving it to the other half (lib-102, judged answerable after all)
            if abs(t - h) > 2:
                errors.append(f"kind {k}: tune {t} vs heldout {h} not balanced")
        if prefix == "lib-" and len(seen) < 130:
            errors.append(f"only {len(seen)} questions (< 130)")

    print(f"{QUESTIONS}: {len(lines)} questions, {n_quotes} evidence quotes"
          + (" (each also checked inside one kzqa paragraph)" if PASSAGES else ""))
    print(f"{'kind':<15}{'tune':>6}{'heldout':>9}{'total':>7}")
    for k in kinds:
        t, h = counts[(k, "tune")], counts[(k, "heldout")]
        print(f"{k:<15}{t:>6}{h:>9}{t + h:>7}")
    t = sum(v for (k, s), v in counts.items() if s == "tune")
    h = sum(v for (k, s), v in counts.items() if s == "heldout")
    print(f"{'all':<15}{t:>6}{h:>9}{t + h:>7}")
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
