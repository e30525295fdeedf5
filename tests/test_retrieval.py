"""Retrieval helpers: chunking, BM25, the Qdrant store (persistence, upsert, URL), fusion."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

import helpers
from helpers import retrieval as R
from helpers import vectors as V
from helpers.replay import local_models

ROOT = Path(__file__).resolve().parents[1]
DOCS = R.load_documents()
QUESTIONS = [json.loads(line) for line in
             (ROOT / "notebooks" / "data" / "kb_questions.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture()
def replay(monkeypatch):
    monkeypatch.setenv("LLM_MODE", "replay")
    monkeypatch.setenv("LLM_REPLAY_SPEED", "0")
    monkeypatch.delenv("QDRANT_URL", raising=False)
    yield helpers.setup("t")
    helpers.setup()


def test_the_knowledge_base_and_its_labels_fit_together():
    assert len(DOCS) >= 30 and len(QUESTIONS) >= 60
    kinds = {q["type"] for q in QUESTIONS}
    assert kinds == {"direct", "paraphrase", "multi", "unanswerable"}
    for q in QUESTIONS:
        for label in q["relevant"]:
            paths = [p for p, _, _ in R.sections(DOCS[label["doc"]])]
            assert label["section"] in paths, (q["id"], label)
        assert (q["type"] == "unanswerable") == (not q["relevant"]), q["id"]
        assert q["type"] != "multi" or len(q["relevant"]) >= 2 or "退" in q["question"]


@pytest.mark.parametrize("how, kw", [(R.chunk_fixed, {"size": 120, "overlap": 30}),
                                     (R.chunk_by_heading, {}),
                                     (R.chunk_by_sentence, {"max_chars": 100})])
def test_chunks_point_back_into_their_document(how, kw):
    chunks = R.chunk_documents(DOCS, how, **kw)
    for c in chunks:
        assert c.text == DOCS[c.doc][c.start:c.end].strip() and c.text
        assert c.title and c.id.startswith(f"{c.doc}#{c.section}@")
    assert len({c.id for c in chunks}) == len(chunks)
    if how is R.chunk_fixed:
        returns = [c for c in chunks if c.doc == "returns"]
        assert [c.start for c in returns[:3]] == [0, 90, 180]  # size 120, overlap 30
    if how is R.chunk_by_heading:
        assert sum(c.doc == "returns" for c in chunks) == 4
    if how is R.chunk_by_sentence:  # whole sentences, inside one section
        assert all(len(c.text) <= 100 or "。" not in c.text[:-1] for c in chunks)
        assert all(c.text.count("## ") <= 1 for c in chunks)


def test_relevance_is_by_overlap_with_the_labeled_section():
    label = {"doc": "returns", "section": "退货运费谁承担"}
    by_heading = [c for c in R.chunk_by_heading("returns", DOCS["returns"])]
    assert [c.section for c in by_heading if R.is_relevant(c, label, DOCS)] == ["退货运费谁承担"]
    fixed = R.chunk_fixed("returns", DOCS["returns"], size=200, overlap=50)
    hits = [c for c in fixed if R.is_relevant(c, label, DOCS)]
    assert hits and all("运费" in c.text for c in hits)
    assert not R.is_relevant(fixed[0], {"doc": "shipping", "section": "运费标准"}, DOCS)


def test_jieba_prints_nothing_and_bm25_finds_the_words():
    code = "from helpers.retrieval import tokenize; print(tokenize('会员积分可以抵扣运费吗？'))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.stderr == "" and "积分" in run.stdout and "吗" not in run.stdout
    bm25 = R.BM25(R.chunk_documents(DOCS))
    assert bm25.search("顺丰加急要另付多少钱？", 1)[0].chunk.section == "顺丰加急"


def test_rrf_adds_reciprocal_ranks():
    a, b, c = (R.Chunk("d", s, i, i + 1, s) for i, s in enumerate("abc"))
    fused = R.rrf([R.Hit(a, 9), R.Hit(b, 8)], [R.Hit(b, 0.9), R.Hit(c, 0.8)], k=60)
    assert [h.chunk.section for h in fused] == ["b", "a", "c"]
    assert round(fused[0].score, 5) == round(1 / 61 + 1 / 62, 5)


def test_embed_batches_by_ten_and_names_the_method(replay):
    texts = [c.indexed_text for c in R.chunk_documents(DOCS)[:23]]
    vectors, method = V.embed(texts, dimension=64)
    assert vectors == local_models.embed_texts(texts, 64)
    assert method.startswith("local-lsa-char-ngram")
    server = helpers.replay.current_server()
    assert server.log.requests >= 3


def test_upsert_replaces_only_the_changed_document(replay, tmp_path):
    store = V.VectorStore(tmp_path / "index", dimension=256)
    chunks = R.chunk_documents(DOCS)
    progress = []
    assert store.add(chunks, progress=lambda done, total: progress.append((done, total))) \
        == len(chunks)
    assert progress[-1] == (len(chunks), len(chunks)) and len(progress) == -(-len(chunks) // 10)
    assert store.add(chunks) == 0  # nothing changed: nothing embedded
    changed = dict(DOCS, shipping=DOCS["shipping"].replace("满 99 元", "满 129 元"))
    new_chunks = R.chunk_documents(changed)
    assert store.add(new_chunks) == sum(c.doc == "shipping" for c in new_chunks)
    assert store.client.count(store.collection).count == len(new_chunks)
    top = store.search("订单满多少元免运费？", 3)
    assert any("129" in h.chunk.text for h in top) and not any("满 99 元" in h.chunk.text
                                                              for h in top)


def test_vectors_of_another_model_are_not_mixed_in(replay, tmp_path):
    store = V.VectorStore(tmp_path / "index", dimension=64)
    chunks = R.chunk_documents({"returns": DOCS["returns"], "shipping": DOCS["shipping"]})
    store.add(chunks)
    store.client.set_payload(store.collection, {"method": "text-embedding-v4（DashScope）"},
                             points=[p.id for p in store.client.scroll(store.collection)[0]])
    with pytest.raises(helpers.LLMError, match="两种向量不能比较"):
        store.search("退货运费谁出？")
    assert store.add(chunks) == len(chunks)  # everything again, even unchanged documents
    assert store.search("退货运费谁出？", 1)[0].chunk.section == "退货运费谁承担"


SCRIPT = textwrap.dedent("""
    import json, sys
    import helpers
    from helpers import retrieval as R, vectors as V
    helpers.setup("t")
    store = V.VectorStore(sys.argv[1], dimension=256)
    added = store.add(R.chunk_documents(R.load_documents())) if sys.argv[2] == "build" else 0
    hits = store.search("公司 IT 服务台的电话是多少？", 3)
    print(json.dumps({"added": added, "count": store.client.count("kb").count,
                      "top": [h.chunk.id for h in hits]}))
