"""What each ``kzqa`` command does (``kzqa.cli.main`` reads the arguments): thin calls into
the library, and the printing of their results for people (or as JSON lines).
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kzqa.errors import KzqaError
from kzqa.search.filters import Filter

if TYPE_CHECKING:
    from kzqa.indexing.indexer import BuildReport

EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

METADATA_FLAGS = {
    "title": None, "subtitle": None, "author": None, "publisher": None,
    "date": "publication date: YYYY, YYYY-MM or YYYY-MM-DD", "url": "where it is published",
    "language": None, "country": "the country it is about", "covers": "the year(s) it reports on: "
    "YYYY or YYYY-YYYY",
}


def warn_misfit(qa: Any) -> None:
    misfit = qa.settings.abstention.misfit(len(qa.passages))
    if misfit:
        print(f"kzqa: warning: {misfit}", file=sys.stderr)


def _filters(args: argparse.Namespace) -> Filter | None:
    chosen = Filter.of(args.document, args.publisher, args.country, args.since, args.until)
    return None if chosen.empty else chosen


def run_build(args: argparse.Namespace) -> int:
    import kzqa
    from kzqa.storage.paths import default_corpus_dir

    corpus = args.corpus or default_corpus_dir()
    with ProgressBar(f"Embedding the passages of {corpus}") as bar:
        report = kzqa.build(corpus, args.index, skip_invalid=args.skip_invalid, progress=bar.update,
                            model=args.model, max_chars=args.max_chars,
                            vector_index=args.vector_index, **overrides(args))
    for problem in report.skipped:
        print(f"kzqa: skipped {problem}", file=sys.stderr)
    for name in report.ignored:
        print(f"kzqa: ignored {name} (not a .txt, .md, .pdf or .html file)", file=sys.stderr)
    _report_build(report)
    return EXIT_SOME_FAILED if report.skipped else EXIT_OK


def run_library(args: argparse.Namespace) -> int:
    from kzqa.indexing import library

    if args.source is not None and not args.source.is_dir():
        raise KzqaError(f"--from {args.source}: no such folder")
    say = library.Progress(lambda line: print(line, file=sys.stderr, flush=True))
    index = library.build(source=args.source, mirror=args.mirror, progress=say)
    print(f"Ready: kzqa ask, kzqa serve and kzqa.load() answer from {index}.", file=sys.stderr)
    return EXIT_OK


def run_add(args: argparse.Namespace) -> int:
    import kzqa

    if not args.files and not args.source_list:
        raise KzqaError("name the documents to add (files or addresses), or a --source-list")
    if args.source and not args.source_list:
        raise KzqaError("--from names the local copy of a --source-list")
    meta = {k: getattr(args, k) for k in METADATA_FLAGS}
    with ProgressBar("Embedding the new passages") as bar:
        change = kzqa.add(args.files, args.corpus, args.index, metadata=meta, collection=args.source_list,
                          source=args.source, progress=bar.update,
                          notify=lambda line: print(line, file=sys.stderr, flush=True))
    for name in change.unchanged:
        print(f"kzqa: {name} is already in the corpus, unchanged", file=sys.stderr)
    for problem in change.refused:
        print(f"kzqa: not added {problem}", file=sys.stderr)
    if change.documents:
        print(f"Added {', '.join(change.documents)}.", file=sys.stderr)
    for cited in change.cited:
        print(f"  cited as: {cited}", file=sys.stderr)
    for update in change.updated:
        print(f"Updated {update}.", file=sys.stderr)
    for gap in change.warnings:
        print(f"kzqa: warning: {gap}", file=sys.stderr)
    _report_build(change.build)
    return EXIT_SOME_FAILED if change.refused else EXIT_OK


def run_remove(args: argparse.Namespace) -> int:
    import kzqa

    with ProgressBar("Updating the index") as bar:
        change = kzqa.remove(args.documents, args.corpus, args.index, progress=bar.update)
    print(f"Removed {', '.join(change.documents)}.", file=sys.stderr)
    _report_build(change.build)
    print(f"(moved to {change.moved_to}; move the files back and run kzqa build to restore)",
          file=sys.stderr)
    return EXIT_OK


def _report_build(b: BuildReport) -> None:
    taken = f"; the text of {_count(b.from_index, 'document')} taken from the index" if b.from_index else ""
    print(f"Indexed {_count(b.passages, 'passage')} from {_count(b.documents, 'document')} into "
          f"{b.index} in {b.seconds:.1f} s ({_count(b.embedded, 'passage')} embedded, {b.reused} "
          f"reused{taken}).", file=sys.stderr)


def _count(n: int, noun: str) -> str:
    """"1 passage", "0 passages", "2,742 passages"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def run_ask(args: argparse.Namespace) -> int:
    import kzqa

    qa = kzqa.load(args.index)
    warn_misfit(qa)
    filters = _filters(args)
    if args.question is not None:
        requests: Iterator[dict[str, Any]] = iter([{"question": args.question,
                                                    "history": args.history}])
    else:
        if sys.stdin.isatty():
            docs = len(qa.documents)
            print(f"kzqa answers with passages quoted verbatim from {docs} documents about political "
                  "freedoms in Kazakhstan, or says they do not cover the question.\n"
                  "Type a question and press Enter; Ctrl-D quits. Loading the model...",
                  file=sys.stderr, flush=True)
            qa.warm_up()
        requests = _read_requests(sys.stdin, args.history)
    failed = 0
    for request in requests:
        try:
            if "error" in request:
                raise kzqa.InvalidQuestion(request["error"])
            if args.mode == "ask":
                answer = qa.ask(request["question"], k=args.k, history=request["history"],
                                filters=filters)
            else:
                answer = qa.search(request["question"], k=args.k, filters=filters)
        except kzqa.InvalidQuestion as e:
            if args.question is not None:
                raise
            failed += 1
            if args.json:
                print_json({"question": request.get("question"), "error": str(e)})
            else:
                print(f"kzqa: error: {e}", file=sys.stderr)
            continue
        if args.json:
            print_json(answer.to_dict(args.style))
        else:
            _print_answer(answer, sys.stdout, args.style, getattr(args, "closest", False))
        if args.collect:
            _collect(args.collect, answer)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _collect(path: Path, answer: Any) -> None:
    from kzqa.evidence import collection

    added = collection.append(path, collection.collected(answer))
    print(f"Collected {added} passage{'s' if added != 1 else ''} into {path}." if added else
          f"Nothing collected into {path}: the documents do not answer this question.",
          file=sys.stderr)


