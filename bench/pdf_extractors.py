"""Three PDF text extractors on the library's PDFs: does the text show the words as the page does?

    .venv/bin/python bench/pdf_extractors.py [--library ../shared/library] [--runs 3]

kzqa quotes PDFs verbatim, so a word split by a stray space ("Kazakhsta n"), two words run
together ("humanrights") or a column read across is a misquotation. Extractors:

- pypdf: ``PdfReader(path).pages[i].extract_text()`` per page (what kzqa uses today);
- pdfium: pypdfium2's ``PdfDocument(data)``, per page ``get_textpage().get_text_range()``
  (PDFium ends lines with "\\r\\n" and marks a hyphen it takes for a line-end break as U+FFFE);
- pdfminer: pdfminer.six's ``extract_text`` with default ``LAParams()``.

Per file and extractor: split and joined words per 1,000 tokens (eval/word_fidelity.py; tokens
are runs of letters), line-end hyphens ("-" ending a line, or U+FFFE), and the median seconds of
--runs extractions in this process. Per extractor: the reading order of a generated two-column
page (fpdf2), whether the API gives each character's position and font size (tried on that
page), and the peak RSS of a child process extracting every file against a bare child that only
reads them (the child's own VmHWM: wait4 and RUSAGE_CHILDREN report the forked parent's ~100 MB).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import ROOT, machine, run_child

sys.path.insert(0, str(ROOT / "eval"))

DEFAULT_LIBRARY = ROOT.parent / "shared" / "library"
EXAMPLES = 8
HYPHEN_MARK = "\ufffe"  # PDFium: a hyphen it detected at a line end


def pypdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return "\n".join(page.extract_text() for page in reader.pages)


def pdfium_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path.read_bytes())
    pages = []
    try:
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return "\n".join(pages)


def pdfminer_text(path: Path) -> str:
    from pdfminer.high_level import extract_text
    from pdfminer.layout import LAParams

    return str(extract_text(path, laparams=LAParams()))


def kzqa_text(path: Path) -> str:
    """What kzqa stores: PDFium's characters, laid out by kzqa (word spaces the file sets by
    moving the pen, paragraphs, running heads, contents and notes left out)."""
    from kzqa.ingest.extract import extract

    return extract(path, path.read_bytes()).text


EXTRACTORS: dict[str, Callable[[Path], str]] = {"pypdf": pypdf_text, "pdfium": pdfium_text,
                                                 "pdfminer": pdfminer_text, "kzqa": kzqa_text}


def line_end_hyphens(text: str) -> tuple[int, int]:
    """(lines ending in "-", U+FFFE marks)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return sum(1 for line in lines if line.rstrip(" ").endswith("-")), text.count(HYPHEN_MARK)


# --- two columns ---------------------------------------------------------------------------

ROWS = 14


def two_column_pdf(path: Path, by_rows: bool) -> None:
    """One page, two columns of ROWS lines each ("left 01 ...", "right 01 ..."). The content
    stream holds them column by column, or row by row (left 01, right 01, left 02, ...): an
    extractor that follows the stream reads the second kind across the columns."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)  # lines 4.6 mm (13 pt) apart: one paragraph per column
    cells = [(col, row) for row in range(ROWS) for col in range(2)] if by_rows else \
            [(col, row) for col in range(2) for row in range(ROWS)]
    for col, row in cells:
        pdf.set_xy(15 + col * 100, 20 + row * 4.6)
        side = ("left", "right")[col]
        pdf.cell(85, 4.6, f"{side} {row + 1:02d} reading order of the {side} column", align="L")
    pdf.output(str(path))


def reads_columns_in_order(text: str) -> bool:
    """Every line of the left column, in order, before every line of the right column."""
    markers = re.findall(r"\b(left|right) (\d\d)\b", text)
    want = [("left", f"{r + 1:02d}") for r in range(ROWS)] + [("right", f"{r + 1:02d}") for r in range(ROWS)]
    return markers == want


def char_api(name: str, path: Path) -> tuple[str, str]:
    """(per-character positions, font sizes) as the extractor's API gives them, tried on ``path``."""
    if name == "kzqa":
        return "PDFium's (baselines, font boxes)", "PDFium's x text matrix, per line"
    if name == "pdfium":
        import pypdfium2
        import pypdfium2.raw as pdfium_c

        pdf = pypdfium2.PdfDocument(path.read_bytes())
        textpage = pdf[0].get_textpage()
        box = textpage.get_charbox(0)
        size = pdfium_c.FPDFText_GetFontSize(textpage, 0)
        pdf.close()
        return (f"yes (get_charbox: {box[0]:.0f},{box[1]:.0f})",
                f"yes (raw FPDFText_GetFontSize: {size:g})")
    if name == "pdfminer":
        from pdfminer.high_level import extract_pages
        from pdfminer.layout import LTChar, LTComponent, LTContainer

        def chars(item: LTComponent) -> list[LTChar]:
            if isinstance(item, LTChar):
                return [item]
            if isinstance(item, LTContainer):
                return [c for child in item for c in chars(child)]
            return []

        first = chars(next(iter(extract_pages(path))))[0]
        return f"yes (LTChar.bbox: {first.x0:.0f},{first.y0:.0f})", f"yes (LTChar.size: {first.size:g})"
    from pypdf import PdfReader

    runs: list[tuple[str, float]] = []
    PdfReader(path).pages[0].extract_text(
        visitor_text=lambda text, cm, tm, font, size: runs.append((text, size)) if text.strip() else None)
    return ("no (visitor_text: one matrix per text run)",
            f"per run (visitor_text font_size: {runs[0][1]:g})" if runs else "no")


