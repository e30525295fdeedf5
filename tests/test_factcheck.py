"""The live fact re-check of `make record` (helpers/replay/factcheck.py), offline: the
comparison on made-up observations, and the probes against a fake HTTP function."""
from __future__ import annotations

import pytest

from helpers.models import CATALOGUE, retired_names
from helpers.replay import factcheck
from helpers.tokens import count_message_tokens

SAME = {"misspelled_native": (400, "InvalidParameter", "Model not exist."),
        "misspelled_compatible": [404, "model_not_found"],  # lists (JSON) compare as tuples
        "default_result_format": "output.text", "think_block_tokens": 4,
        "max_output": CATALOGUE["qwen-plus"].max_output,
        **{f"retired:{n}": "4xx" for n in retired_names()}}


def test_everything_the_same():
    facts = factcheck.compare(factcheck.expected_facts(), SAME)
    assert {f.status for f in facts} == {"same"}
    text = factcheck.report(facts)
    assert "0 项不同" in text and "✗" not in text


def test_differences_and_failures_are_reported():
    observed = {**SAME, "misspelled_native": (404, "ModelNotFound", "Model can not be found."),
                "think_block_tokens": ConnectionError("sk-" + "abcd1234" * 4 + " refused")}
    del observed["max_output"]
    facts = {f.key: f for f in factcheck.compare(factcheck.expected_facts(), observed)}
    assert facts["misspelled_native"].status == "different"
    assert "实测 (404, 'ModelNotFound'" in str(facts["misspelled_native"])
    assert facts["think_block_tokens"].status == "unchecked"
    assert "abcd1234abcd" not in str(facts["think_block_tokens"])  # a key in an error is hidden
    assert facts["max_output"].status == "unchecked" and "没有实测" in str(facts["max_output"])
    text = factcheck.report(list(facts.values()))
    assert "1 项不同" in text and "docs/fact-check.md" in text


class FakeResponse:
    def __init__(self, status: int, body: dict):
        self.status_code, self._body, self.text = status, body, str(body)

    def json(self) -> dict:
        return self._body


def fake_service(url: str, json: dict, headers: dict, timeout: float) -> FakeResponse:
    """Answers as the kit says DashScope does, except for one deliberate difference."""
    assert headers["Authorization"] == "Bearer sk-test"
    if json["model"] == factcheck.MISSPELLED:
        if url.endswith(factcheck.COMPATIBLE):
            return FakeResponse(404, {"error": {"code": "model_not_found", "message": "x"}})
        return FakeResponse(400, {"code": "InvalidParameter", "message": "Model not exist."})
    if json["model"] in retired_names():
        return FakeResponse(400, {"code": "InvalidParameter", "message": "Model not exist."})
    params = json["parameters"]
    if params.get("max_tokens", 0) > 10**5:
        return FakeResponse(400, {"code": "InvalidParameter", "message":
                                  "<400> InternalError.Algo.InvalidParameter: "
                                  "Range of max_tokens should be [1, 16384]"})
    local = count_message_tokens(json["input"]["messages"])
    usage = {"input_tokens": local + 4, "output_tokens": 5}
    if params.get("result_format") == "message":
        return FakeResponse(200, {"output": {"choices": [{"message": {"content": "我是"}}]},
                                  "usage": usage})
    return FakeResponse(200, {"output": {"text": "我是", "finish_reason": "length"}, "usage": usage})


def test_probes_read_each_fact_from_the_answers():
    observed = factcheck.observe("https://example.invalid", "sk-test", http=fake_service)
    facts = {f.key: f for f in factcheck.compare(factcheck.expected_facts(), observed)}
    assert facts["max_output"].status == "different" and facts["max_output"].observed == 16384
    assert all(f.status == "same" for k, f in facts.items() if k != "max_output"), facts


def test_a_failing_probe_does_not_stop_the_others():
    def broken(url, json, headers, timeout):
        if json["model"] == factcheck.MISSPELLED:
            raise OSError("network down")
        return fake_service(url, json, headers, timeout)

    facts = {f.key: f for f in factcheck.compare(
        factcheck.expected_facts(), factcheck.observe("https://x.invalid", "sk-test", broken))}
    assert facts["misspelled_native"].status == "unchecked"
    assert facts["think_block_tokens"].status == "same"


@pytest.mark.parametrize("argv", [["record", "notebooks/01_first_call.ipynb"]])
def test_record_without_a_key_stops_before_any_check(argv, monkeypatch, capsys):
    from helpers.replay import rebuild

    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    assert rebuild.main(argv) == 2
    assert "DASHSCOPE_API_KEY" in capsys.readouterr().err
