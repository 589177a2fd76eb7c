"""How well kzqa reads real documents it was never tuned on: words, contents, title, date, headings, sentences.

    .venv/bin/python eval/documents.py eval/heldout-documents.jsonl --docs FOLDER [--set tune|judge|judge2|all] [--json]

The JSONL file lists the documents and what a reader sees in them (one JSON object a line: set, file,
title, date, publisher, headings, sentences, ...; and repo, commit, path, sha256, licence, so that the
same bytes can be fetched again). The documents themselves are never copied into the repository: pass
the folder that holds them with --docs (``file`` is relative to it). A file that is missing or whose
sha256 differs is skipped with a one-line message.

Each document is read exactly as ``kzqa passages FILE`` reads it (``read_document`` and
``make_passages``), and checked for what a quoting reader needs:

- split words ("Kazakhsta n") and joined words ("humanrights") per 1,000 tokens of the passages' text
  (eval/word_fidelity.py);
- contents passages: passages holding a dot leader (five dots or more, or ". . . . .") or entries of a
  contents page (lines ending in page numbers); there should be none;
- title: kzqa's against the expected one (exact; loose: case, punctuation and spacing aside, one
  containing the other), and whether kzqa's title is junk (a file name, "Microsoft Word - ...", a
  placeholder such as "Untitled", the file's own name turned into words (kzqa's fallback), or capitals
  inside two words or more, as small capitals extract: "AmNesTy INTerNATIoNAl");
- author: junk (one token with no space, "default", "user", ...);
- date: exact, same year, wrong, or none (kzqa gave none: better than a wrong date);
- publisher: the expected one contained in kzqa's or the other way round, or empty;
- headings: each expected heading inside some passage's section path;
- sentences: each expected sentence whole inside one passage (spacing and line breaks aside; a hyphen at a
  line end tried both kept and dropped), and anywhere in the extracted text;
- every passage an exact slice of the extracted text (all should be).

Prints a Markdown table per set with a totals row, then the misses; with --json one JSON object per
document instead. Exit status: 0; 1 when kzqa crashed on a document (its traceback is printed on stderr);
2 when no document could be read.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # eval/: word_fidelity, as bench/pdf_extractors.py does

from word_fidelity import joined_words, load_vocabulary, per_thousand, split_words  # noqa: E402

EXAMPLES = 5  # split / joined words shown per document
SECTION_SEPARATOR = " — "  # how kzqa joins a passage's section path (kzqa.citation.SECTION_SEPARATOR)
SETS = ("tune", "judge", "judge2")

# --- contents passages -------------------------------------------------------------------------------
_DOT_LEADER = re.compile(r"\.{5,}|(?:\. ){4,}\.|…{2,}|(?:…\s*){2,}")
# a contents entry: words, then (a paragraph range and) a page number at the line's end
# ("B. Interactive dialogue 9 - 107 4", "Introduction 1 – 4 3", "Cuba/118", "Annex 22")
_ENTRY = re.compile(r"^(?=.*[^\W\d_]).{2,160}?(?:\s|/)(?:\d{1,3}\s*[-–—]\s*\d{1,3}\s+)?(\d{1,3})$")
_UN_ENTRY = re.compile(r"^(?=.*[^\W\d_]).{2,160}?\s\d{1,3}\s*[-–—]\s*\d{1,3}\s+(\d{1,3})$")

# --- title and author junk ----------------------------------------------------------------------------
_FILE_NAME = re.compile(r"\.(?:docx?|pdf|rtf|odt|txt|html?|indd|qxd|qxp|p65|pm\d|wpd|xlsx?|pptx?|tex|dvi|ps|eps)$",
                        re.I)
_PLACEHOLDERS = frozenset({"default", "untitled", "untitled document", "title", "document", "no title", "none",
                           "unknown", "word document", "microsoft word document", "powerpoint presentation",
                           "slide 1", "new document", "doc", "pdf", "template", "adobe acrobat"})
_AUTHOR_PLACEHOLDERS = frozenset({"default", "user", "admin", "administrator", "owner", "unknown", "author",
                                  "none", "authorised user", "authorized user", "windows user", "microsoft",
                                  "pc", "hp", "dell", "lenovo", "registered user", "valued customer"})

# --- headings -----------------------------------------------------------------------------------------
_NOTE_MARK = re.compile(r"(?:\s*[*†‡¹²³⁴⁵⁶⁷⁸⁹⁰]+|(?<=[^\W\d_])\d{1,2}|(?<=[^\W\d_][.:)])\d{1,2})$")


def _squash(text: str) -> str:
    return " ".join(text.split())


def _loose(text: str) -> str:
    """Case, punctuation and spacing aside ("World’s" and "worlds" alike)."""
    return " ".join(re.sub(r"[\W_]+", " ", re.sub(r"[’'`]", "", text.casefold())).split())


def _contains_either(a: str, b: str) -> bool:
    """Whether one of two loose strings holds the other as whole words."""
    return bool(a and b) and (f" {a} " in f" {b} " or f" {b} " in f" {a} ")


def _heading_key(text: str) -> str:
    text = _squash(text)
    while (stripped := _NOTE_MARK.sub("", text).rstrip()) != text:
        text = stripped
    return text


def _variants(text: str) -> list[str]:
    """``text`` with all whitespace runs made one space; then with a hyphen at a line end kept but
    the line break dropped ("inter-\\npretable" -> "inter-pretable"), and dropped with it ("interpretable")."""
    out = [_squash(text)]
    if re.search(r"-[ \t]*\n", text):
        out.append(_squash(re.sub(r"-[ \t]*\n\s*", "-", text)))
        out.append(_squash(re.sub(r"-[ \t]*\n\s*", "", text)))
    return out


def _as_printed(sentence: str) -> re.Pattern[str]:
    """The sentence as a pattern that matches it as laid out on the page: any run of spaces and
    line breaks where it has a space, and each line break after a hyphen that the page may put
    inside a word ("gen-" / "eralised" for "generalised"; "transaction-" / "based" for
    "transaction-based"). Nothing else may differ: a split or a joined word does not match."""
    parts: list[str] = []
    for ch in " ".join(sentence.split()):
        if ch == " ":
            parts.append(r"\s+")
        elif ch == "-":
            parts.append(r"-[ \t]*(?:\n\s*)?")
        else:
            parts.append(re.escape(ch) + (r"(?:-[ \t]*\n\s*)?" if ch.isalpha() else ""))
    return re.compile("".join(parts))


def _stem_words(file: str) -> str:
    """The file's name turned into words, as kzqa does when it finds no title."""
    stem = file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else file


