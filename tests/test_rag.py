"""Lesson 10's RAG helper: refusal threshold, citations, rewriting, streaming, freshness.

Retrieval runs for real (the replay server's local embedding stand-in, Qdrant in a temporary
folder); model answers come from varied replay (a different well-formed text on every call),
so no test here depends on an authored answer.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import helpers
from helpers import rag
from helpers import retrieval as R
from helpers import vectors as V
from helpers.meter import METER

ROOT = Path(__file__).resolve().parents[1]
DOCS = R.load_documents()
QUESTIONS = [json.loads(line) for line in
             (ROOT / "notebooks" / "data" / "kb_questions.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    saved = {k: os.environ.get(k) for k in ("LLM_MODE", "LLM_REPLAY_SPEED", "QDRANT_URL")}
    os.environ.update(LLM_MODE="replay", LLM_REPLAY_SPEED="0")
    os.environ.pop("QDRANT_URL", None)
    helpers.setup("t")
    built = V.VectorStore(tmp_path_factory.mktemp("rag") / "index", dimension=256)
    built.add(R.chunk_documents(DOCS))
    yield built
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    helpers.setup()


@pytest.fixture
def varied(store):
    os.environ.update(LLM_REPLAY_VARIED="1", LLM_REPLAY_VARIED_SEED="10")
    helpers.setup("t")
    yield store
    for name in ("LLM_REPLAY_VARIED", "LLM_REPLAY_VARIED_SEED"):
        os.environ.pop(name, None)
    helpers.setup("t")


def chat_calls() -> int:
    return len(METER.calls)


def test_the_threshold_is_the_one_measured_on_the_question_set(store):
    scores = rag.top_scores(QUESTIONS, store)
    assert round(rag.choose_threshold(scores), 2) == rag.THRESHOLD
    counts = rag.refusal_counts(scores, rag.THRESHOLD)
    assert counts == {"unanswerable": 8, "refused_unanswerable": 2, "answerable": 59,
                      "refused_answerable": 0}
    assert rag.refusal_counts(scores, 0.40)["refused_answerable"] > 10  # stricter costs


def test_choose_threshold_splits_halfway_and_prefers_not_refusing():
    scores = [(0.9, True), (0.5, True), (0.3, False), (0.1, False)]
    assert rag.choose_threshold(scores) == pytest.approx(0.4)
    assert rag.choose_threshold([(0.5, True), (0.6, False), (0.2, False)]) == pytest.approx(0.35)


def test_nothing_relevant_enough_is_refused_before_any_model_call(store):
    hits = rag.retrieve("买鞋送袜子吗？", store)
    assert hits == []
    before = chat_calls()
    result = rag.answer("买鞋送袜子吗？", store)
    assert (result.text, result.refused, result.reason, result.sources) == (
        rag.REFUSAL, True, "no_relevant_chunk", [])
    stream = rag.stream_answer("买鞋送袜子吗？", store)
    assert list(stream) == [rag.REFUSAL] and stream.answer.reason == "no_relevant_chunk"
    assert chat_calls() == before


def test_retrieve_keeps_only_chunks_over_the_threshold(store):
    hits = rag.retrieve("七天无理由退货需要满足什么条件？", store, k=4)
    assert hits[0].chunk.section == "七天无理由退货"
    assert all(h.score >= rag.THRESHOLD for h in hits) and 1 <= len(hits) <= 4
    assert rag.retrieve("七天无理由退货需要满足什么条件？", store, threshold=0.99) == []


def test_the_prompt_is_lesson_08s_four_parts_with_labelled_delimited_chunks(store):
    hits = rag.retrieve("订单满多少元免运费？", store)
    history = [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "您好！"}]
    messages = rag.build_messages("订单满多少元免运费？", hits, history=history)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    last = messages[-1]["content"]
    assert last.index("【用户指令】") < last.index("【附加内容】") < last.index("【输出要求】")
    assert "[1] （配送说明 › 运费标准）## 运费标准" in last and rag.REFUSAL in last
    told = helpers.prompts.instructions(messages)  # the data block elided
    assert "满 99 元" not in told and "[编号]" in told


def test_citations_and_source_labels():
    a, b = (R.Hit(R.Chunk("returns", s, i, i + 9, "text", "退货政策"), 0.5)
            for i, s in enumerate(["七天无理由退货", "退货运费谁承担"]))
    nested = R.Hit(R.Chunk("size_guide_men", "尺码对照 > 宽脚", 0, 5, "t", "男鞋尺码表"), 0.4)
    assert rag.cited("运费由云步承担 [2]，7 天内可退 [1][2]；见 [9]。", [a, b]) == [b, a]
    assert rag.format_sources([a, b, a]) == "来源：退货政策 › 七天无理由退货；退货政策 › 退货运费谁承担"
    assert rag.format_sources([nested]) == "来源：男鞋尺码表 › 尺码对照 › 宽脚"
    assert rag.format_sources([]) == "来源：无"
    assert rag.judge("可以退 [2]。", "q", [a, b]).sources == [b]
    assert rag.judge("可以退。", "q", [a, b]).sources == [a, b]  # uncited: all it was given


@pytest.mark.parametrize("text, refused", [
    ("根据已知信息无法回答该问题", True), ("根据已知信息无法回答该问题。", True),
    ("「根据已知信息无法回答该问题」", True), ("  **根据已知信息无法回答该问题。**", True),
    ("运费 8 元 [1]。其余根据已知信息无法回答该问题。", False), ("无法回答", False)])
def test_the_models_own_refusal_is_recognised(text, refused):
    assert rag.is_refusal(text) is refused
    result = rag.judge(text, "q", [])
    assert (result.refused, result.reason) == (refused, "model_refused" if refused else "")


def test_a_real_answer_through_the_server(varied):
    before = chat_calls()
    result = rag.answer("顺丰加急要另付多少钱？", varied)
    assert chat_calls() == before + 1 and result.text and result.query == "顺丰加急要另付多少钱？"
    assert result.hits and result.hits[0].chunk.section == "顺丰加急"
    assert result.refused is rag.is_refusal(result.text)
    assert all(h in result.hits for h in result.sources)


def test_the_stream_yields_the_text_then_holds_the_answer(varied):
    stream = rag.stream_answer("顺丰加急要另付多少钱？", varied)
    pieces = list(stream)
    assert len(pieces) > 1 and "".join(pieces) == stream.answer.text
    calls = chat_calls()
    assert list(stream) == [stream.answer.text] and chat_calls() == calls  # no second call
    stopped = rag.stream_answer("订单满多少元免运费？", varied)
    reader = iter(stopped)
    first = next(reader)
    reader.close()  # the reader stops: the stream is hung up, what arrived is kept
    assert first and stopped.answer is not None and stopped.answer.text.startswith(first)


def test_rewriting_uses_the_history_and_only_when_there_is_one(varied):
    before = chat_calls()
    assert rag.rewrite_question("那金卡呢？", None) == "那金卡呢？"
    assert rag.rewrite_question("那金卡呢？", []) == "那金卡呢？"
    assert chat_calls() == before
    history = [{"role": "user", "content": "银卡会员享受几折？"},
               {"role": "assistant", "content": "银卡会员 95 折 [1]。"}]
    seen: list[str] = []
    server = helpers.replay.current_server()

    def capture(request):  # a responder that only looks, then lets the others answer
        seen.append(json.dumps(request.body, ensure_ascii=False))

    server.responders.insert(0, capture)
    try:
        rewritten = rag.rewrite_question("那金卡呢？", history)
    finally:
        server.responders.remove(capture)
    assert chat_calls() == before + 1 and 0 < len(rewritten) <= 200
    assert len(seen) == 1 and "银卡会员享受几折" in seen[0] and "追问：那金卡呢" in seen[0]


def test_freshness_change_one_fact_upsert_and_ask_again(store, tmp_path):
    fresh = V.VectorStore(tmp_path / "index", dimension=256)
    chunks = R.chunk_documents(DOCS)
    fresh.add(chunks)
    question = "订单满多少元免运费？"
    assert "满 99 元" in rag.retrieve(question, fresh)[0].chunk.text
    changed = dict(DOCS, shipping=DOCS["shipping"].replace("满 99 元", "满 129 元"))
    new_chunks = R.chunk_documents(changed)
    assert fresh.add(new_chunks) == sum(c.doc == "shipping" for c in new_chunks)  # upsert
    hits = rag.retrieve(question, fresh)
    assert "满 129 元" in hits[0].chunk.text
    prompt = rag.build_messages(question, hits)[-1]["content"]
    assert "满 129 元" in prompt and "满 99 元" not in prompt


def test_an_empty_question_gets_a_short_chinese_message_and_no_call(store):
    before = chat_calls()
    for blank in ("", "   "):
        with pytest.raises(helpers.LLMError, match="问题是空的"):
            rag.answer(blank, store)
        with pytest.raises(helpers.LLMError, match="问题是空的"):
            rag.stream_answer(blank, store)
    assert chat_calls() == before
