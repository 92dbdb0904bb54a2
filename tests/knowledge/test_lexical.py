"""The knowledge analyzer and the in-process lexical index: stemming across inflections in
Russian and English, fields, updates (add, replace, remove, merges), k, empty queries, and
that an index built in many small steps answers exactly as one built at once."""

from __future__ import annotations

import threading

import pytest

from frontline.knowledge.analysis import analyze, stem, stems, words
from frontline.knowledge.lexical import IndexDoc, LexicalConfig, LexicalIndex

DOCS = {
    1: "Возврат билетов: деньги за билеты возвращаются на карту в течение 10 дней.",
    2: "Refunds: cancelled tickets are refunded to the original card within 10 days.",
    3: "Мы принимаем собак и кошек в номерах категории стандарт, залог 2,5 тысячи рублей.",
    4: "Pets are welcome in standard rooms; a deposit of 2.5 thousand is required.",
    5: "Завтрак подают с 7 до 10 часов в ресторане на первом этаже.",
    6: "Breakfast is served from 7 to 10 am in the ground floor restaurant.",
    7: "Финансирование проектов и субсидии для малого бизнеса.",
    8: "The shuttle bus runs to the airport every hour.",
}


def build(config: LexicalConfig | None = None) -> LexicalIndex:
    return LexicalIndex.build(((i, analyze(t)) for i, t in DOCS.items()), config)


def top(index: LexicalIndex, query: str, k: int = 3) -> list[int]:
    return [doc_id for doc_id, _ in index.search(analyze(query), k)]


# ---------------------------------------------------------------------------- analysis


def test_analyze_normalises_and_drops_stop_words() -> None:
    assert analyze("Ёлка и ЁЖИК в лесу") == ["елка", "ежик", "лесу"]
    assert analyze("The price is 2,5 or 2.5 in 1943.") == ["price", "2.5", "2.5", "1943"]
    assert analyze("What's the max_connections setting?") == ["max_connections", "setting"]
    assert analyze("и в на the of a") == []
    assert words("Кто, где?") == ["кто", "где"]


def test_stems_relate_inflected_forms() -> None:
    assert len({stem(w) for w in ["билет", "билеты", "билетов", "билетами"]}) == 1
    assert len({stem(w) for w in ["собак", "собаки", "собакам"]}) == 1
    assert len({stem(w) for w in ["ticket", "tickets"]}) == 1
    assert stem("running") == stem("runs")
    assert stem("2.5") == "2.5"
    assert stems("Билеты на концерты") == [stem("билет"), stem("концерт")]


# ---------------------------------------------------------------------------- search


def test_inflections_match_in_russian_and_english() -> None:
    index = build()
    assert top(index, "Как вернуть деньги за билет?")[0] == 1
    assert top(index, "refund for a cancelled ticket")[0] == 2
    assert top(index, "можно с собакой?")[0] == 3
    assert top(index, "is a pet allowed")[0] == 4
    assert top(index, "во сколько завтраки")[0] == 5
    # the stemmer keeps "финансировал" and "финансирование" apart; their prefix meets
    assert top(index, "кто финансировал проект")[0] == 7


def test_numbers_match_across_decimal_separators() -> None:
    index = build()
    assert set(top(index, "2.5")) == {3, 4}


def test_k_is_respected_and_scores_descend() -> None:
    index = build()
    results = index.search(analyze("10 дней days breakfast 7"), 2)
    assert len(results) == 2
    everything = index.search(analyze("10 дней days breakfast 7"), 100)
    assert 2 < len(everything) <= len(DOCS)
    scores = [score for _, score in everything]
    assert scores == sorted(scores, reverse=True)
    assert index.search(analyze("breakfast"), 0) == []


def test_empty_and_unknown_queries_find_nothing() -> None:
    index = build()
    assert index.search([], 5) == []
    assert index.search(analyze("и в на the of"), 5) == []
    assert index.search(analyze("zyzzyva квазиэкзотика"), 5) == []
    assert LexicalIndex().search(analyze("breakfast"), 5) == []