def title_junk(title: str, file: str) -> str:
    """Why ``title`` is no title (a file name, a placeholder, ...); "" when it may be one."""
    t = title.strip()
    if not t:
        return "empty"
    if _FILE_NAME.search(t):
        return "a file name"
    if re.match(r"microsoft (word|powerpoint|excel)\s*-", t, re.I):
        return "'Microsoft Word - ...'"
    if "_" in t and " " not in t:
        return "a file name (underscores, no space)"
    if _loose(t) == _loose(_stem_words(file)):
        return "the file's name (kzqa's fallback)"
    if t.casefold() in _PLACEHOLDERS:
        return "a placeholder"
    if sum(1 for w in re.findall(r"[^\W\d_]+", t)
           if re.search(r"[a-z][A-Z]", w) and not re.match(r"(?:Mc|Mac|[ie])[A-Z]", w)) >= 2:
        return "garbled case (capitals inside words)"
    return ""


def author_junk(author: str | None) -> str:
    if not author:
        return ""
    a = author.strip()
    if a.casefold() in _AUTHOR_PLACEHOLDERS:
        return "a placeholder"
    if " " not in a:
        return "one token"
    if _FILE_NAME.search(a):
        return "a file name"
    return ""


def date_verdict(got: str | None, want: str) -> str:
    """exact | year (same year, not the same date) | wrong | none (kzqa gave none) | n/a (none expected)."""
    if not want:
        return "n/a"
    if not got:
        return "none"
    if got == want:
        return "exact"
    if got[:4] == want[:4]:
        return "year"
    return "wrong"


