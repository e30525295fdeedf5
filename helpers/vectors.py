"""Dense retrieval for lessons 09 and 10: embeddings, the vector database, reranking.

The model side of retrieval, next to ``helpers/retrieval.py`` (chunks, BM25, fusion):
``embed`` sends texts to ``dashscope.TextEmbedding.call`` (≤ 10 per call, the API's limit);
``VectorStore`` keeps chunks and vectors in Qdrant — embedded in a folder by default (no server,
it survives a kernel restart), or a Qdrant server when ``QDRANT_URL`` is set (one setting, same
code); ``rerank`` orders candidates with ``dashscope.TextReRank.call``. In replay mode the
vectors and scores come from the kit's local stand-in, and ``method`` says so.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import uuid
from pathlib import Path
from typing import Callable

from .errors import bad_input, call_with_retries, error_from_response
from .redaction import remember_secret
from .retrieval import KB, Chunk, Hit

EMBEDDING_MODEL, RERANK_MODEL, DIMENSION, BATCH = "text-embedding-v4", "gte-rerank-v2", 1024, 10


def _checked(call: Callable):
    """Send with retries; a server error becomes the kit's Chinese LLMError."""
    def attempt():
        r = call()
        if r.status_code != 200:
            raise error_from_response(r.status_code, r.code, r.message, r.request_id, r.headers)
        return r
    return call_with_retries(attempt)


def embed(texts: list[str], *, text_type: str = "document", dimension: int = DIMENSION,
          model: str = EMBEDDING_MODEL) -> tuple[list[list[float]], str]:
    """(vectors, method) through the real SDK, ≤ 10 texts per call (the API's limit).
    ``method`` names what produced them: DashScope's model, or the replay stand-in."""
    import dashscope

    vectors, method = [], f"{model}（DashScope）"
    for i in range(0, len(texts), BATCH):
        r = _checked(lambda: dashscope.TextEmbedding.call(
            model=model, input=texts[i:i + BATCH], text_type=text_type, dimension=dimension))
        vectors += [e["embedding"] for e in sorted(r.output["embeddings"],
                                                   key=lambda e: e["text_index"])]
        method = (r.headers or {}).get("x-kit-local-model", method)
    return vectors, method


_clients: dict[str, object] = {}  # one client per folder: Qdrant locks it against a second


class VectorStore:
    """Chunks and vectors in a Qdrant collection: a local folder, or a server at ``url``."""

    def __init__(self, path: str | Path = KB.parent / "kb_index", *, url: str | None = None,
                 collection: str = "kb", dimension: int = DIMENSION):
        from qdrant_client import QdrantClient

        self.url = url or os.environ.get("QDRANT_URL") or None
        where = self.url or str(Path(path).resolve())
        if where not in _clients:
            key = os.environ.get("QDRANT_API_KEY") or None
            remember_secret(key)  # never printed or saved, like the DashScope key
            try:
                _clients[where] = (QdrantClient(url=self.url, api_key=key)
                                   if self.url else QdrantClient(path=where))
            except RuntimeError as exc:  # the folder is locked by another process
                raise bad_input(f"索引文件夹 {where} 正被另一个程序（例如另一个 notebook 的内核）"
                                "使用：请先关闭那个内核，或给 VectorStore 换一个文件夹。") from exc
            atexit.register(_clients[where].close)  # not in __del__ at interpreter exit
        self.client, self.collection, self.dimension = _clients[where], collection, dimension

    def _ensure(self, method: str) -> bool:
        """Create the collection if needed; False when it held another model's vectors
        (then it is emptied: vectors of two models cannot be compared)."""
        from qdrant_client import models

        same = True
        if self.client.collection_exists(self.collection):
            points = self.client.scroll(self.collection, limit=1)[0]
            if not points or points[0].payload.get("method") == method:
                return True
            self.client.delete_collection(self.collection)
            same = False
        self.client.create_collection(self.collection, vectors_config=models.VectorParams(
            size=self.dimension, distance=models.Distance.COSINE))
        return same

    def stored(self) -> dict[str, str]:
        """Document id → content hash of what the collection holds."""
        if not self.client.collection_exists(self.collection):
            return {}
        points = self.client.scroll(self.collection, limit=100_000, with_payload=True)[0]
        return {p.payload["doc"]: p.payload["hash"] for p in points}

    def add(self, chunks: list[Chunk], progress: Callable[[int, int], None] | None = None) -> int:
        """Upsert: documents whose text changed are replaced, unchanged ones skipped.
        ``progress(done, total)`` is called after each batch. Returns chunks embedded."""
        from qdrant_client import models

        digest = {}
        for c in chunks:
            digest[c.doc] = hashlib.sha256((digest.get(c.doc, "") + c.text).encode()).hexdigest()
        old = self.stored()
        todo = [c for c in chunks if old.get(c.doc) != digest[c.doc]] or chunks[:1]
        first, method = embed([c.indexed_text for c in todo[:BATCH]], dimension=self.dimension)
        if not self._ensure(method):  # another model's vectors were there: index everything
            todo, old = list(chunks), {}
            first, method = embed([c.indexed_text for c in todo[:BATCH]], dimension=self.dimension)
        elif old.get(todo[0].doc) == digest[todo[0].doc]:
            return 0  # nothing changed (the one text embedded only told us the model)
        if any(d in old for d in {c.doc for c in todo}):  # changed documents: drop old chunks
            self.client.delete(self.collection, models.Filter(must=[models.FieldCondition(
                key="doc", match=models.MatchAny(any=sorted({c.doc for c in todo})))]))
        for n in range(0, len(todo), BATCH):
            batch = todo[n:n + BATCH]
            vectors = first if n == 0 else embed([c.indexed_text for c in batch],
                                                 dimension=self.dimension)[0]
            self.client.upsert(self.collection, [models.PointStruct(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, c.id)), vector=v,
                payload={**c.__dict__, "hash": digest[c.doc], "method": method})
                for c, v in zip(batch, vectors)])
            if progress:
                progress(n + len(batch), len(todo))
        return len(todo)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        vector, method = embed([query], text_type="query", dimension=self.dimension)
        points = self.client.query_points(self.collection, query=vector[0], limit=k).points
        if points and points[0].payload["method"] != method:
            raise bad_input(f"索引里的向量由 {points[0].payload['method']} 生成，而问题的向量来自 "
                            f"{method}：两种向量不能比较，请先重新运行 add() 建索引。")
        fields = ("doc", "section", "start", "end", "text", "title")
        return [Hit(Chunk(*(p.payload[f] for f in fields)), p.score) for p in points]


# --- rerank ------------------------------------------------------------------------------------


def rerank(query: str, hits: list[Hit], top_n: int = 5, model: str = RERANK_MODEL) -> list[Hit]:
    """Order ``hits`` by the rerank model's relevance_score (``dashscope.TextReRank``)."""
    import dashscope

    r = _checked(lambda: dashscope.TextReRank.call(
        model=model, query=query, documents=[h.chunk.indexed_text for h in hits], top_n=top_n))
    return [Hit(hits[x["index"]].chunk, x["relevance_score"]) for x in r.output["results"]]
