"""Replay server speed: time to first byte and total time for a 200-chunk stream at speed 0,
the time to answer a request with no recording, and import/setup cost.

    python bench/bench_replay.py
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROUNDS = 30


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    (folder / "specs").mkdir()
    from helpers.replay.author import token_pieces

    # Exactly 200 frames: 199 content pieces and the closing frame.
    reply, n = "", 0
    while len(token_pieces(reply)[0]) < 199:
        n += 1
        reply = "，".join(f"第{i}句话讲一个小知识点" for i in range(n))
    while len(token_pieces(reply)[0]) > 199:
        reply = reply[:-1]
    (folder / "specs" / "b.yaml").write_text(f"- user: 长回答\n  reply: {reply}\n", encoding="utf-8")
    os.environ.update(LLM_ENV_FILE="none", LLM_RECORDINGS=str(folder), LLM_REPLAY_SPEED="0")
    os.environ.pop("DASHSCOPE_API_KEY", None)

    import helpers

    os.environ["LLM_MODE"] = "author"
    settings = helpers.setup("b")
    import dashscope

    list(dashscope.Generation.call(model=settings.model, messages=[{"role": "user", "content": "长回答"}],
                                   result_format="message", stream=True, incremental_output=True))
    os.environ["LLM_MODE"] = "replay"
    settings = helpers.setup("b")

    url = settings.base_url + "/services/aigc/text-generation/generation"
    body = {"model": settings.model, "parameters": {"result_format": "message", "incremental_output": True},
            "input": {"messages": [{"role": "user", "content": "长回答"}]}}
    session = requests.Session()
    ttfb, total, frames = [], [], 0
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        with session.post(url, json=body, headers={"X-DashScope-SSE": "enable"}, stream=True) as r:
            chunks = r.iter_content(chunk_size=None)
            first = next(chunks)
            ttfb.append(time.perf_counter() - t0)
            data = first + b"".join(chunks)
        total.append(time.perf_counter() - t0)
        frames = data.count(b"\n\n")

    miss = []
    for i in range(ROUNDS):
        t0 = time.perf_counter()
        r = session.post(url, json={**body, "input": {"messages": [{"role": "user", "content": f"没录过{i}"}]}})
        miss.append(time.perf_counter() - t0)
        assert r.status_code == 400 and r.json()["code"] == "ReplayMiss"  # docs/replay.md: why 400

    sdk = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        text = "".join(x.output.choices[0].message.content for x in dashscope.Generation.call(
            model=settings.model, messages=body["input"]["messages"], result_format="message",
            stream=True, incremental_output=True))
        sdk.append(time.perf_counter() - t0)
    assert text == reply

    ms = lambda xs: f"p50 {statistics.median(xs) * 1000:7.2f} ms   max {max(xs) * 1000:7.2f} ms"  # noqa: E731
    print(f"回放服务基准（速度 0，{ROUNDS} 轮，127.0.0.1，Python {sys.version.split()[0]}）")
    print(f"  {frames} 帧的流：首字节        {ms(ttfb)}")
    print(f"  {frames} 帧的流：全部收完      {ms(total)}")
    print(f"  同一个流经 dashscope SDK 读完 {ms(sdk)}")
    print(f"  没有录制的请求 → 400 ReplayMiss     {ms(miss)}（要求 ≤ 1 秒）")
    import subprocess

    cold = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import helpers; helpers.setup()"], check=True)
        cold.append(time.perf_counter() - t0)
    print(f"  新进程 import helpers + setup()（含 dashscope 与回放服务）{ms(cold)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
