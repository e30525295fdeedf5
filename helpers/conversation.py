"""Lesson 02: multi-turn chat history — what was said, what to send next, how to save it.

A Conversation keeps the system prompt apart from the user/assistant turns, enforces
that the two roles alternate (user first), and can trim old turns to a token budget.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .redaction import redact
from .tokens import count_message_tokens

_ROLE_NAMES = {"system": "系统提示", "user": "用户", "assistant": "助手"}
_FORMAT_VERSION = 1
# The course's shopping-assistant persona, used by lessons 02–06 and the console chat.
DEFAULT_SYSTEM = "你是一家鞋服店铺的导购助手，回答简洁、友好、实用。"


@dataclass(frozen=True)
class Turn:
    """One user or assistant message. `partial` marks a reply cut off mid-stream."""

    role: str
    content: str
    partial: bool = False

    def as_message(self) -> dict[str, str]:
        """The plain {"role", "content"} dict the API expects (no `partial` key)."""
        return {"role": self.role, "content": self.content}


class Conversation:
    """Chat history with an optional system prompt and an optional request token budget."""

    def __init__(self, system: str | None = None, budget_tokens: int | None = None) -> None:
        if system is not None and not isinstance(system, str):
            raise TypeError("system 必须是字符串或 None")
        if budget_tokens is not None and (not isinstance(budget_tokens, int) or budget_tokens <= 0):
            raise ValueError(f"budget_tokens 必须是正整数或 None，收到 {budget_tokens!r}")
        self.system = system or None  # an empty prompt would still cost template tokens
        self.budget_tokens = budget_tokens
        self._turns: list[Turn] = []

    # -- building the history ------------------------------------------------

    def _add(self, role: str, text: str, partial: bool = False) -> None:
        if role not in ("user", "assistant"):
            raise ValueError(f"对话轮次的角色只能是 user 或 assistant，收到 {role!r}")
        if not isinstance(text, str):
            raise TypeError(f"消息内容必须是字符串，收到 {type(text).__name__}")
        expected = "assistant" if self._turns and self._turns[-1].role == "user" else "user"
        if role != expected:
            raise ValueError(f"user 与 assistant 必须交替出现（且由 user 开始），这里应当是 {expected}")
        self._turns.append(Turn(role, text, partial))

    def add_user(self, text: str) -> None:
        """Append a user message."""
        self._add("user", text)

    def add_assistant(self, text: str, partial: bool = False) -> None:
        """Append a reply; partial=True keeps an interrupted stream but marks it."""
        self._add("assistant", text, partial)

    def pop_last_user(self) -> str:
        """Remove and return the last user message, e.g. after its request failed."""
        if not self._turns or self._turns[-1].role != "user":
            raise ValueError("最后一条不是用户消息，无法撤回")
        return self._turns.pop().content

    def reset(self) -> None:
        """Forget every turn but keep the system prompt and budget."""
        self._turns.clear()

    # -- reading the history -------------------------------------------------

    @property
    def turns(self) -> tuple[Turn, ...]:
        """User/assistant turns, oldest first (read-only)."""
        return tuple(self._turns)

    def _head(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}] if self.system else []

    @property
    def messages(self) -> list[dict[str, str]]:
        """The full history as API messages, system prompt first."""
        return self._head() + [t.as_message() for t in self._turns]

    def messages_for_request(self) -> list[dict[str, str]]:
        """What to send: system prompt + the newest turns that fit in budget_tokens.

        Older turns are dropped a whole user/assistant pair at a time, and the newest
        user message (with its reply, if there is one) is always kept, even over budget.
        """
        if self.budget_tokens is None:
            return self.messages
        head, turns = self._head(), [t.as_message() for t in self._turns]
        # The newest unit is a pending user message, or the last pair if the reply is in.
        newest = 1 if turns and turns[-1]["role"] == "user" else 2
        kept, older = turns[-newest:], turns[:-newest]
        # Alternation starting with "user" means `older` is a run of complete pairs.
        while older:
            candidate = older[-2:] + kept
            if count_message_tokens(head + candidate) > self.budget_tokens:
                break
            kept, older = candidate, older[:-2]
        return head + kept

    def __len__(self) -> int:
        """Number of user/assistant turns (the system prompt is not counted)."""
        return len(self._turns)

    def __repr__(self) -> str:
        budget = f"，预算 {self.budget_tokens} tokens" if self.budget_tokens else ""
        return f"<Conversation {len(self)} 条消息，{'有' if self.system else '无'}系统提示{budget}>"

    def _repr_markdown_(self) -> str:
        """In a notebook: the transcript itself (content first), then one facts line."""
        rows = [f"**{_ROLE_NAMES[t.role]}**：{t.content}" + ("（中断）" if t.partial else "")
                for t in self._turns]
        return "\n\n".join(rows + [f"<small>{repr(self)[1:-1]}</small>"])

    # -- export / import -----------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """Plain data: version, system, budget_tokens, turns (with partial flags)."""
        return {"version": _FORMAT_VERSION, "system": self.system,
                "budget_tokens": self.budget_tokens, "turns": [asdict(t) for t in self._turns]}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Conversation:
        """Rebuild from to_dict() output, strictly: every field has its type, roles alternate."""
        turns = data.get("turns", []) if isinstance(data, dict) else None
        if not isinstance(turns, list):
            raise ValueError("对话文件格式不对：应为 {\"system\": …, \"turns\": [ … ]}，请用 /save 或 .save() 生成的 .json")
        try:
            conv = cls(system=data.get("system"), budget_tokens=data.get("budget_tokens"))
        except TypeError as exc:
            raise ValueError(f"对话文件格式不对：{exc}") from None
        for number, turn in enumerate(turns, start=1):
            fields = turn if isinstance(turn, dict) else {}
            role, content = fields.get("role"), fields.get("content")
            partial = fields.get("partial", False)
            if not isinstance(role, str) or not isinstance(content, str) or not isinstance(partial, bool):
                raise ValueError(f"对话文件第 {number} 轮格式不对：需要字符串 role、content，"
                                 f"partial 只能是 true 或 false（收到 {turn!r:.80}）")
            conv._add(role, content, partial)
        return conv

    def to_json(self) -> str:
        """UTF-8 JSON with Chinese left readable (not \\u-escaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Conversation:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"对话文件不是有效的 JSON（{exc}）") from None
        return cls.from_dict(data)

    def to_markdown(self) -> str:
        """A readable transcript. Export only: load() reads JSON."""
        lines = ["# 对话记录", ""]
        if self.system:
            lines += [f"## {_ROLE_NAMES['system']}", "", self.system, ""]
        for number, turn in enumerate(self._turns, start=1):
            title = f"## {number}. {_ROLE_NAMES[turn.role]}"
            if turn.partial:
                title += "（回复中断，内容不完整）"
            lines += [title, "", turn.content, ""]
        return "\n".join(lines)

    def save(self, path: str | Path, *, overwrite: bool = True) -> Path:
        """Write JSON (.json) or Markdown (.md), chosen by the file suffix, with any key hidden.

        All or nothing: a temporary file is renamed into place, so a full disk never leaves
        half a file. A symbolic link is never written through; with ``overwrite=False`` an
        existing file raises FileExistsError and stays as it was.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".json", ".md"):
            raise ValueError(f"只支持 .json 或 .md 文件，收到 {path.name!r}")
        if path.is_symlink():
            raise ValueError(f"{path} 是一个符号链接，为安全起见不写入：请换一个文件名")
        text = redact(self.to_json() if suffix == ".json" else self.to_markdown()) + "\n"
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            if overwrite:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)  # fails if the name exists, even in a race
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Conversation:
        """Read a conversation saved as .json."""
        path = Path(path)
        if path.suffix.lower() != ".json":
            # Message text may itself contain Markdown headings, so a .md transcript
            # cannot be split back into turns reliably.
            raise ValueError(f"只能从 .json 文件加载对话（{path.name} 不是）；Markdown 仅用于阅读")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{path.name} 不是 UTF-8 编码的文本，无法读回对话") from None
        return cls.from_json(text)
