"""Console chat: time from pressing Enter to the first character of the answer on screen.

Drives `python -m helpers.project1` through a real pseudo-terminal (pexpect) in replay mode and
times, for the course's first question, the moment Enter is sent → the moment "助手：" and
the first piece of the answer arrive. That span covers the whole path: readline, the end
detector, token counting, the HTTP request to the loopback replay server, its pacing, the
SDK's SSE parsing and the print. At LLM_REPLAY_SPEED=1 the server waits the recorded
time to first byte (authored: 380 ms); at 0 it does not wait at all.

    python bench/bench_chat.py
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 10
QUESTION = "我想买一双鞋，有什么建议吗？请20字以内回答我"
CONFIGS = [("1", []), ("0", []), ("1", ["--no-stream"])]  # (LLM_REPLAY_SPEED, options)


def recorded_ttfb_ms() -> int:
    """The first-byte delay stored with this question's streamed recording."""
    data = json.loads((ROOT / "notebooks/recordings/06_project1_chat.json").read_text(encoding="utf-8"))
    for exchange in data["exchanges"]:
        messages = exchange["request"]["body"]["input"]["messages"]
        if exchange["request"]["stream"] and len(messages) == 2 and messages[-1]["content"] == QUESTION:
            return exchange["response"]["events"][0]["delay_ms"]
    return -1


def measure(speed: str, options: list[str]) -> list[float]:
    import pexpect

    env = {k: v for k, v in os.environ.items() if k not in ("DASHSCOPE_API_KEY", "LLM_MODEL")}
    env.update(LLM_MODE="replay", LLM_REPLAY_SPEED=speed, LLM_ENV_FILE="none", TERM="dumb",
               PYTHONIOENCODING="utf-8")
    child = pexpect.spawn(sys.executable, ["-m", "helpers.project1", *options], cwd=str(ROOT), env=env,
                          encoding="utf-8", timeout=60, dimensions=(40, 200))
    child.expect_exact("你：")
    times = []
    for _ in range(ROUNDS + 1):  # the first round warms up (imports, tokenizer, connection)
        child.sendline("/reset")  # same history every round, so the same recording answers
        child.expect_exact("你：")
        child.sendline(QUESTION)
        started = time.perf_counter()
        child.expect(r"助手：\S")
        times.append(time.perf_counter() - started)
        child.expect_exact("你：")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return times[1:]


def main() -> int:
    if sys.platform == "win32":
        print("跳过：需要 POSIX 伪终端（pexpect）。")
        return 0
    try:
        import pexpect  # noqa: F401
    except ImportError:
        print("跳过：需要 pexpect（pip install -e '.[test]'）。")
        return 0
    print(f"控制台聊天：回车 → 屏幕上出现回答的第一个字（回放模式，{ROUNDS} 次，不含预热）")
    print(f"录制中该问题的首字节延迟：{recorded_ttfb_ms()} ms")
    for speed, options in CONFIGS:
        ms = [t * 1000 for t in measure(speed, options)]
        label = f"LLM_REPLAY_SPEED={speed} {' '.join(options) or '流式'}"
        print(f"  {label:34s} 中位数 {statistics.median(ms):6.1f} ms   "
              f"最小 {min(ms):6.1f} ms   最大 {max(ms):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