def test_a_string_is_not_taken_for_terms() -> None:
    index = build()
    with pytest.raises(TypeError):
        index.search("breakfast", 5)
    with pytest.raises(TypeError):
        index.add([(99, "breakfast")])


def test_heading_and_context_fields_lift_a_chunk() -> None:
    docs = [
        IndexDoc(id=1, body=analyze("Стоимость 500 рублей в сутки.")),
        IndexDoc(
            id=2,
            body=analyze("Стоимость 500 рублей в сутки."),
            heading=analyze("Парковка > Тарифы"),
            context=analyze("Парковка у отеля охраняется круглосуточно."),
        ),
    ]
    index = LexicalIndex.build(docs)
    assert top(index, "стоимость парковки") == [2, 1]


# ---------------------------------------------------------------------------- updates


def test_add_remove_and_replace_update_results() -> None:
    index = build()
    assert len(index) == len(DOCS)
    assert top(index, "shuttle airport")[0] == 8

    assert index.remove([8, 12345]) == 1
    assert 8 not in index and len(index) == len(DOCS) - 1
    assert 8 not in top(index, "shuttle airport", 10)
    assert index.remove([8]) == 0

    index.add([(9, analyze("Трансфер в аэропорт каждый час, автобус от входа"))])
    assert top(index, "автобус в аэропорт")[0] == 9

    index.add([(9, analyze("Парковка платная"))])  # replaces document 9
    assert 9 not in top(index, "автобус в аэропорт", 10)
    assert top(index, "парковка")[0] == 9
    assert sorted(index.ids()) == sorted([*(i for i in DOCS if i != 8), 9])


def test_updates_through_merges_equal_a_fresh_build() -> None:
    """Small deltas, merges and compaction leave exactly the index a fresh build of the
    remaining documents gives: same ids, same scores."""
    texts = {i: f"{DOCS[1 + i % len(DOCS)]} документ номер {i} item {i % 7}" for i in range(60)}
    eager = LexicalConfig(merge_min=3, merge_ratio=0.2, compact_ratio=0.1)
    index = LexicalIndex(eager)
    ids = list(texts)
    for start in range(0, len(ids), 4):
        index.add([(i, analyze(texts[i])) for i in ids[start : start + 4]])
    removed = ids[::5]
    index.remove(removed[:6])
    index.remove(removed[6:])
    fresh = LexicalIndex.build(
        ((i, analyze(t)) for i, t in texts.items() if i not in removed), eager
    )
    assert sorted(index.ids()) == sorted(fresh.ids())
    for query in ["билеты деньги", "pets deposit item 3", "завтрак документ 17", "airport"]:
        got = index.search(analyze(query), 10)
        want = fresh.search(analyze(query), 10)
        assert [i for i, _ in got] == [i for i, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)


def test_an_emptied_index_takes_new_documents() -> None:
    index = build()
    assert index.remove(list(DOCS)) == len(DOCS)
    assert len(index) == 0 and index.ids() == []
    assert index.search(analyze("breakfast"), 5) == []
    index.add([(1, analyze("Breakfast is included"))])
    assert index.search(analyze("breakfast"), 5)[0][0] == 1
    assert len(index) == 1


def test_searches_run_while_documents_are_added() -> None:
    index = build()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(100, 160):
                index.add([(i, analyze(f"экскурсия номер {i} по городу"))])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        assert top(index, "shuttle airport")[0] == 8
        index.search(analyze("экскурсия по городу"), 5)
    thread.join()
    assert not errors
    assert len(index.search(analyze("экскурсия"), 100)) == 60


def test_memory_estimate_grows_with_the_index() -> None:
    small = build()
    bigger = build()
    bigger.add([(100 + i, analyze(f"новый документ {i} о трансфере")) for i in range(200)])
    assert 0 < small.memory_bytes() < bigger.memory_bytes()
