"""Lesson 12's CPU LoRA, trained for real: figures asserted rounded, as the lesson states them.

Skipped (with the reason) when the optional ``finetune`` extra is not installed.
"""
from __future__ import annotations

import pytest

from helpers import finetune as ft

pytestmark = pytest.mark.skipif(not ft.available(), reason=ft.INSTALL_HINT)

FACTS = [("退货期限", "七天"), ("运费谁出", "卖家"), ("会员折扣", "九折"),
         ("客服电话", "400-820-1234"), ("发货时间", "48小时内"), ("保修多久", "一年"),
         ("最大尺码", "46码"), ("真皮鞋怎么洗", "软布擦拭"), ("积分怎么算", "一元一分"),
         ("IT电话", "8001")]
OLD, NEW = FACTS[:5], FACTS[5:]


@pytest.fixture(scope="module")
def pretrained():
    import torch

    torch.set_num_threads(1)  # the same arithmetic order on every machine
    tokenizer = ft.CharTokenizer([q + a for q, a in FACTS])
    model = ft.tiny_qwen2(len(tokenizer), seed=0)
    untrained = ft.exact_match(model, tokenizer, FACTS)
    result = ft.train(model, tokenizer, OLD, steps=150, lr=3e-3)
    return model, tokenizer, untrained, result


def test_pretraining_memorises_what_it_saw_and_only_that(pretrained):
    model, tokenizer, untrained, result = pretrained
    assert untrained == 0
    assert result.losses[0] > 3 and result.losses[-1] < 0.1
    assert ft.exact_match(model, tokenizer, OLD) == 5
    assert ft.exact_match(model, tokenizer, NEW) == 0
    # asked what it never learned, it answers confidently with a learned fact: a hallucination
    assert ft.answer(model, tokenizer, NEW[0][0]) in {a for _, a in OLD}


def test_lora_learns_new_facts_with_a_fraction_of_the_parameters(pretrained, tmp_path):
    import copy

    model, tokenizer, _, _ = pretrained
    tuned = ft.add_lora(copy.deepcopy(model), r=8)
    trainable, total = ft.parameter_count(tuned, True), ft.parameter_count(tuned)
    assert trainable / total < 0.25
    ft.train(tuned, tokenizer, FACTS, steps=300, lr=1e-2)
    assert ft.exact_match(tuned, tokenizer, NEW) == 5
    assert ft.exact_match(tuned, tokenizer, OLD) == 5  # trained on old + new: nothing forgotten
    size = ft.save_adapter(tuned, tmp_path / "adapter")
    assert size < 100_000
    reloaded = ft.load_adapter(copy.deepcopy(model), tmp_path / "adapter")
    assert [ft.answer(reloaded, tokenizer, q) for q, _ in FACTS] == [a for _, a in FACTS]


def test_rank_is_a_real_trade_off(pretrained):
    # Lesson 12's rank sweep, over two seeds: one run's counts flip between CPUs (AVX2 and
    # AVX-512 round differently and this training amplifies it), the trend does not.
    import copy

    model, tokenizer, _, _ = pretrained
    learned, loss = {1: 0, 4: 0}, {1: 0.0, 4: 0.0}
    for rank in learned:
        for seed in (0, 1):
            tuned = ft.add_lora(copy.deepcopy(model), r=rank, alpha=2 * rank, seed=seed)
            run = ft.train(tuned, tokenizer, FACTS, steps=300, lr=1e-2, seed=seed)
            learned[rank] += ft.exact_match(tuned, tokenizer, NEW)
            loss[rank] += run.losses[-1] / 2
    assert learned[1] <= 6 < learned[4] and loss[1] > loss[4] + 0.03, (learned, loss)


def test_lora_sizes_of_a_7b_layer():
    full, low_rank = ft.lora_sizes(4096, 4096, 8)
    assert (full, low_rank) == (16_777_216, 65_536)
    assert round(full / low_rank) == 256


def test_char_tokenizer_round_trip():
    tokenizer = ft.CharTokenizer(["七天退货"])
    assert tokenizer.decode(tokenizer.encode("七天退货")) == "七天退货"
    assert tokenizer.encode("未知字") == []
