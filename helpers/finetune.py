"""LoRA for real on a laptop CPU (lesson 12): a tiny Qwen2-architecture model, built locally.

Nothing is downloaded. The model is ``transformers``' Qwen2 code with a tiny configuration
(tens of thousands of parameters instead of billions) and a character vocabulary built from
the lesson's own facts, so the whole fine-tuning loop — train, measure, add a LoRA adapter,
train it, save it, load it — runs in seconds and shows the same effects as on a real model.

Needs the optional extra: ``pip install -e '.[finetune]'`` (torch CPU, transformers, peft).
"""
from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = ("这一节需要可选依赖 torch、transformers、peft（CPU 版）。安装：make finetune；"
                "不用 make 时，Windows/macOS 运行 pip install -e \".[finetune]\"，Linux 先运行 "
                "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu "
                "再运行同一条命令。装好后重启内核。")
PROMPT, ANSWER, END = "问：", "\n答：", "\n"


def available() -> bool:
    """True when torch, transformers and peft can be imported.

    ``LLM_FINETUNE_EXTRA=off`` makes it answer False, as if the extra were not installed, so
    the lesson's no-extra path is tested on a machine that has it.
    """
    if os.environ.get("LLM_FINETUNE_EXTRA", "").lower() == "off":
        return False
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def reproducible() -> None:
    """One CPU thread: the same order of floating-point sums on every run of this machine."""
    import torch

    torch.set_num_threads(1)


class CharTokenizer:
    """One id per character seen in the texts; id 0 pads. Enough for a tiny model."""

    def __init__(self, texts: list[str]):
        chars = sorted({c for text in texts for c in text} | set(PROMPT + ANSWER + END))
        self.id_of = {c: i + 1 for i, c in enumerate(chars)}
        self.char_of = {i: c for c, i in self.id_of.items()}

    def __len__(self) -> int:
        return len(self.id_of) + 1

    def encode(self, text: str) -> list[int]:
        return [self.id_of[c] for c in text if c in self.id_of]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.char_of.get(i, "") for i in ids)


def tiny_qwen2(vocab_size: int, seed: int = 0, hidden: int = 48, layers: int = 2):
    """A randomly initialised Qwen2ForCausalLM small enough to train on a CPU in seconds."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=128, tie_word_embeddings=True)
    return Qwen2ForCausalLM(config)


def parameter_count(model, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def lora_sizes(d: int, k: int, r: int) -> tuple[int, int]:
    """Parameters of a full d×k weight update against a rank-r LoRA update (B·A)."""
    return d * k, r * (d + k)


@dataclass
class TrainResult:
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _batch(tokenizer: CharTokenizer, pairs: list[tuple[str, str]]):
    import torch

    rows = [tokenizer.encode(PROMPT + q + ANSWER + a + END) for q, a in pairs]
    width = max(map(len, rows))
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for n, (row, (q, _)) in enumerate(zip(rows, pairs)):
        ids[n, :len(row)] = torch.tensor(row)
        start = len(tokenizer.encode(PROMPT + q + ANSWER))  # learn the answer, not the question
        labels[n, start:len(row)] = torch.tensor(row[start:])
    return ids, labels, (ids != 0).long()


def train(model, tokenizer: CharTokenizer, pairs: list[tuple[str, str]], steps: int = 200,
          lr: float = 3e-3, seed: int = 0, on_step=None) -> TrainResult:
    """Full-batch AdamW on the answers; ``on_step(step, loss)`` reports progress."""
    import torch

    torch.manual_seed(seed)
    ids, labels, mask = _batch(tokenizer, pairs)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    result, start = TrainResult(), time.perf_counter()
    for step in range(1, steps + 1):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        result.losses.append(float(loss.detach()))
        if on_step:
            on_step(step, result.losses[-1])
    result.seconds = time.perf_counter() - start
    model.eval()
    return result


def answer(model, tokenizer: CharTokenizer, question: str, limit: int = 24) -> str:
    """Greedy decoding until the end-of-answer character."""
    import torch

    ids = tokenizer.encode(PROMPT + question + ANSWER)
    end = tokenizer.id_of[END]
    with torch.no_grad():
        for _ in range(limit):
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
            logits[0] = float("-inf")  # never the padding id
            nxt = int(logits.argmax())
            if nxt == end:
                break
            ids.append(nxt)
    prefix = len(tokenizer.encode(PROMPT + question + ANSWER))
    return tokenizer.decode(ids[prefix:])


def exact_match(model, tokenizer: CharTokenizer, pairs: list[tuple[str, str]]) -> int:
    """How many questions get exactly the gold answer."""
    return sum(answer(model, tokenizer, q) == a for q, a in pairs)


def add_lora(model, r: int = 8, alpha: int = 16, seed: int = 0):
    """Freeze the model and attach a rank-r LoRA adapter to its attention and MLP layers."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                        "gate_proj", "up_proj", "down_proj"])
    with warnings.catch_warnings():  # transformers' deprecation notice, raised inside peft
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, config)


def save_adapter(peft_model, folder: str | Path) -> int:
    """Save only the adapter; returns its size in bytes on disk."""
    folder = Path(folder)
    peft_model.save_pretrained(folder)
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def load_adapter(base_model, folder: str | Path):
    from peft import PeftModel

    with warnings.catch_warnings():  # the same transformers notice as in add_lora
        warnings.simplefilter("ignore", FutureWarning)
        return PeftModel.from_pretrained(base_model, Path(folder)).eval()
