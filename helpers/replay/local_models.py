"""Local stand-ins for DashScope's embedding and rerank models, answering in replay mode.

Our machines have no route to DashScope, so the kit cannot ship captured ``text-embedding-v4``
vectors, and vectors we made up would be authored data. Instead, in replay (and author) mode the
replay server answers the embedding and rerank endpoints with two real, deterministic methods
that compute a vector or a score for ANY text:

* ``local-lsa-char-ngram`` — latent semantic analysis (Deerwester et al., 1990): TF-IDF over
  character 1–3-grams (sublinear tf, smoothed idf, l2 rows), fitted on the sentences of the kit's
  knowledge base (``notebooks/data/kb``), reduced by a truncated SVD. A text's vector is its
  TF-IDF row projected on the top ``dimension`` singular directions, l2-normalised. The SVD has
  at most one direction per fitted sentence: requested dimensions beyond that rank are zeros.
  ``text_type`` (query/document) does not change the vector: the method is symmetric.
* ``local-bigram-coverage`` — rerank score in [0, 1]: the idf-weighted share of the query's
  character bigrams that occur in the document, averaged with the LSA cosine (clipped at 0).

Every answer carries the header ``x-kit-local-model`` naming the method, so lessons can say which
model produced the numbers. Wire shapes follow DashScope's documentation (text-embedding
synchronous API, OpenAI-compatible embeddings, text-rerank API), including the 10-texts-per-call
limit of text-embedding-v3/v4 answered with the service's own error.
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import wire

EMBEDDING_METHOD = "local-lsa-char-ngram"
RERANK_METHOD = "local-bigram-coverage"
HEADER = "x-kit-local-model"
RERANK_PATH = "/api/v1/services/rerank/text-rerank/text-rerank"
DIMENSIONS = (2048, 1536, 1024, 768, 512, 256, 128, 64)  # text-embedding-v4's choices
BATCH_LIMIT_MESSAGE = ("<400> InternalError.Algo.InvalidParameter: Value error, batch size is "
                       "invalid, it should not be larger than {n}.: input.contents")
_RUN = re.compile(r"\w+")


def kb_folder() -> Path:
    from ..config import KIT_ROOT

    return KIT_ROOT / "notebooks" / "data" / "kb"


def ngrams(text: str, sizes: tuple[int, ...] = (1, 2, 3)) -> Counter:
    """Character n-grams inside runs of letters/digits/CJK (never across punctuation)."""
    counts: Counter = Counter()
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        for n in sizes:
            counts.update(run[i:i + n] for i in range(len(run) - n + 1))
    return counts


def corpus_units(folder: Path) -> list[str]:
    """The fitting corpus: every sentence (or table row, or heading) of every document."""
    units = []
    for path in sorted(folder.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            units += [u for u in re.split(r"(?<=[。！？；])", line) if _RUN.search(u)]
    return units


class LSAModel:
    """TF-IDF over character n-grams + truncated SVD, fitted once on a fixed corpus."""

    def __init__(self, units: list[str]):
        self.fingerprint = hashlib.sha256("\n".join(units).encode()).hexdigest()[:8]
        rows = [ngrams(u) for u in units]
        df = Counter(g for row in rows for g in row)
        vocab = sorted(g for g, n in df.items() if n >= 2 or len(g) == 1)
        self.index = {g: i for i, g in enumerate(vocab)}
        n = len(units)
        self.idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in vocab])
        self.unseen_idf = math.log(1 + n) + 1
        x = np.vstack([self._tfidf(row) for row in rows])
        # SVD through the small Gram matrix: X Xᵀ = U Σ² Uᵀ, then V = Xᵀ U Σ⁻¹.
        eigenvalues, u = np.linalg.eigh(x @ x.T)
        order = np.argsort(eigenvalues)[::-1]
        keep = [i for i in order if eigenvalues[i] > 1e-9 * eigenvalues[order[0]]]
        s = np.sqrt(eigenvalues[keep])
        v = (x.T @ u[:, keep]) / s
        signs = np.sign(v[np.abs(v).argmax(axis=0), np.arange(v.shape[1])])
        self.components = v * signs  # deterministic signs: largest entry of each is positive
        self.rank = self.components.shape[1]

    def _tfidf(self, counts: Counter) -> np.ndarray:
        row = np.zeros(len(self.index))
        for gram, c in counts.items():
            if gram in self.index:
                row[self.index[gram]] = 1 + math.log(c)
        row *= self.idf
        norm = np.linalg.norm(row)
        return row / norm if norm else row

    def embed(self, text: str, dimension: int = 1024) -> list[float]:
        row = self._tfidf(ngrams(text))
        used = np.flatnonzero(row)  # a short text touches few n-grams: multiply only those
        z = row[used] @ self.components[used, :dimension]
        vector = np.zeros(dimension)
        vector[:len(z)] = z
        norm = np.linalg.norm(vector)
        return [round(float(x), 6) for x in (vector / norm if norm else vector)]

    def rerank_score(self, query: str, document: str) -> float:
        """Half bigram coverage of the query by the document, half LSA cosine (≥ 0)."""
        q, d = ngrams(query, (2,)) or ngrams(query, (1,)), ngrams(document, (1, 2))
        weight = {g: self.idf[self.index[g]] if g in self.index else self.unseen_idf for g in q}
        total = sum(weight.values())
        coverage = sum(w for g, w in weight.items() if g in d) / total if total else 0.0
        a, b = self._embed_cached(query), self._embed_cached(document)
        cosine = max(0.0, float(np.dot(a, b)))
        return round((coverage + cosine) / 2, 6)

    @lru_cache(maxsize=4096)
    def _embed_cached(self, text: str) -> tuple[float, ...]:
        return tuple(self.embed(text, self.rank))

    @property
    def label(self) -> str:
        return f"{EMBEDDING_METHOD}; fitted on kb@{self.fingerprint}; rank {self.rank}"


@lru_cache(maxsize=1)
def model() -> LSAModel:
    return LSAModel(corpus_units(kb_folder()))


def embed_texts(texts: list[str], dimension: int = 1024) -> list[list[float]]:
    """The vectors the replay server returns for ``texts`` (what tests recompute)."""
    return [model().embed(t, dimension) for t in texts]


# --- the responder ----------------------------------------------------------------------


def _count_tokens(text: str) -> int:
    from ..tokens import count_tokens

    return count_tokens(text)


def _reply(status: int, body: dict, request_id: str, method: str) -> dict:
    return {"status": status, "body": body, "delay_ms": 60,
            "headers": {"Content-Type": wire.JSON_CONTENT_TYPE, "x-request-id": request_id,
                        HEADER: method}}


def _error(request, status: int, code: str, message: str, method: str) -> dict:
    rid = wire.new_request_id()
    if request.compatible:
        body = {**wire.compat_error(code, message, rid, error_type=code), "id": rid}
    else:
        body = wire.native_error(code, message, rid)
    return _reply(status, body, rid, method)


def _embedding(request, body: dict) -> dict:
    method = model().label
    if request.compatible:
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        dimension = body.get("dimensions") or 1024
    else:
        texts = (body.get("input") or {}).get("texts", [])
        dimension = (body.get("parameters") or {}).get("dimension") or 1024
    name = str(body.get("model", ""))
    limit = 25 if name in ("text-embedding-v1", "text-embedding-v2") else 10
    if len(texts) > limit:
        return _error(request, 400, "InvalidParameter", BATCH_LIMIT_MESSAGE.format(n=limit),
                      method)
    if not texts or not all(isinstance(t, str) and t for t in texts) \
            or dimension not in DIMENSIONS:
        return _error(request, 400, "InvalidParameter",
                      "回放模式的本地替身：input 需要 1–10 段非空文字，dimension 只能是 "
                      + "、".join(map(str, DIMENSIONS)) + "。", method)
    vectors = embed_texts(texts, int(dimension))
    tokens = sum(_count_tokens(t) for t in texts)
    rid = wire.new_request_id()
    out = (wire.compat_embedding(vectors, tokens, name, rid) if request.compatible
           else wire.native_embedding(vectors, tokens, rid))
    return _reply(200, out, rid, method)


def _rerank(request, body: dict) -> dict:
    method = f"{RERANK_METHOD}; {model().label}"
    inp, params = body.get("input") or {}, body.get("parameters") or {}
    query, documents = inp.get("query"), inp.get("documents") or []
    if not isinstance(query, str) or not query or not documents or len(documents) > 500:
        return _error(request, 400, "InvalidParameter",
                      "回放模式的本地替身：需要非空的 query 和 1–500 篇 documents。", method)
    texts = [d if isinstance(d, str) else str((d or {}).get("text", "")) for d in documents]
    scores = [model().rerank_score(query, t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: (-scores[i], i))[:params.get("top_n")]
    results = [{"index": i, "relevance_score": scores[i],
                **({"document": {"text": texts[i]}} if params.get("return_documents") else {})}
               for i in order]
    tokens = _count_tokens(query) * len(texts) + sum(_count_tokens(t) for t in texts)
    rid = wire.new_request_id()
    return _reply(200, {"output": {"results": results}, "usage": {"total_tokens": tokens},
                        "request_id": rid}, rid, method)


def respond(request) -> dict | None:
    """The server's responder hook: embeddings and rerank requests; anything else passes."""
    if request.method != "POST" or request.path not in (
            wire.NATIVE_EMBEDDING, wire.COMPAT_EMBEDDING, RERANK_PATH):
        return None
    body = request.body if isinstance(request.body, dict) else {}
    try:
        return _rerank(request, body) if request.path == RERANK_PATH \
            else _embedding(request, body)
    except Exception as exc:  # noqa: BLE001 - the client gets a DashScope-shaped 500
        return _error(request, 500, "InternalError",
                      f"本地向量替身出错（{type(exc).__name__}: {exc}），请检查 notebooks/data/kb。",
                      EMBEDDING_METHOD)


def install(server, enabled: bool) -> None:
    """Put ``respond`` on the server's responders (once) or take it off (live/record)."""
    server.responders[:] = [r for r in server.responders if r is not respond]
    if enabled:
        server.responders.append(respond)