def publisher_verdict(got: str | None, want: str) -> str:
    """ok (one contains the other, loosely) | wrong | empty (kzqa gave none) | n/a (none expected)."""
    if not want:
        return "n/a"
    if not got or not got.strip():
        return "empty"
    return "ok" if _contains_either(_loose(got), _loose(want)) else "wrong"


def contents_reason(text: str) -> str:
    """Why a passage looks like part of a table of contents; "" when it does not."""
    if _DOT_LEADER.search(text):
        return "dot leader"
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    if not lines:
        return ""
    if len(lines) <= 2 and all(_UN_ENTRY.match(x) for x in lines):
        return "contents entry (paragraphs and page)"
    pages = [int(m[1]) for x in lines if (m := _ENTRY.match(x)) and not x.rstrip()[-5:-1].count(".")]
    if len(pages) >= 3 and 2 * len(pages) >= len(lines) and pages == sorted(pages):
        return f"{len(pages)} of {len(lines)} lines end in ascending page numbers"
    return ""


def _nearest(sentence: str, texts: list[str]) -> str:
    """The stretch of ``texts`` (collapsed passages) most like ``sentence``, for a miss report."""
    want = set(re.findall(r"\w+", sentence.casefold()))
    if not want or not texts:
        return ""
    ranked = sorted(texts, key=lambda t: -len(want & set(re.findall(r"\w+", t.casefold()))))[:3]
    best, best_ratio = "", -1.0
    n = len(sentence)
    for text in ranked:
        starts = [0] + [m.end() for m in re.finditer(r"\s", text)]
        for s in starts:
            window = text[s:s + n + 20]
            matcher = difflib.SequenceMatcher(None, sentence, window, autojunk=False)
            if matcher.quick_ratio() <= best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = window, ratio
    return best


@dataclass
class Report:
    record: dict[str, Any]
    passages: int = 0
    tokens: int = 0
    split: list[tuple[str, str]] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    contents: list[tuple[str, str, str]] = field(default_factory=list)  # (passage id, reason, text)
    title: str = ""
    subtitle: str | None = None
    title_exact: bool = False
    title_loose: bool = False
    title_junk: str = ""
    author: str | None = None
    author_junk: str = ""
    date: str | None = None
    date_verdict: str = ""
    publisher: str | None = None
    publisher_verdict: str = ""
    headings_found: list[str] = field(default_factory=list)
    headings_missed: list[tuple[str, str]] = field(default_factory=list)  # (heading, found ignoring case in)
    sentences_in_passage: list[str] = field(default_factory=list)
    sentences_in_text_only: list[str] = field(default_factory=list)
    sentences_missed: list[tuple[str, str]] = field(default_factory=list)  # (sentence, nearest passage text)
    exact_slices: int = 0

    @property
    def file(self) -> str:
        return str(self.record["file"])

    def _per_1k(self, count: int) -> float:
        return round(1000 * count / self.tokens, 3) if self.tokens else 0.0

    def as_json(self) -> dict[str, Any]:
        r = self.record
        sentences = len(r.get("sentences") or [])
        return {
            "set": r.get("set"), "file": self.file, "passages": self.passages, "tokens": self.tokens,
            "split_per_1k": self._per_1k(len(self.split)),
            "split": len(self.split), "split_examples": [f"{x} {y}" for x, y in self.split[:EXAMPLES]],
            "joined_per_1k": self._per_1k(len(self.joined)),
            "joined": len(self.joined), "joined_examples": self.joined[:EXAMPLES],
            "contents_passages": [{"id": i, "reason": why, "text": text[:200]} for i, why, text in self.contents],
            "title": self.title, "subtitle": self.subtitle, "expected_title": r.get("title", ""),
            "title_exact": self.title_exact, "title_loose": self.title_loose, "title_junk": self.title_junk,
            "author": self.author, "author_junk": self.author_junk,
            "date": self.date, "expected_date": r.get("date", ""), "date_verdict": self.date_verdict,
            "publisher": self.publisher, "expected_publisher": r.get("publisher", ""),
            "publisher_verdict": self.publisher_verdict,
            "headings": len(r.get("headings") or []), "headings_found": len(self.headings_found),
            "headings_missed": [h for h, _ in self.headings_missed],
            "sentences": sentences, "sentences_in_passage": len(self.sentences_in_passage),
            "sentences_in_text": len(self.sentences_in_passage) + len(self.sentences_in_text_only),
            "sentences_missed": [{"sentence": s, "nearest": near} for s, near in self.sentences_missed],
            "sentences_in_text_not_in_one_passage": self.sentences_in_text_only,
            "exact_slices": self.exact_slices,
        }


