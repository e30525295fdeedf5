"""The model catalogue (helpers/data/models.json): well formed, recent, and the only place a
retired model is named; checks and prices come from it, in replay and in live mode."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import helpers
from helpers import config, doctor, meter, models, tokens
from helpers.replay import wire

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE_FILE = "helpers/data/models.json"


# --- the data file ------------------------------------------------------------------------------
def test_every_entry_is_complete_and_sourced():
    raw = json.loads((ROOT / CATALOGUE_FILE).read_text(encoding="utf-8"))
    assert raw["read_on"] == models.READ_ON
    fields = set(models.Model.__dataclass_fields__) - {"name", "note", "retires_on", "replacement"}
    for name, model in models.CATALOGUE.items():
        assert fields <= set(raw["models"][name]), name
        assert re.match(r"https://(help\.aliyun\.com|www\.alibabacloud\.com)/", model.source), name
        dt.date.fromisoformat(model.read_on)
        assert set(model.unconfirmed) <= set(raw["models"][name]), f"{name}: unknown field listed"
        if model.status != "current":
            dt.date.fromisoformat(model.retires_on)
        for tier in model.prices:
            assert 0 < tier.input < tier.output, name
        if model.max_input and model.context:
            assert model.max_input <= model.context, name


def test_issue_figures():
    """Figures the official models page gave (docs/fact-check.md)."""
    plus, qmax = models.CATALOGUE["qwen-plus"], models.CATALOGUE["qwen-max"]
    assert (plus.snapshot, plus.context, plus.max_input, plus.max_input_thinking, plus.max_output) == (
        "qwen-plus-2025-12-01", 1_000_000, 997_952, 995_904, 32_768)
    assert (qmax.context, qmax.max_input) == (32_768, 30_720)
    flash = models.CATALOGUE["qwen-flash"].prices[0]
    assert (flash.tier, flash.input, flash.output) == ("≤128K", 0.15, 1.5)


def test_catalogue_was_read_within_six_months():
    """Fails six months after the catalogue's read date: re-check it (docs/fact-check.md)."""
    assert not models.is_stale(), (
        f"{CATALOGUE_FILE} was last checked on {models.READ_ON}, {models.age_days()} days ago: "
        "re-read its sources, update the figures and read_on (docs/fact-check.md).")


def test_staleness_threshold():
    read = dt.date.fromisoformat(models.READ_ON)
    assert not models.is_stale(read + dt.timedelta(days=models.STALE_AFTER_DAYS))
    assert models.is_stale(read + dt.timedelta(days=models.STALE_AFTER_DAYS + 1))


def test_doctor_warns_without_failing_when_the_catalogue_is_old(monkeypatch):
    assert doctor.check_catalogue().ok and not doctor.check_catalogue().warn
    monkeypatch.setattr(models, "age_days", lambda today=None: 400)
    monkeypatch.setattr(models, "is_stale", lambda today=None: True)
    check = doctor.check_catalogue()
    assert check.ok and check.warn  # a warning: the report still passes
    assert str(check).startswith("⚠ 模型目录") and "已过去 400 天" in str(check) and "核对" in str(check)


def test_doctor_flags_plan_keys_and_names_the_region(monkeypatch):
    monkeypatch.setattr(doctor, "current", lambda: config.Settings(
        mode="live", model="qwen-plus", region="intl", api_key="sk-sp-" + "a1b2c3d4" * 4,
        env_file=None))
    check = doctor.check_key()
    assert not check.ok and "Coding Plan / Token Plan" in str(check) and "401" in str(check)
    assert "新加坡" in str(check)


def test_config_reexports_the_catalogue():
    assert config.MODELS is models.MODELS and config.check_model is models.check_model
    assert config.known_models() == models.known_models()
    assert set(models.retired_names()).isdisjoint(config.MODELS)


# --- no retired model anywhere ------------------------------------------------------------------
def _kit_files() -> list[Path]:
    try:
        names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the folders
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    keep = ("notebooks/", "helpers/", "bench/", "docs/", "README", "CONTRIBUTING", ".env.example",
            "Makefile", "environment.yml")
    return [ROOT / n for n in names if n.startswith(keep) and n != CATALOGUE_FILE
            and Path(n).suffix in {".py", ".ipynb", ".json", ".yaml", ".md", ".example", ""}]


def test_no_lesson_helper_cli_example_or_recording_names_a_retired_model():
    names = models.retired_names()
    assert names, "the catalogue lists retired models; the test must have something to look for"
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, names)) + r")(?![\w.]|-[a-z])")
    found = []
    for path in _kit_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not found, "retired models named outside the catalogue:\n" + "\n".join(found)


def test_the_scan_would_catch_one(tmp_path):
    name = models.retired_names()[0]
    pattern = re.compile(r"(?<![\w.-])(" + re.escape(name) + r")(?![\w.]|-[a-z])")
    assert pattern.search(f"| `--model {name}` | 换模型 |")
    assert pattern.search(f'"model": "{name}-2025-02-11"')
    assert not pattern.search(f"{name}x")


# --- live mode against a fake upstream on loopback --------------------------------------------
class FakeUpstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    models_seen: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.models_seen.append(body["model"])
        rid = "1a2b3c4d-0000-1111-2222-333344445555"
        if self.headers.get("X-DashScope-SSE") == "enable":
            events = wire.native_stream([("已", 1), ("回答", 1)], 9, "stop", rid)
            data = "".join(wire.encode_event(e, False) for e in events).encode("utf-8")
            content_type = wire.SSE_CONTENT_TYPE
        else:
            data = wire.dumps(wire.native_json("已回答", "stop", (9, 2), rid, True)).encode("utf-8")
            content_type = wire.JSON_CONTENT_TYPE
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def live(monkeypatch):
    """Live mode (billed) with DashScope's address replaced by a fake on 127.0.0.1."""
    FakeUpstream.models_seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeUpstream)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setitem(config.REGIONS, "cn", f"http://127.0.0.1:{httpd.server_address[1]}")
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-" + "f4ke11ve" * 4)
    monkeypatch.setenv("LLM_MODE", "live")
    settings = helpers.setup()
    assert settings.mode == "live" and settings.replay_url is None
    meter.METER.reset()
    yield
    httpd.shutdown()
    httpd.server_close()
    monkeypatch.undo()
    meter.METER.reset()
    helpers.setup()


@pytest.mark.parametrize("call", [helpers.chat, helpers.stream_chat])
def test_billed_call_to_a_model_without_price_keeps_the_answer(live, call):
    unpriced = next(n for n in models.MODELS if n not in tokens.PRICES)
    with pytest.warns(tokens.PriceUnknownWarning):
        reply = call("你好", model=unpriced)  # must not raise after the service answered
    assert reply.text == "已回答" and FakeUpstream.models_seen == [unpriced]
    last = meter.METER.calls[-1]
    assert last.billed and last.cost is None and meter.METER.unpriced == 1
    assert "费用未知" in meter.METER.summary()


def test_billed_call_to_a_dated_snapshot_is_priced_as_its_alias(live):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no price warning for a known snapshot
        helpers.chat("你好", model="qwen-plus-2025-07-28")
    cost = meter.METER.calls[-1].cost
    assert cost == pytest.approx(tokens.estimate_cost({"input_tokens": 9, "output_tokens": 2},
                                                      "qwen-plus"))
    assert round(cost * 1e6, 1) == round(9 * 0.8 + 2 * 2.0, 1)  # 元/百万 × tokens
