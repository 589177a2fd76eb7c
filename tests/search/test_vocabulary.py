"""Issue 25: the words people ask with reach the words the reports answer in
(``vocabulary.yaml``), a present-tense question gets the latest edition first, and one answer
never shows a text twice. Fast checks with the fake embedder; the real model on the real
library is in tests/test_real_model.py."""

from __future__ import annotations

import pytest

import kzqa
from conftest import FAKE_SETTINGS, FakeEmbedder, write
from kzqa.retrieval.editions import repeats, shingles
from kzqa.search.preference import asks_now, states_rule
from kzqa.search.vocabulary import entries

LIBEL = ("Libel/Slander Laws: There was no criminal liability for libel and slander, but the law "
         "imposed serious punishment for conviction of offenses against the honor of officials.")
OTHER = ("The government restricted the activities of opposition parties and their members "
         "during the year, and the authorities detained several activists at rallies.")


def test_every_entry_maps_asked_words_to_other_report_words_and_names_its_source():
    from kzqa.retrieval.ranking import Lexical

    stem = Lexical._stemmer().stemWord
    seen = set()
    for entry in entries():
        assert entry.asked and entry.reported and entry.source.strip(), entry
        reported = {stem(w.lower()) for phrase in entry.reported for w in phrase.replace("-", " ").split()}
        for word in entry.asked:
            assert word == word.strip() and " " not in word, word  # one word each
            assert stem(word.lower()) not in reported, (word, entry.reported)
            seen.add(word)
    assert {"defamation", "homosexuality", "protest", "permission", "ngo", "spy", "jail"} <= seen


def _qa(tmp_path, files):
    corpus = tmp_path / "corpus"
    for name, text in files.items():
        write(corpus / name, text)
    kzqa.build(corpus, tmp_path / "index", FAKE_SETTINGS, embedder=FakeEmbedder())
    return kzqa.load(tmp_path / "index", embedder=FakeEmbedder())


def test_a_question_in_plain_words_finds_the_paragraph_in_the_reports_words(tmp_path):
    qa = _qa(tmp_path, {"laws.txt": f"{LIBEL}\n\n{OTHER}\n"})
    hit = qa.search("Is defamation punishable?", k=1).passages[0]
    assert hit.text == LIBEL  # "defamation" is in no passage: "libel" and "slander" are
    signals = qa.diagnose("Is defamation punishable?").signals
    assert signals["unknown"] == 0.0  # the word stands for report words: not unknown
    assert signals["coverage"] == 1.0  # and is present where they are


@pytest.mark.parametrize(("question", "now"), [
    ("Is defamation a crime in Kazakhstan?", True), ("Can people protest without permission?", True),
    ("Do you need a permit to hold a demonstration?", True), ("Are NGOs free to work?", True),
    ("Was defamation a crime in 2019?", False), ("Is it true that protesters were jailed in 2022?", False),
    ("What happened in Zhanaozen?", False), ("When was libel decriminalized?", False),
    ("Did the police beat protesters?", False), ("Is it true the law was changed?", False),
])
def test_a_present_tense_question_asks_for_the_current_state(question, now):
    assert asks_now(question) is now


def test_a_passage_states_its_rule_when_it_opens_its_section_or_a_run_in_label():
    assert states_rule(LIBEL, opens_section=False)
    assert states_rule(OTHER, opens_section=True)
    assert not states_rule(OTHER, opens_section=False)
    assert not states_rule("On June 27: the president signed amendments.", opens_section=False)


def test_the_current_edition_comes_first_for_a_present_tense_question(tmp_path):
    old = "Libel/Slander Laws: Private parties may initiate criminal libel suits against journalists."
    new = "Libel/Slander Laws: A change removed criminal liability for libel and slander from the code."
    qa = _qa(tmp_path, {"report-2019.txt": old + "\n", "report-2019.meta.yaml": "title: Report 2019\ncovers: 2019\n",
                        "report-2023.txt": new + "\n", "report-2023.meta.yaml": "title: Report 2023\ncovers: 2023\n"})
    answer = qa.diagnose("Is libel criminal?").ranking
    assert answer[0].text == new
    from kzqa.evidence.render import answer_text
    from kzqa.results import Answer

    text = answer_text(Answer("Is libel criminal?", answer, abstained=False))
    assert "In the 2019 edition (older than the 2023 edition above):" in text


PARAGRAPH = ("Corruption: Corruption was widespread in the executive branch, law enforcement agencies, "
             "local government administrations, the education system, and the judiciary, according to "
             "human rights observers.")


def test_one_answer_shows_a_text_once_even_when_a_longer_edition_repeats_it(tmp_path):
    longer = (PARAGRAPH + " The anticorruption agency opened many cases against officials in the regions, "
              "and courts convicted several former ministers and governors of taking bribes during the year, "
              "including a former prime minister's deputy and two regional governors.")
    assert repeats(shingles(PARAGRAPH), shingles(longer))
    qa = _qa(tmp_path, {"a-2016.txt": PARAGRAPH + "\n", "a-2016.meta.yaml": "title: A 2016\ncovers: 2016\n",
                        "a-2023.txt": longer + "\n", "a-2023.meta.yaml": "title: A 2023\ncovers: 2023\n",
                        "other.txt": OTHER + "\n"})
    shown = qa.ask("Is corruption widespread in the judiciary?", k=3).passages
    assert sum(PARAGRAPH[:60] in h.text for h in shown) == 1


def test_asking_about_today_is_not_a_topic_word(tmp_path):
    """"Is libel a criminal offence in Kazakhstan today?" abstained: "today" is in no passage."""
    qa = _qa(tmp_path, {"laws.txt": f"{LIBEL}\n\n{OTHER}\n"})
    assert qa.store.lexical.query_terms("Is libel a criminal offence today, or now?") == ["libel", "crimin", "offenc"]
    assert qa.diagnose("Is libel a criminal offence today?").signals["unknown"] == 0.0


def test_a_pointer_to_another_report_is_not_quoted():
    from kzqa.ingest.passages import classify, split_blocks

    text = ("See the Department of State’s\xa0Trafficking in Persons Report\xa0at\xa0www.state.gov/j/tip/.\n\n"
            "See the annex for the figures, which show that detentions rose at https://example.org/a.\n\n"
            f"{OTHER}\n")
    kinds = [(b.kind, b.reason) for b in classify(text, split_blocks(text))]
    assert kinds == [("furniture", "a pointer to another document"), ("body", ""), ("body", "")]
