"""The local embedding/rerank stand-in: real vectors for any text, in DashScope's wire shapes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import helpers
from helpers.replay import current_server, local_models, wire

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["金卡会员退货运费谁出？", "疾风 3 Pro 用的是什么中底？", "公司 IT 服务台的电话是多少？",
         "A sentence the knowledge base never saw, 含有生僻字龘靐。", "7", "退货", "年假", "鞋油",
         "积分什么时候清零？", "运动鞋能放进烘干机吗"]


@pytest.fixture()
def replay(monkeypatch):
    monkeypatch.setenv("LLM_MODE", "replay")
    monkeypatch.setenv("LLM_REPLAY_SPEED", "0")
    yield helpers.setup("t")
    helpers.setup()


def test_every_returned_embedding_is_the_named_method_recomputed_from_its_text(replay):
    import dashscope
    from openai import OpenAI

    for dimension in (64, 256, 1024):
        native = dashscope.TextEmbedding.call(model="text-embedding-v4", input=TEXTS,
                                              dimension=dimension, text_type="query")
        assert native.status_code == 200
        assert native.headers[local_models.HEADER].startswith("local-lsa-char-ngram; fitted")
        got = [e["embedding"] for e in sorted(native.output["embeddings"],
                                              key=lambda e: e["text_index"])]
        assert got == local_models.embed_texts(TEXTS, dimension)
        compat = OpenAI().embeddings.create(model="text-embedding-v4", input=TEXTS,
                                            dimensions=dimension, encoding_format="float")
        assert [d.embedding for d in compat.data] == got
    v2 = dashscope.Client().embeddings.create(model="text-embedding-v4", input=TEXTS[:3],
                                              dimension=64)
    assert [e.embedding for e in v2.embeddings] == local_models.embed_texts(TEXTS[:3], 64)


def test_vectors_are_unit_length_deterministic_and_carry_meaning():
    model = local_models.model()
    fresh = local_models.LSAModel(local_models.corpus_units(local_models.kb_folder()))
    assert fresh.embed(TEXTS[0], 256) == model.embed(TEXTS[0], 256)  # refit: same numbers
    for text in TEXTS:
        assert round(float(np.linalg.norm(model.embed(text, 1024))), 4) == 1.0
    # Zeros only beyond the SVD's rank, never before it.
    vector = model.embed(TEXTS[1], 1024)
    assert model.rank < 1024 and not any(vector[model.rank:])
    # The nearest knowledge-base sentence to a question is the one that answers it.
    units = local_models.corpus_units(local_models.kb_folder())
    matrix = np.array([model.embed(u, 256) for u in units])
    best = units[int(np.argmax(matrix @ np.array(model.embed("积分多久清零", 256))))]
    assert "12 月 31 日清零" in best


def test_more_than_ten_texts_get_the_services_own_error_on_both_protocols(replay):
    import dashscope
    import openai

    texts = [f"第{i}段" for i in range(11)]
    native = dashscope.TextEmbedding.call(model="text-embedding-v4", input=texts)
    assert (native.status_code, native.code) == (400, "InvalidParameter")
    assert native.message.endswith("it should not be larger than 10.: input.contents")
    with pytest.raises(openai.BadRequestError) as err:
        openai.OpenAI().embeddings.create(model="text-embedding-v4", input=texts,
                                          encoding_format="float")
    body = err.value.body
    assert body["code"] == "InvalidParameter" and "larger than 10" in body["message"]
    assert dashscope.TextEmbedding.call(model="text-embedding-v4", input=texts[:10]).status_code \
        == 200


def test_rerank_through_both_sdk_stacks(replay):
    import dashscope

    docs = ["疾风 3 吊牌价 599 元。", "金卡及以上会员的订单自带运费险，退货时自动理赔 10 元。",
            "皮鞋淋雨后要自然阴干。"]
    legacy = dashscope.TextReRank.call(model="gte-rerank-v2", query="金卡会员退货运费",
                                       documents=docs, top_n=2, return_documents=True)
    assert legacy.status_code == 200 and legacy.usage.total_tokens > 0
    results = legacy.output.results
    assert [r.index for r in results][0] == 1 and len(results) == 2
    assert results[0].get("document", {}).get("text") == docs[1]
    assert results[0].relevance_score == local_models.model().rerank_score("金卡会员退货运费",
                                                                           docs[1])
    assert legacy.headers[local_models.HEADER].startswith("local-bigram-coverage")
    v2 = dashscope.Client().rerank.create(model="qwen3-rerank", query="皮鞋淋雨",
                                          documents=docs)
    assert v2.results[0].index == 2 and 0 <= v2.results[-1].relevance_score <= 1


def test_record_mode_sends_embeddings_to_the_live_service_not_the_stand_in(replay):
    server = current_server()
    assert local_models.respond in server.responders
    local_models.install(server, enabled=False)
    assert local_models.respond not in server.responders
    local_models.install(server, enabled=True)
    local_models.install(server, enabled=True)
    assert server.responders.count(local_models.respond) == 1


def test_no_embedding_is_stored_in_the_kits_recordings():
    """Replay computes every vector; a stored one could only be captured (source: recorded)."""
    for path in (ROOT / "notebooks" / "recordings").glob("*.json"):
        for exchange in json.loads(path.read_text(encoding="utf-8")).get("exchanges", []):
            if exchange["request"]["path"] in (wire.NATIVE_EMBEDDING, wire.COMPAT_EMBEDDING,
                                               local_models.RERANK_PATH):
                assert exchange["source"] == "recorded", f"{path.name}: {exchange['name']}"


def test_the_vector_stored_in_lesson_09_is_the_local_method_recomputed():
    """Stored outputs hold computed numbers: the printed vector is recomputed here."""
    nb = json.loads((ROOT / "notebooks" / "09_retrieval.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code"
                and "vector[:5]" in "".join(c["source"]))
    printed = "".join("".join(o.get("text", "")) for o in cell["outputs"])
    first = [round(x, 3) for x in local_models.embed_texts(["退款多久到账"], 256)[0][:5]]
    assert f"256 {first}" in printed
