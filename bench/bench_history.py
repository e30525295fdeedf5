"""How fast does a chat request grow, and what does a token budget buy?

Runs a scripted 50-turn Chinese conversation offline (no API key, no network) and
prints, per turn, the input tokens of the next request with the full history and with
Conversation(budget_tokens=1500), plus the ChatML template overhead.

    python bench/bench_history.py
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from helpers.conversation import Conversation  # noqa: E402
from helpers.listing import display_width  # noqa: E402
from helpers.tokens import count_message_tokens, count_tokens, estimate_cost  # noqa: E402

TURNS = 50
BUDGET = 1500
SEED = 20261121  # fixed, so every run prints the same numbers
MODEL = "qwen-plus"
SYSTEM = "你是一位耐心的旅行规划助手，回答要具体、简洁，并用中文回复。"

USER_CLAUSES = [
    "我下个月想去成都玩五天", "预算大概在五千元左右", "请帮我安排一下每天的行程", "我比较喜欢吃辣",
    "有没有适合拍照的地方", "带着父母一起去需要注意什么", "高铁和飞机哪个更划算", "住在哪个区交通最方便",
    "晚上有什么值得逛的夜市", "雨天可以去哪些室内景点", "大熊猫基地几点开门", "能不能推荐几家本地小馆子",
    "第三天想去都江堰", "回程那天下午的航班", "请把行程改得轻松一点", "门票需要提前预约吗",
]
ASSISTANT_CLAUSES = [
    "好的，我按照你的预算重新整理了一下", "第一天建议上午去宽窄巷子，下午去人民公园喝茶",
    "大熊猫基地最好早上七点半前到，熊猫上午最活跃", "住在春熙路附近地铁方便，晚上出门也安全",
    "带父母出行建议每天只安排两个主要景点，中午留出休息时间", "高铁往返大约一千元，时间灵活，比飞机更省心",
    "都江堰可以从犀浦站坐城际列车，单程约半小时", "雨天可以去四川博物院和金沙遗址博物馆",
    "夜市推荐建设路和玉林路，小吃种类很多", "热门景点门票建议提前一天在官方渠道预约",
    "如果喜欢吃辣，可以试试钵钵鸡、冒菜和火锅", "最后一天把行李寄存在酒店，轻装逛完再去机场",
]


def make_text(rng: random.Random, clauses: list[str], low: int, high: int) -> str:
    """Join random clauses to a length drawn from [low, high] characters."""
    target = rng.randint(low, high)
    text = ""
    while len(text) < target:
        text += rng.choice(clauses) + "，"
    return text[: target - 1] + "。"


def row(cells: list[object], widths: list[int]) -> str:
    return "  ".join(" " * (w - display_width(str(c))) + str(c) for c, w in zip(cells, widths))


def main() -> None:
    rng = random.Random(SEED)
    conv = Conversation(system=SYSTEM, budget_tokens=BUDGET)
    headers = ["轮次", "完整历史消息数", "完整历史 tokens", f"预算 {BUDGET} tokens", "预算下发送消息数"]
    widths = [display_width(h) for h in headers]
    lines, full_sizes, budget_sizes, first_trim = [], [], [], None

    for turn in range(1, TURNS + 1):
        conv.add_user(make_text(rng, USER_CLAUSES, 20, 60))
        full = count_message_tokens(conv.messages)
        sent = conv.messages_for_request()
        trimmed = count_message_tokens(sent)
        full_sizes.append(full)
        budget_sizes.append(trimmed)
        if first_trim is None and len(sent) < len(conv.messages):
            first_trim = turn
        if turn <= 3 or turn % 5 == 0:
            lines.append(row([turn, len(conv.messages), full, trimmed, len(sent)], widths))
        conv.add_assistant(make_text(rng, ASSISTANT_CLAUSES, 60, 120))  # the scripted "reply"

    print(f"脚本化对话：{TURNS} 轮，用户每轮 20–60 字，助手每轮 60–120 字，随机种子 {SEED}")
    print("每行是发出第 N 轮请求时的输入 tokens（含系统提示和 ChatML 模板）：\n")
    print(row(headers, widths))
    print("\n".join(lines))

    total_full, total_budget = sum(full_sizes), sum(budget_sizes)
    cost_full = estimate_cost({"input_tokens": total_full, "output_tokens": 0}, MODEL)
    cost_budget = estimate_cost({"input_tokens": total_budget, "output_tokens": 0}, MODEL)
    print("\n汇总")
    print(f"  最大单次请求：无预算 {max(full_sizes)} tokens，预算 {BUDGET} 时 {max(budget_sizes)} tokens")
    print(f"  从第 {first_trim} 轮起开始丢弃最早的问答对（每次丢一整对，不拆开）")
    print(f"  {TURNS} 次请求的输入合计：无预算 {total_full} tokens，有预算 {total_budget} tokens"
          f"（少 {1 - total_budget / total_full:.0%}）")
    print(f"  按 {MODEL} 输入单价估算：约 ¥{cost_full:.4f} 对 ¥{cost_budget:.4f}（不含输出）")

    messages = conv.messages
    bare = sum(count_tokens(m["content"]) for m in messages)
    overhead = count_message_tokens(messages) - bare
    per_message = (overhead - 3) / len(messages)
    print("\nChatML 模板开销（最终完整历史）")
    print(f"  {len(messages)} 条消息：count_message_tokens = {bare + overhead}，"
          f"各条 content 单独计数之和 = {bare}，差 {overhead} tokens")
    print(f"  = {len(messages)} × {per_message:g} + 3：每条消息都被包成 <|im_start|>角色\\n…<|im_end|>\\n，")
    print("    即 <|im_start|>、角色名、换行、<|im_end|>、换行共 5 个 token；")
    print("    末尾再加 3 个 token 的 <|im_start|>assistant\\n，提示模型从这里开始回答。")
    compare_with_recordings()


def compare_with_recordings() -> None:
    """Local counts against the usage stored in the kit's recordings (lesson 02's conversation)."""
    from helpers.replay import recordings_dir
    from helpers.replay.store import load_file

    rows = []
    for exchange in load_file(recordings_dir() / "02_multi_turn.json"):
        body, response = exchange["request"]["body"], exchange["response"]
        messages = body["input"]["messages"]
        usage = (response.get("body") or response["events"][-1]["data"])["usage"]
        rows.append((exchange["source"], len(messages), usage["input_tokens"],
                     count_message_tokens(messages), sum(count_tokens(m["content"]) for m in messages)))
    print("\n本地计数与录制中的 usage.input_tokens（第 02 课的录制）")
    print("  来源       消息数  录制 input_tokens  本地(含模板)  差   本地(只算正文)  差")
    for source, n, recorded, templated, bare in rows:
        print(f"  {source:9s} {n:6d} {recorded:17d} {templated:13d} {recorded - templated:4d}"
              f" {bare:15d} {recorded - bare:4d}")
    if {r[0] for r in rows} == {"authored"}:
        print("  注意：这些是预先编写的回放数据（authored），usage 由同一个分词器按同一模板算出，所以“含模板”的差必然是 0；"
              "这只证明模板计数自洽。线上服务的差值要等 make record 录到真实回答后才能测量"
              "（官方服务可能另加固定的系统提示 token）。")


if __name__ == "__main__":
    main()