""")


def test_the_index_survives_a_kernel_restart(tmp_path):
    """Build in one process, stop it, open the folder in a new process: same answers."""
    env = {"LLM_MODE": "replay", "LLM_REPLAY_SPEED": "0", "LLM_ENV_FILE": "none",
           "PATH": "/usr/bin:/bin"}

    def run(step: str) -> dict:
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "ix"), step],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Exception ignored" not in done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    built, reopened = run("build"), run("open")
    assert built["added"] == built["count"] == reopened["count"] > 100
    assert reopened["top"] == built["top"] and built["top"][0].startswith("handbook_it#")


def test_a_folder_held_by_another_kernel_gets_a_short_chinese_message(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from qdrant_client import QdrantClient; "
         "c = QdrantClient(path=sys.argv[1]); print('ready', flush=True); time.sleep(30)",
         str(tmp_path / "busy")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(helpers.LLMError, match="正被另一个程序"):
            V.VectorStore(tmp_path / "busy")
    finally:
        holder.kill()
        holder.wait()


def test_one_setting_points_the_same_code_at_a_qdrant_server(monkeypatch, tmp_path):
    """No Qdrant server is installable from PyPI or Debian here: a loopback stand-in records
    what the client sends, proving QDRANT_URL reaches it."""
    from importlib.metadata import version

    seen: list[str] = []
    qdrant_version = version("qdrant-client")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            answer = ({"title": "qdrant", "version": qdrant_version} if self.path == "/"
                      else {"result": {"exists": False}, "status": "ok", "time": 0})
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("QDRANT_URL", f"http://127.0.0.1:{server.server_port}")
        store = V.VectorStore(tmp_path / "unused")
        assert store.url == f"http://127.0.0.1:{server.server_port}"
        assert store.stored() == {}
        assert "/collections/kb/exists" in seen
        assert not (tmp_path / "unused").exists()
        for _ in range(100):  # the client checks the server version in a thread: let it finish
            if "/" in seen:
                break
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        server.shutdown()
        server.server_close()