def check(path: Path, record: dict[str, Any], vocabulary: frozenset[str]) -> Report:
    """Reads ``path`` as ``kzqa passages`` does and measures it against ``record``."""
    from kzqa.ingest.corpus import read_document
    from kzqa.ingest.passages import make_passages

    doc = read_document(path, path.name)
    passages = make_passages(doc)
    rep = Report(record)
    rep.passages = len(passages)
    text = "\n\n".join(p.text for p in passages)
    rate = per_thousand(1, text)  # 1,000 / tokens: the tokens as word_fidelity counts them (runs of letters)
    rep.tokens = round(1000 / rate) if rate else 0
    rep.split = split_words(text, vocabulary)
    rep.joined = joined_words(text, vocabulary)
    for p in passages:
        if why := contents_reason(p.text):
            rep.contents.append((p.id, why, p.text))
    rep.exact_slices = sum(1 for p in passages if doc.text[p.start:p.end] == p.text)

    source = doc.source
    want_title = str(record.get("title") or "")
    rep.title, rep.subtitle = source.title, source.subtitle
    rep.title_exact = source.title == want_title
    rep.title_loose = _contains_either(_loose(source.title), _loose(want_title))
    rep.title_junk = title_junk(source.title, path.name)
    rep.author, rep.author_junk = source.author, author_junk(source.author)
    rep.date, rep.date_verdict = source.date, date_verdict(source.date, str(record.get("date") or ""))
    rep.publisher = source.publisher
    rep.publisher_verdict = publisher_verdict(source.publisher, str(record.get("publisher") or ""))

    sections = [_heading_key(p.section) for p in passages if p.section]
    for heading in record.get("headings") or []:
        key = _heading_key(heading)
        if any(key in s for s in sections):
            rep.headings_found.append(heading)
        else:
            near = next((s for s in sections if key.casefold() in s.casefold()), "")
            rep.headings_missed.append((heading, near))

    collapsed = [_variants(p.text) for p in passages]
    for sentence in record.get("sentences") or []:
        s = _squash(sentence)
        pattern = _as_printed(sentence)
        if any(pattern.search(p.text) for p in passages):
            rep.sentences_in_passage.append(sentence)
        elif pattern.search(doc.text):
            rep.sentences_in_text_only.append(sentence)
        else:
            rep.sentences_missed.append((sentence, _nearest(s, [vs[-1] for vs in collapsed])))
    return rep


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}:{number}: not a JSON line ({e.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("file"), str):
            raise SystemExit(f'{path}:{number}: each line needs a "file" string')
        records.append(obj)
    return records


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ratio(n: int, total: int) -> str:
    return f"{n}/{total}"


def _short(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def print_table(set_name: str, reports: list[Report]) -> None:
    print(f"## {set_name} ({len(reports)} documents)\n")
    head = ["document", "passages", "split /1k (n)", "joined /1k (n)", "contents", "title exact/loose",
            "title junk", "author junk", "date", "publisher", "headings", "sentences in a passage",
            "sentences in text", "exact slices"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    tot: dict[str, int] = dict.fromkeys(("passages", "tokens", "split", "joined", "contents", "exact", "loose",
                                         "junk", "ajunk", "h", "hf", "s", "sp", "st", "slices"), 0)
    verdicts: dict[str, dict[str, int]] = {"date": {}, "publisher": {}}
    for r in reports:
        j = r.as_json()
        tot["passages"] += r.passages
        tot["tokens"] += r.tokens
        tot["split"] += len(r.split)
        tot["joined"] += len(r.joined)
        tot["contents"] += len(r.contents)
        tot["exact"] += r.title_exact
        tot["loose"] += r.title_loose
        tot["junk"] += bool(r.title_junk)
        tot["ajunk"] += bool(r.author_junk)
        tot["h"] += j["headings"]
        tot["hf"] += j["headings_found"]
        tot["s"] += j["sentences"]
        tot["sp"] += j["sentences_in_passage"]
        tot["st"] += j["sentences_in_text"]
        tot["slices"] += r.exact_slices
        for key, verdict in (("date", r.date_verdict), ("publisher", r.publisher_verdict)):
            verdicts[key][verdict] = verdicts[key].get(verdict, 0) + 1
        row = [_short(r.file), str(r.passages), f"{j['split_per_1k']:.2f} ({len(r.split)})",
               f"{j['joined_per_1k']:.2f} ({len(r.joined)})", str(len(r.contents)),
               f"{'yes' if r.title_exact else 'no'}/{'yes' if r.title_loose else 'no'}",
               r.title_junk or "-", r.author_junk or "-", r.date_verdict, r.publisher_verdict,
               _ratio(j["headings_found"], j["headings"]), _ratio(j["sentences_in_passage"], j["sentences"]),
               _ratio(j["sentences_in_text"], j["sentences"]), _ratio(r.exact_slices, r.passages)]
        print("| " + " | ".join(_cell(c) for c in row) + " |")
    n = len(reports)

    def per_1k(count: int) -> str:
        return f"{1000 * count / tot['tokens']:.2f}" if tot["tokens"] else "0.00"

    def counted(v: dict[str, int]) -> str:
        return ", ".join(f"{k} {c}" for k, c in sorted(v.items()))

    total = ["**total**", str(tot["passages"]), f"{per_1k(tot['split'])} ({tot['split']})",
             f"{per_1k(tot['joined'])} ({tot['joined']})", str(tot["contents"]),
             f"{tot['exact']}/{n} exact, {tot['loose']}/{n} loose", f"{tot['junk']}/{n}", f"{tot['ajunk']}/{n}",
             counted(verdicts["date"]), counted(verdicts["publisher"]), _ratio(tot["hf"], tot["h"]),
             _ratio(tot["sp"], tot["s"]), _ratio(tot["st"], tot["s"]), _ratio(tot["slices"], tot["passages"])]
    print("| " + " | ".join(_cell(c) for c in total) + " |\n")


def print_misses(reports: list[Report]) -> None:
    print("### Misses\n")
    any_miss = False
    for r in reports:
        lines: list[str] = []
        want = r.record
        if r.split or r.joined:
            lines.append("split words: " + (", ".join(f"`{x} {y}`" for x, y in r.split[:EXAMPLES]) or "none")
                         + "; joined words: " + (", ".join(f"`{w}`" for w in r.joined[:EXAMPLES]) or "none"))
        for pid, why, text in r.contents[:3]:
            lines.append(f"contents passage {pid} ({why}): `{_squash(text)[:120]}`")
        if len(r.contents) > 3:
            lines.append(f"... and {len(r.contents) - 3} more contents passages")
        if not r.title_exact or r.title_junk:
            sub = f" (subtitle {r.subtitle!r})" if r.subtitle else ""
            verdict = "junk: " + r.title_junk if r.title_junk else ("loose match" if r.title_loose else "WRONG")
            lines.append(f"title ({verdict}): kzqa {r.title!r}{sub}; expected {want.get('title', '')!r}")
        if r.author_junk:
            lines.append(f"author ({r.author_junk}): {r.author!r}")
        if r.date_verdict not in ("exact", "n/a"):
            lines.append(f"date ({r.date_verdict}): kzqa {r.date!r}; expected {want.get('date', '')!r}")
        if r.publisher_verdict not in ("ok", "n/a"):
            lines.append(f"publisher ({r.publisher_verdict}): kzqa {r.publisher!r}; "
                         f"expected {want.get('publisher', '')!r}")
        for heading, near in r.headings_missed:
            extra = f" (found ignoring case in {near!r})" if near else ""
            lines.append(f"heading missing: {heading!r}{extra}")
        for sentence in r.sentences_in_text_only:
            lines.append(f"sentence in the text but not whole in one passage: {sentence!r}")
        for sentence, near in r.sentences_missed:
            lines.append(f"sentence not found: {sentence!r}\n    nearest passage text: {near!r}")
        if r.exact_slices != r.passages:
            lines.append(f"NOT EXACT SLICES: {r.passages - r.exact_slices} of {r.passages} passages")
        if lines:
            any_miss = True
            print(f"- **{_short(r.file)}**")
            for line in lines:
                print(f"  - {line}")
    if not any_miss:
        print("none")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="eval/documents.py",
        description="Check how kzqa reads held-out documents (PDF, HTML) against what a reader sees in them: "
                    "split and joined words, contents passages, title, author, date, publisher, headings, "
                    "sentences, exact slices. Reads each document as `kzqa passages FILE` does.",
        epilog="Example: .venv/bin/python eval/documents.py eval/heldout-documents.jsonl --docs /work/heldout "
               "--set all. A missing file or one whose sha256 differs from the JSONL is skipped with a message; "
               "exit status 2 when no document could be read, 1 when kzqa crashed on one (traceback on stderr).")
    parser.add_argument("expected", type=Path,
                        help="JSONL file: one object per document (set, file, title, date, publisher, headings, "
                             "sentences, sha256, ...)")
    parser.add_argument("--docs", type=Path, required=True,
                        help="folder holding the documents; each record's 'file' is relative to it")
    parser.add_argument("--set", choices=[*SETS, "all"], default="all",
                        help="which documents: 'tune' (looked at while changing extraction), 'judge' (held out "
                             "for judging), or 'all' (default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per document instead of tables")
    args = parser.parse_args()

    if not args.expected.is_file():
        raise SystemExit(f"no such file: {args.expected}")
    records = [r for r in load_records(args.expected) if args.set == "all" or r.get("set") == args.set]
    if not records:
        print(f"no documents of set {args.set!r} in {args.expected}", file=sys.stderr)
        return 2
    docs: Path = args.docs
    folder_missing = not docs.is_dir()
    vocabulary = load_vocabulary()
    reports: list[Report] = []
    crashed = 0
    for record in records:
        file = record["file"]
        path = docs / file
        if folder_missing:
            print(f"skip {file}: the documents folder {docs} does not exist", file=sys.stderr)
            continue
        if not path.is_file():
            print(f"skip {file}: no such file under {docs}", file=sys.stderr)
            continue
        want = record.get("sha256")
        if want and (got := _sha256(path)) != want:
            print(f"skip {file}: sha256 {got[:12]}... differs from the expected {str(want)[:12]}... "
                  f"(not the same bytes; fetch {record.get('repo')}@{str(record.get('commit'))[:10]}:"
                  f"{record.get('path')})", file=sys.stderr)
            continue
        try:
            reports.append(check(path, record, vocabulary))
        except Exception as e:  # a document kzqa refuses, or a crash inside kzqa: report, go on
            from kzqa.ingest.corpus import DocumentProblem

            if isinstance(e, DocumentProblem):
                print(f"skip {file}: kzqa cannot read it: {e.reason}", file=sys.stderr)
            else:
                crashed += 1
                print(f"CRASH in kzqa on {file}:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
    if not reports:
        print("no document could be read", file=sys.stderr)
        return 2

    if args.json:
        for r in reports:
            print(json.dumps(r.as_json(), ensure_ascii=False))
    else:
        print(f"{len(reports)} of {len(records)} documents read from {docs}; "
              f"{len(vocabulary):,} vocabulary words\n")
        for set_name in SETS:
            chosen = [r for r in reports if r.record.get("set") == set_name]
            if chosen:
                print_table(set_name, chosen)
                print_misses(chosen)
        other = [r for r in reports if r.record.get("set") not in SETS]
        if other:
            print_table("other", other)
            print_misses(other)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
