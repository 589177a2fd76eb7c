"""The commands that measure (``kzqa eval``, ``kzqa calibrate``): thin calls into
``kzqa.measure``, and the printing of their reports for people (or as JSON)."""

from __future__ import annotations

import argparse
from typing import Any

from kzqa.cli.commands import EXIT_OK, ProgressBar, overrides, print_json, warn_misfit
from kzqa.errors import KzqaError


def run_eval(args: argparse.Namespace) -> int:
    import kzqa
    from kzqa.measure import evaluate as ev
    from kzqa.measure import questions as evq
    from kzqa.measure.beir import is_beir

    if is_beir(args.target):
        settings = kzqa.Settings().with_(model=args.model, **overrides(args))
        with ProgressBar(f"Building the index of {args.target.name} with {settings.model}") as bar:
            report = ev.evaluate_beir(args.target, settings, rebuild=args.rebuild, progress=bar.update)
        if args.json:
            print_json(report)
        else:
            _print_beir(report)
        return EXIT_OK
    if not args.target.is_file():
        raise KzqaError(f"{args.target}: neither a BEIR folder nor a question file")
    qa = kzqa.load(args.index)
    changes = {k: v for k, v in overrides(args).items() if v is not None}
    if changes:
        qa = evq.with_overrides(qa, **changes)
    warn_misfit(qa)
    report = evq.evaluate_questions(qa, args.target)
    if args.json:
        print_json(report)
    else:
        _print_questions(report)
    return EXIT_OK


def run_calibrate(args: argparse.Namespace) -> int:
    import kzqa
    from kzqa.measure import questions as evq
    from kzqa.search.qa import SIGNALS
    from kzqa.storage.store import update_settings

    qa = kzqa.load(args.index)
    signals = (evq.CALIBRATION_SIGNALS if args.signals is None
               else tuple(s.strip() for s in args.signals.split(",") if s.strip()))
    unknown = set(signals) - set(SIGNALS)
    if unknown or not signals:
        raise KzqaError(f"--signals takes {', '.join(SIGNALS)}; not {', '.join(sorted(unknown)) or 'none'}")
    rule, info = evq.calibrate(qa, args.questions, signals=signals)
    print(f"Fitted on {info['questions']} questions of split '{info['split']}' "
          f"({info['mistakes']} weighted mistakes): weights {rule.weights}, bias {rule.bias}")
    if not args.dry_run:
        update_settings(qa.store.path, qa.settings.with_(abstention=rule))
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
    splits: list[str] = [k for k in ("tune", "heldout", "all") if k in r] or [
        k for k in r if isinstance(r[k], dict) and "hit@1" in r[k]]
    metrics = ("hit@1", "hit@3", "mrr", "latest@1", "year@1", "abstention_recall", "abstention_precision",
               "wrongly_abstained", "answer_precision", "coverage", "follow_ups_correct",
               "foreign_answers", "duplicate_answers", "superseded_first", "strong_answers",
               "strong_precision", "partial_precision")
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


__all__ = ["run_calibrate", "run_eval"]
