#!/usr/bin/env python3
"""Check eval/plain-questions.jsonl (plain-word questions over the default Kazakhstan library).

For every line: valid JSON, expected fields, ids plain-NNN unique and consecutive, kind
undated|uncovered, split tune|heldout, judged present; every evidence quote 6-20 words, no
ellipsis, found verbatim (whitespace-normalised) inside ONE block of `kzqa passages --json`
for its document (the text kzqa indexes); no duplicate quotes; `latest` = the most recent
evidence document (USDOS editions by year reported; UN UPR reports 2010/2014; the Foreign
Affairs article 2016; limited-political-freedoms 2023 as in check_library_questions.py, a
State Department edition winning a tie); uncovered questions have no evidence and latest
null; "superseded" only true and never on an evidence item of the latest document; tune /
heldout balanced (difference <= 1) per kind and among rule questions.
Run:  /work/main/.venv/bin/python eval/check_plain_questions.py [FILE]
"""
from __future__ import annotations

import collections
import json
import re
import subprocess
import sys
from pathlib import Path

MAIN = Path(__file__).resolve().parent.parent
FILE = Path(sys.argv[1]) if len(sys.argv) > 1 else MAIN / "eval" / "plain-questions.jsonl"
CORPUS = MAIN / "build" / "kazakhstan" / "corpus"
KZQA = MAIN / ".venv" / "bin" / "kzqa"
RECENCY = {f"usdos-hrr-{y}-kazakhstan": (y, 9) for y in range(2016, 2025)}
RECENCY.update({"un-upr-2010-kazakhstan-a-hrc-14-10": (2010, 5), "un-upr-2014-kazakhstan-a-hrc-28-10": (2014, 5),
                "kazakhstans-human-rights-crackdown": (2016, 0), "limited-political-freedoms-kazakhstan": (2023, 0)})
FIELDS = {"id", "question", "kind", "split", "evidence", "latest", "years", "history", "judged"}
_B: dict[str, list[str]] = {}


def norm(t: str) -> str:
    return re.sub(r"\s+", " ", t).strip()


def blocks(doc: str) -> list[str]:
    if doc not in _B:
        path = next(p for p in CORPUS.iterdir() if p.stem == doc and p.suffix in (".html", ".pdf", ".txt"))
        out = subprocess.run([str(KZQA), "passages", str(path), "--json"], cwd=MAIN, capture_output=True,
                             text=True, check=True).stdout
        _B[doc] = [norm(json.loads(row)["text"]) for row in out.splitlines() if row.strip()]
    return _B[doc]


def main() -> int:
    errors, seen, counts, nq = [], [], collections.Counter(), 0
    rules = collections.Counter()
    lines = FILE.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: bad JSON {e}")
            continue
        w = f"{q.get('id')} (line {n})"
        if not FIELDS <= set(q) or set(q) - FIELDS - {"rule"}:
            errors.append(f"{w}: fields {sorted(q)}")
            continue
        if not re.fullmatch(r"plain-\d{3}", q["id"]) or q["id"] in seen:
            errors.append(f"{w}: bad or duplicate id")
        seen.append(q["id"])
        if q["kind"] not in ("undated", "uncovered"):
            errors.append(f"{w}: kind {q['kind']}")
        if q["split"] not in ("tune", "heldout"):
            errors.append(f"{w}: split {q['split']}")
        if "rule" in q and q["rule"] is not True:
            errors.append(f"{w}: rule must be true or absent")
        if q["years"] or q["history"]:
            errors.append(f"{w}: years/history must be empty")
        if not q["question"].strip():
            errors.append(f"{w}: empty question")
        counts[(q["kind"], q["split"])] += 1
        if q.get("rule"):
            rules[q["split"]] += 1
        docs, seenq = [], set()
        for e in q["evidence"]:
            if set(e) - {"superseded"} != {"doc", "quote"} or e.get("superseded", True) is not True:
                errors.append(f"{w}: evidence item fields {sorted(e)}")
                continue
            doc, quote = e["doc"], norm(e["quote"])
            if doc not in RECENCY:
                errors.append(f"{w}: unknown doc {doc}")
                continue
            docs.append(doc)
            nq += 1
            if (doc, quote) in seenq:
                errors.append(f"{w}: duplicate quote")
            seenq.add((doc, quote))
            k = len(quote.split())
            if not 6 <= k <= 20:
                errors.append(f"{w}: {k} words in quote from {doc}: {quote!r}")
            if "..." in quote or "…" in quote:
                errors.append(f"{w}: ellipsis in quote")
            if not any(quote in b for b in blocks(doc)):
                errors.append(f"{w}: quote not inside one kzqa block of {doc}: {quote!r}")
        latest = max(docs, key=RECENCY.__getitem__) if docs else None
        if q["latest"] != latest:
            errors.append(f"{w}: latest {q['latest']} != {latest}")
        if q["kind"] == "undated" and not docs:
            errors.append(f"{w}: answerable question without evidence")
        if q["kind"] == "uncovered" and docs:
            errors.append(f"{w}: uncovered question with evidence")
        if any(e.get("superseded") and e["doc"] == latest for e in q["evidence"]):
            errors.append(f"{w}: an item of the latest document is marked superseded")
    if seen != [f"plain-{i:03d}" for i in range(1, len(seen) + 1)]:
        errors.append("ids not consecutive plain-001..")
    for k in sorted({k for k, _ in counts}):
        if abs(counts[(k, "tune")] - counts[(k, "heldout")]) > 1:
            errors.append(f"kind {k} unbalanced")
    if abs(rules["tune"] - rules["heldout"]) > 1:
        errors.append("rule questions unbalanced")
    print(f"{FILE}: {len(lines)} questions, {nq} evidence quotes (each checked inside one kzqa block)")
    print(f"{'kind':<12}{'tune':>6}{'heldout':>9}{'total':>7}")
    for k in sorted({k for k, _ in counts}):
        print(f"{k:<12}{counts[(k,'tune')]:>6}{counts[(k,'heldout')]:>9}{counts[(k,'tune')]+counts[(k,'heldout')]:>7}")
    print(f"{'rule: true':<12}{rules['tune']:>6}{rules['heldout']:>9}{sum(rules.values()):>7}")
    sup = sum(1 for row in lines for e in json.loads(row)["evidence"] if e.get("superseded"))
    print(f"superseded evidence items: {sup}")
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main())