def two_column_pages(path: Path) -> int:
    """Pages of ``path`` that look two-column: 5+ lines wholly in each half of the page, each line
    at least a quarter of the page wide, the halves overlapping in height (pdfminer's layout)."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer, LTTextLine

    found = 0
    for page in extract_pages(path):
        mid, quarter = page.width / 2, page.width / 4
        halves: list[list[LTTextLine]] = [[], []]
        for box in page:
            if not isinstance(box, LTTextContainer):
                continue
            for line in box:
                if not isinstance(line, LTTextLine) or line.width < quarter or not line.get_text().strip():
                    continue
                if line.x1 < mid:
                    halves[0].append(line)
                elif line.x0 > mid:
                    halves[1].append(line)
        if all(len(h) >= 5 for h in halves):
            tops = [max(x.y1 for x in h) for h in halves]
            bottoms = [min(x.y0 for x in h) for h in halves]
            if min(tops) > max(bottoms):
                found += 1
    return found


# --- measuring -------------------------------------------------------------------------------

def child(name: str, library: Path) -> None:
    """Extract every PDF of ``library`` with extractor ``name`` ("none": only read the files), then
    print this process's peak RSS in MB (VmHWM: since exec, unlike wait4's or RUSAGE_CHILDREN's
    ru_maxrss, which keep the peak of the parent's pages the child was forked with)."""
    for path in sorted(library.rglob("*.pdf")):
        data = path.read_bytes()
        if name != "none":
            EXTRACTORS[name](path)
        del data
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]) / 1024)


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if k == 0 else "---:" for k in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", type=Path, default=DEFAULT_LIBRARY,
                        help="folder searched recursively for *.pdf (default ../shared/library)")
    parser.add_argument("--runs", type=int, default=3, help="extractions per file and extractor (median)")
    parser.add_argument("--child", choices=[*EXTRACTORS, "none"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    library: Path = args.library.resolve()
    if not library.is_dir():
        raise SystemExit(f"no library folder at {library} (pass --library DIR)")
    if args.child:
        child(args.child, library)
        return 0
    files = sorted(library.rglob("*.pdf"))
    if not files:
        raise SystemExit(f"no PDF under {library}")

    from word_fidelity import joined_words, load_vocabulary, per_thousand, split_words

    vocabulary = load_vocabulary()
    print(machine())
    print(f"library: {library} ({len(files)} PDFs), {args.runs} runs per file, "
          f"{len(vocabulary)} vocabulary words\n")

    per_file: list[list[str]] = []
    examples: list[list[str]] = []
    totals: dict[str, dict[str, float]] = {}
    for name, extract in EXTRACTORS.items():
        total = totals.setdefault(name, dict.fromkeys(("tokens", "split", "joined", "hyphens", "marks", "s"), 0.0))
        for path in files:
            seconds = []
            text = ""
            for _ in range(args.runs):
                started = time.perf_counter()
                text = extract(path)
                seconds.append(time.perf_counter() - started)
            split = split_words(text, vocabulary)
            joined = joined_words(text, vocabulary)
            hyphens, marks = line_end_hyphens(text)
            tokens = round(1000 / per_thousand(1, text)) if per_thousand(1, text) else 0
            median = statistics.median(seconds)
            for key, value in (("tokens", tokens), ("split", len(split)), ("joined", len(joined)),
                               ("hyphens", hyphens), ("marks", marks), ("s", median)):
                total[key] += value
            rel = str(path.relative_to(library))
            per_file.append([rel, name, f"{tokens:,}", f"{per_thousand(len(split), text):.2f} ({len(split)})",
                             f"{per_thousand(len(joined), text):.2f} ({len(joined)})",
                             f"{hyphens}" + (f" + {marks} U+FFFE" if marks else ""), f"{median * 1000:.0f}"])
            shown = ", ".join(f"`{x} {y}`" for x, y in split[:EXAMPLES]) or "none"
            joined_shown = ", ".join(f"`{j}`" for j in joined[:EXAMPLES]) or "none"
            examples.append([rel, name, shown, joined_shown])
            print(f"  {name:<8} {rel}: {median * 1000:.0f} ms", file=sys.stderr, flush=True)

    print("## Per file\n")
    table(["file", "extractor", "tokens", "split /1k (n)", "joined /1k (n)", "line-end hyphens", "ms (median)"],
          per_file)
    print(f"## Examples (first {EXAMPLES} split words, first {EXAMPLES} joined words)\n")
    table(["file", "extractor", "split words", "joined words"], examples)

    print("## Two-column reading order\n")
    with tempfile.TemporaryDirectory() as tmp:
        pdfs = {by_rows: Path(tmp) / f"two-columns-{'rows' if by_rows else 'columns'}.pdf" for by_rows in (False, True)}
        for by_rows, path in pdfs.items():
            two_column_pdf(path, by_rows)
        order = {name: [reads_columns_in_order(extract(pdfs[False])), reads_columns_in_order(extract(pdfs[True]))]
                 for name, extract in EXTRACTORS.items()}
        api = {name: char_api(name, pdfs[False]) for name in EXTRACTORS}
    detected = {str(p.relative_to(library)): two_column_pages(p) for p in files}
    flagged = [f"{f} ({n} pages)" for f, n in detected.items() if n]
    print("Library pages that look two-column (pdfminer layout, 5+ quarter-page-wide lines in each half): "
          + (", ".join(flagged) if flagged else "none; the library has no two-column PDF, so the test below "
             "uses a generated page (fpdf2, two columns of 14 lines)") + ".\n")
    table(["extractor", "stream column by column", "stream row by row (interleaved)"],
          [[n, *("pass" if ok else "FAIL" for ok in order[n])] for n in EXTRACTORS])

    print("## Peak memory (a child process extracting all files)\n")
    script = str(Path(__file__).resolve())
    base_wall, _, out, _ = run_child([sys.executable, script, "--library", str(library), "--child", "none"])
    base_mb = float(out)
    memory = {}
    for name in EXTRACTORS:
        wall, _, out, _ = run_child([sys.executable, script, "--library", str(library), "--child", name])
        memory[name] = (wall, float(out))
    table(["process", "peak RSS MB", "x baseline", "wall s"],
          [["baseline (reads the files)", f"{base_mb:.1f}", "1.00", f"{base_wall:.2f}"]]
          + [[n, f"{mb:.1f}", f"{mb / base_mb:.2f}", f"{wall:.2f}"] for n, (wall, mb) in memory.items()])

    print("## Summary (all files)\n")
    rows = []
    for name, t in totals.items():
        rows.append([name, f"{1000 * t['split'] / t['tokens']:.2f}", f"{1000 * t['joined'] / t['tokens']:.2f}",
                     f"{t['hyphens']:.0f}" + (f" + {t['marks']:.0f} U+FFFE" if t["marks"] else ""),
                     "/".join("pass" if ok else "FAIL" for ok in order[name]),
                     api[name][0], api[name][1], f"{t['s'] * 1000:.0f}",
                     f"{memory[name][1]:.1f} ({memory[name][1] / base_mb:.2f}x)"])
    table(["extractor", "split /1k", "joined /1k", "line-end hyphens", "two columns (col/row stream)",
           "char positions", "font sizes", "ms all files (sum of medians)", "peak MB (x baseline)"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
