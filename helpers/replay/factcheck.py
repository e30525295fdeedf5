"""Re-check, against the live service, the DashScope facts the lessons teach (maintainers).

``make record`` runs this after recording: a handful of tiny requests (a misspelled model, a
retired one, an over-long max_tokens are refused before any generation; two short questions
cost a few dozen tokens), each reading one fact, printed next to what docs/fact-check.md and
helpers/data/models.json say. Nothing is saved. The comparison is plain data, tested offline
(tests/test_factcheck.py); only ``observe`` needs the network and a key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ..redaction import redact

NATIVE = "/api/v1/services/aigc/text-generation/generation"
COMPATIBLE = "/compatible-mode/v1/chat/completions"
QUESTION = "你是谁？"  # the course's first question (lesson 01)
MISSPELLED = "qwen-plsu"


@dataclass(frozen=True)
class Fact:
    key: str
    claim: str  # what the kit says, in Chinese
    expected: Any
    observed: Any = None
    problem: str | None = None  # why it could not be observed

    @property
    def status(self) -> str:
        if self.problem is not None:
            return "unchecked"
        return "same" if self.observed == self.expected else "different"

    def __str__(self) -> str:
        mark = {"same": "✓ 一致", "different": "✗ 不同", "unchecked": "– 未能检查"}[self.status]
        line = f"{mark}　{self.claim}：课程写的是 {self.expected!r}"
        if self.status == "different":
            line += f"，实测 {self.observed!r}"
        elif self.problem:
            line += f"（{self.problem}）"
        return line


def expected_facts() -> dict[str, tuple[str, Any]]:
    """key → (claim, the value the kit teaches), from the catalogue where it has the figure."""
    from ..models import CATALOGUE, DATA_FILE, retired_names

    facts: dict[str, tuple[str, Any]] = {
        "misspelled_native": ("原生接口：模型名拼错", (400, "InvalidParameter", "Model not exist.")),
        "misspelled_compatible": ("兼容接口：模型名拼错", (404, "model_not_found")),
        "default_result_format": ("不写 result_format 时 qwen-plus 的回答位置", "output.text"),
        "think_block_tokens": ("qwen-plus 非思考模式比经典 ChatML 多出的输入 tokens", 4),
        "max_output": (f"qwen-plus 的最大输出（{DATA_FILE.name}）",
                       CATALOGUE["qwen-plus"].max_output),
    }
    for name in retired_names():
        facts[f"retired:{name}"] = (f"{name} 已下线", "4xx")
    return facts


def _post(host: str, key: str, path: str, body: dict, http: Callable) -> tuple[int, dict]:
    response = http(host + path, json=body, timeout=60,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"text": response.text[:300]}


def observe(host: str, key: str, http: Callable | None = None) -> dict[str, Any]:
    """key → what the live service answered now; an Exception value when a probe failed."""
    from ..tokens import count_message_tokens

    if http is None:
        import requests  # a dashscope dependency

        http = requests.post
    messages = [{"role": "user", "content": QUESTION}]

    def native(model: str, **parameters: Any) -> tuple[int, dict]:
        return _post(host, key, NATIVE, {"model": model, "input": {"messages": messages},
                                         "parameters": parameters}, http)

    def misspelled_native() -> Any:
        status, body = native(MISSPELLED, result_format="message")
        return status, body.get("code"), body.get("message")

    def misspelled_compatible() -> Any:
        status, body = _post(host, key, COMPATIBLE, {"model": MISSPELLED, "messages": messages}, http)
        return status, (body.get("error") or {}).get("code")

    def default_result_format() -> Any:
        _, body = native("qwen-plus", max_tokens=5)
        output = body.get("output") or {}
        return "output.text" if output.get("text") else "output.choices" if output.get("choices") \
            else f"neither: {body}"

    def think_block_tokens() -> Any:
        _, body = native("qwen-plus", result_format="message", max_tokens=5)
        return body["usage"]["input_tokens"] - count_message_tokens(messages)

    def max_output() -> Any:
        _, body = native("qwen-plus", result_format="message", max_tokens=10**6)
        found = re.search(r"max_tokens.*?\[1,\s*(\d+)\]", str(body.get("message", "")))
        return int(found.group(1)) if found else body.get("message")

    probes: dict[str, Callable[[], Any]] = {
        "misspelled_native": misspelled_native, "misspelled_compatible": misspelled_compatible,
        "default_result_format": default_result_format, "think_block_tokens": think_block_tokens,
        "max_output": max_output}
    for name in [k.split(":", 1)[1] for k in expected_facts() if k.startswith("retired:")]:
        probes[f"retired:{name}"] = (lambda n=name: (lambda s: "4xx" if 400 <= s < 500 else s)(
            native(n, result_format="message", max_tokens=5)[0]))
    observed: dict[str, Any] = {}
    for key_, probe in probes.items():
        try:
            observed[key_] = probe()
        except Exception as exc:  # noqa: BLE001 - one failed probe must not hide the others
            observed[key_] = exc
    return observed


def compare(expected: dict[str, tuple[str, Any]], observed: dict[str, Any]) -> list[Fact]:
    facts = []
    for key, (claim, value) in expected.items():
        seen = observed.get(key)
        if key not in observed:
            facts.append(Fact(key, claim, value, problem="没有实测"))
        elif isinstance(seen, Exception):
            facts.append(Fact(key, claim, value, problem=redact(f"{type(seen).__name__}: {seen}")))
        else:
            facts.append(Fact(key, claim, value, tuple(seen) if isinstance(seen, list) else seen))
    return facts


def report(facts: list[Fact]) -> str:
    """The Chinese table `make record` prints; differences say which doc to update."""
    lines = ["在线核对 docs/fact-check.md 中可以实测的事实："] + [str(f) for f in facts]
    different = [f for f in facts if f.status == "different"]
    lines.append(f"共 {len(facts)} 项：{len(facts) - len(different)} 项一致或未能检查，"
                 f"{len(different)} 项不同" + ("——请更新 docs/fact-check.md、helpers/data/"
                                              "models.json 和相关课程。" if different else "。"))
    return "\n".join(lines)


def recheck(host: str, key: str, http: Callable | None = None) -> str:
    return report(compare(expected_facts(), observe(host, key, http)))