def run_export(args: argparse.Namespace) -> int:
    from kzqa.evidence import collection

    items = collection.read(args.collection)
    text = collection.export(items, args.format, args.style)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    from kzqa.files import atomic_write

    try:
        atomic_write(args.output, text.encode("utf-8"))
    except OSError as e:
        raise KzqaError(f"cannot write {args.output}: {e.strerror or e}") from None
    print(f"Wrote {len(items)} quote{'s' if len(items) != 1 else ''} as {args.format} "
          f"({args.style} citations) to {args.output}.", file=sys.stderr)
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    import kzqa

    problems, checked = kzqa.verify_export(args.export, args.index)
    for problem in problems:
        print(f"MISMATCH {problem}")
    if problems:
        verb = "no longer matches its source" if len(problems) == 1 else "no longer match their sources"
        print(f"{len(problems)} of {_count(checked, 'quote')} in {args.export} {verb}.", file=sys.stderr)
        return EXIT_SOME_FAILED
    print(("The quote" if checked == 1 else f"All {checked:,} quotes") + f" in {args.export} "
          + ("matches its source" if checked == 1 else "match their sources")
          + ", character for character.", file=sys.stderr)
    return EXIT_OK


def run_serve(args: argparse.Namespace) -> int:
    from kzqa.serve.server import serve

    serve(host=args.host, port=args.port, index=str(args.index) if args.index else None)
    return EXIT_OK


def run_passages(args: argparse.Namespace) -> int:
    from kzqa.errors import CorpusProblem
    from kzqa.ingest.corpus import DocumentProblem, read_document
    from kzqa.ingest.passages import document_blocks, make_passages

    path: Path = args.file
    if not path.is_file():
        raise KzqaError(f"no such file: {path}")
    try:
        doc = read_document(path, path.name)
    except DocumentProblem as p:
        raise KzqaError(str(CorpusProblem(str(path), p.reason, p.line))) from None
    kept = make_passages(doc)  # in document order, each inside one block
    starts = [p.start for p in kept]
    for block in document_blocks(doc):
        text = doc.text[block.start:block.end]
        first = bisect.bisect_left(starts, block.start)
        inside = [p for p in kept[first:bisect.bisect_left(starts, block.end, first)] if p.end <= block.end]
        if args.json:
            print_json({"kind": block.kind, "reason": block.reason, "start": block.start,
                         "end": block.end, "text": text, "passages": [p.id for p in inside]})
            continue
        label = block.kind + (f" ({block.reason})" if block.reason else "")
        ids = ", ".join(p.id for p in inside)
        print(f"[{block.start}:{block.end}] {label}" + (f" -> {ids}" if ids else ""))
        print("    " + (text if len(text) <= 160 else text[:157] + "..."))
    return EXIT_OK


def _read_requests(stream: TextIO, history: list[str]) -> Iterator[dict[str, Any]]:
    interactive = stream.isatty()
    while True:
        if interactive:
            print("question> ", end="", file=sys.stderr, flush=True)
        line = stream.readline()
        if not line:
            return
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield {"question": line, "error": f"not a valid JSON line ({e.msg})"}
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
                yield {"question": line, "error": 'a JSON line needs a "question" string'}
                continue
            past = obj.get("history", [])
            if not isinstance(past, list) or not all(isinstance(h, str) for h in past):
                yield {"question": obj["question"], "error": '"history" must be a list of strings'}
                continue
            yield {"question": obj["question"], "history": past}
        else:
            yield {"question": line, "history": history}


def _print_answer(answer: Any, out: TextIO, style: str = "plain", closest: bool = False) -> None:
    from kzqa.evidence.render import answer_text

    print(answer_text(answer, style, closest) + "\n", file=out)  # quotes verbatim: no wrapping, no indentation


def print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class ProgressBar:
    """A tqdm bar on a terminal; a start and an end line otherwise (logs, CI)."""

    def __init__(self, label: str):
        self.label, self.total = label, 0
        self.bar: Any = None  # a tqdm bar once there is something to show

    def update(self, stage: str, done: int, total: int) -> None:
        if self.bar is None:
            if not total:  # everything reused or cached: nothing to show
                return
            from tqdm import tqdm

            self.total = total
            print(f"{self.label}: {total} passage{'s' if total != 1 else ''} to embed", file=sys.stderr)
            self.bar = tqdm(total=total, unit="passage", file=sys.stderr, disable=None,
                            dynamic_ncols=True)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"mode": args.mode, "fusion": args.fusion, "dense_weight": args.dense_weight,
            "rrf_k": args.rrf_k}
