"""Fine-tuning data (lesson 11): clean, check and count an SFT set before paying to train.

DashScope's fine-tuning takes JSONL in the chat format, one conversation per line:

    {"messages": [{"role": "system", "content": "…"},
                  {"role": "user", "content": "…"}, {"role": "assistant", "content": "…"}]}

An optional system message first, then user and assistant turns alternating, ending with
the assistant (every assistant turn is trained). OpenAI's ``name`` and ``weight`` fields are
not supported. Source: https://help.aliyun.com/zh/model-studio/fine-tuning-api-guide
(the English page: https://www.alibabacloud.com/help/en/model-studio/fine-tuning-api-guide).

Every check here runs offline and reports the line number, so a learner fixes the file
before uploading it. Nothing here prints.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

ROLES = ("system", "user", "assistant")
ALLOWED_MESSAGE_FIELDS = {"role", "content", "loss_weight"}  # loss_weight: invitation only
# The kit's own ceiling per conversation, not a platform figure: long rows are usually
# pasted documents, not conversations. Pass max_tokens= to change it.
DEFAULT_MAX_TOKENS = 8_192

# Private data that must not be trained into a model (lesson 11: 清洗 → 脱敏).
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ORDER_ID = re.compile(r"(?<![A-Za-z0-9])(?:DD|SO|NO)?\d{14,20}(?![A-Za-z0-9])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Problem:
    """One reason a line would be refused, with where it is."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}"


def check_row(row: object, max_tokens: int = DEFAULT_MAX_TOKENS) -> list[str]:
    """Chinese reasons why one parsed line is not a valid SFT conversation (empty: valid)."""
    if not isinstance(row, dict):
        return ["每行应是一个 JSON 对象，形如 {\"messages\": [...]}。"]
    extra = sorted(set(row) - {"messages"})
    problems = [f"不支持的字段 {', '.join(extra)}，只保留 messages。"] if extra else []
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        return problems + ["缺少 messages 列表，或列表为空。"]
    for i, message in enumerate(messages, 1):
        if not isinstance(message, dict):
            problems.append(f"第 {i} 条消息不是对象。")
            continue
        unknown = sorted(set(message) - ALLOWED_MESSAGE_FIELDS)
        if unknown:
            problems.append(f"第 {i} 条消息有不支持的字段 {', '.join(unknown)}"
                            "（name、weight 等 OpenAI 字段平台不接受）。")
        if message.get("role") not in ROLES:
            problems.append(f"第 {i} 条消息的 role 应为 system、user 或 assistant，"
                            f"而不是 {message.get('role')!r}。")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            problems.append(f"第 {i} 条消息的 content 为空或不是文字。")
    if problems:
        return problems
    return _order_problems([m["role"] for m in messages]) or _length_problems(messages, max_tokens)


def _order_problems(roles: list[str]) -> list[str]:
    turns = roles[1:] if roles[0] == "system" else roles
    if "system" in turns:
        return ["system 消息只能出现在第一条。"]
    if not turns:
        return ["只有 system 消息，没有对话。"]
    expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(turns))]
    if turns != expected:
        return ["user 与 assistant 应交替出现，并以 user 开始：" + " → ".join(roles)]
    if turns[-1] != "assistant":
        return ["最后一条应是 assistant 的回答（平台训练的正是这些回答）。"]
    return []


def _length_problems(messages: list[dict], max_tokens: int) -> list[str]:
    tokens = conversation_tokens(messages)
    if tokens > max_tokens:
        return [f"这段对话有 {tokens} 个 token，超过上限 {max_tokens}，请拆分或删减。"]
    return []


def validate_file(path: str | Path, max_tokens: int = DEFAULT_MAX_TOKENS) -> list[Problem]:
    """Every problem of a JSONL file, each with its line number (1-based); blank lines skipped."""
    problems: list[Problem] = []
    with open(path, encoding="utf-8-sig") as lines:  # -sig: a BOM from Windows Notepad
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                row = json.loads(text.strip())
            except ValueError as exc:
                problems.append(Problem(number, f"不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）。"))
                continue
            problems += [Problem(number, m) for m in check_row(row, max_tokens)]
    return problems


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8-sig") as lines:
        return [json.loads(text) for text in lines if text.strip()]


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> Path:
    path = Path(path)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    return path


def mask_private(text: str) -> str:
    """Replace phone numbers, order numbers and e-mail addresses with placeholders."""
    text = EMAIL.sub("[邮箱]", text)
    text = PHONE.sub("[手机号]", text)
    return ORDER_ID.sub("[订单号]", text)


def shingles(text: str, n: int = 3) -> set[str]:
    """Character n-grams of the text with spaces and punctuation removed."""
    letters = re.sub(r"[\W_]+", "", text.lower())
    return {letters[i:i + n] for i in range(max(1, len(letters) - n + 1))} if letters else set()


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def near_duplicates(texts: list[str], threshold: float = 0.8, n: int = 3) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity) of texts whose character n-gram Jaccard ≥ threshold.

    Pairwise, so O(len(texts)²): fine for the hundreds of rows of a lesson. For millions of
    rows the same idea runs with MinHash + LSH (e.g. the ``datasketch`` package).
    """
    grams = [shingles(t, n) for t in texts]
    pairs = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            similarity = jaccard(grams[i], grams[j])
            if similarity >= threshold:
                pairs.append((i, j, round(similarity, 3)))
    return pairs


def deduplicate(texts: list[str], threshold: float = 0.8) -> list[int]:
    """Indexes to keep: the first of every group of exact or near duplicates."""
    dropped = {j for _, j, _ in near_duplicates(texts, threshold)}
    return [i for i in range(len(texts)) if i not in dropped]


def conversation_tokens(messages: list[dict]) -> int:
    """Training tokens of one conversation: all its messages in the Qwen chat template."""
    from .tokens import chat_template, count_tokens

    template = chat_template(messages)
    return count_tokens(template[: -len("<|im_start|>assistant\n")])


def training_tokens(rows: Iterable[dict]) -> int:
    return sum(conversation_tokens(row["messages"]) for row in rows)


def training_cost(tokens: int, epochs: int, price_per_1k: float) -> float:
    """Billing as the platform states it: training tokens × epochs × unit price."""
    return tokens * epochs * price_per_1k / 1000


def split(rows: list[dict], validation_fraction: float = 0.1,
          seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Shuffle with a fixed seed, then cut off a validation share (at least one row)."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    size = max(1, round(len(rows) * validation_fraction)) if len(rows) > 1 else 0
    validation = sorted(order[:size])
    keep = sorted(order[size:])
    return [rows[i] for i in keep], [rows[i] for i in validation]
