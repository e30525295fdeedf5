"""Lesson 12's platform walk-through: the real dashscope SDK against the authored replay
platform over real HTTP, and the guard that keeps live mode from starting billed work."""
from __future__ import annotations

import json

import pytest
import requests

import helpers
from helpers import finetune_api, sft_data
from helpers.replay import current_server
from helpers.replay.finetune_service import FineTuneService, attach
from helpers.replay.server import ReplayServer
from helpers.replay.store import RecordingStore

ROWS = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in [("退货期限？", "七天"), ("运费谁出？", "卖家"), ("保修多久？", "一年")]]


@pytest.fixture
def replay(tmp_path, monkeypatch):
    """A fresh replay server (own recordings folder, so its platform state is new)."""
    (tmp_path / "recordings").mkdir()
    monkeypatch.setenv("LLM_RECORDINGS", str(tmp_path / "recordings"))
    settings = helpers.setup("test_finetune", mode="replay")
    return settings, sft_data.write_jsonl(tmp_path / "train.jsonl", ROWS)


def _upload(path):
    import dashscope

    response = dashscope.Files.upload(file_path=str(path), purpose="fine-tune")
    assert response.status_code == 200, response.message
    return response, response.output["uploaded_files"][0]["file_id"]


def test_a_job_moves_on_with_each_look_and_its_log_grows(replay):
    import dashscope

    _, path = replay
    upload, file_id = _upload(path)
    assert upload.headers["x-replay-source"] == "authored"
    assert upload.output["uploaded_files"][0]["name"] == "train.jsonl"
    job = dashscope.FineTunes.call(model="qwen3-14b", training_file_ids=[file_id],
                                   mode="efficient_sft", hyper_parameters={"n_epochs": 2})
    assert job.status_code == 200 and job.output.status == "PENDING"
    job_id = job.output.job_id
    statuses, log_sizes = [], []
    for _ in range(4):
        statuses.append(dashscope.FineTunes.get(job_id).output.status)
        log_sizes.append(dashscope.FineTunes.logs(job_id).output["total"])
    assert statuses == ["RUNNING", "RUNNING", "SUCCEEDED", "SUCCEEDED"]
    assert log_sizes[0] < log_sizes[1] < log_sizes[2] == log_sizes[3]
    done = dashscope.FineTunes.get(job_id).output
    # usage is computed for real: the uploaded rows' tokens (Qwen tokenizer) × epochs
    assert done.usage == sft_data.training_tokens(ROWS) * 2
    assert done.finetuned_output.startswith("qwen3-14b-ft-")
    assert [j.job_id for j in dashscope.FineTunes.list().output.jobs] == [job_id]


def test_deploy_call_by_name_and_clean_up(replay):
    import dashscope

    _, path = replay
    _, file_id = _upload(path)
    job_id = dashscope.FineTunes.call(model="qwen3-14b", training_file_ids=[file_id]).output.job_id
    assert dashscope.FineTunes.get(job_id).output.status == "RUNNING"
    early = dashscope.Deployments.call(model=f"qwen3-14b-ft-x-{job_id}", capacity=1)
    assert early.status_code == 404 and early.code == "NotFound"
    refused = dashscope.FineTunes.delete(job_id)  # still running: cancel first
    assert refused.status_code == 400 and refused.code == "UnsupportedOperation"
    while (done := dashscope.FineTunes.get(job_id).output).status != "SUCCEEDED":
        pass
    deployment = dashscope.Deployments.call(model=done.finetuned_output, capacity=1,
                                            suffix="store")
    name = deployment.output.deployed_model
    assert name == done.finetuned_output + "-store"
    assert deployment.output.status == "PENDING"
    statuses = [dashscope.Deployments.get(name).output.status for _ in range(3)]
    assert statuses == ["PENDING", "RUNNING", "RUNNING"]
    assert helpers.config.check_model(name) == name  # a deployed name is a model name
    assert dashscope.Deployments.delete(name).status_code == 200
    assert dashscope.FineTunes.delete(job_id).status_code == 200
    assert dashscope.Files.delete(file_id).status_code == 200
    gone = dashscope.Files.delete(file_id)
    assert gone.status_code == 400 and gone.message == "File not found."


def test_ids_come_from_content_so_a_rerun_gets_the_same_names(tmp_path, monkeypatch):
    import dashscope

    path = sft_data.write_jsonl(tmp_path / "train.jsonl", ROWS)
    names = []
    for run in range(2):
        (tmp_path / f"run{run}").mkdir()
        monkeypatch.setenv("LLM_RECORDINGS", str(tmp_path / f"run{run}"))
        helpers.setup("test_finetune", mode="replay")  # a new server: a new platform state
        _, file_id = _upload(path)
        job = dashscope.FineTunes.call(model="qwen3-14b", training_file_ids=[file_id])
        names.append((file_id, job.output.job_id))
    assert names[0] == names[1]


def test_a_body_that_is_not_json_still_reaches_responders_then_gets_400(replay):
    settings, _ = replay
    base = settings.base_url
    garbage = requests.post(base + "/services/aigc/text-generation/generation",
                            data=b"not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["code"] == "InvalidParameter"
    empty_form = requests.post(base + "/files", files={"other": ("a.txt", b"x")})
    assert empty_form.status_code == 400 and empty_form.json()["message"] == "Missing files"


def test_record_mode_leaves_the_platform_to_the_live_service(tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_RECORDINGS", str(tmp_path))
    helpers.setup("test_finetune", mode="replay")
    assert any(isinstance(r, FineTuneService) for r in current_server().responders)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-" + "0123456789abcdef" * 2)
    monkeypatch.setenv("LLM_RECORD_UPSTREAM", "http://127.0.0.1:9")
    helpers.setup("test_finetune", mode="record")
    assert not any(isinstance(r, FineTuneService) for r in current_server().responders)


@pytest.fixture
def fake_upstream(tmp_path):
    """A stand-in for the live service on 127.0.0.1 that counts what reaches it."""
    (tmp_path / "upstream").mkdir()
    server = ReplayServer(RecordingStore(tmp_path / "upstream")).start()
    service = attach(server)
    yield server, service
    server.stop()


def test_live_mode_creates_no_job_and_no_deployment_without_confirmation(
        fake_upstream, tmp_path, monkeypatch):
    import dashscope

    server, service = fake_upstream
    monkeypatch.delenv(finetune_api.CONFIRM_VARIABLE, raising=False)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-" + "0123456789abcdef" * 2)
    helpers.setup("test_finetune", mode="live")
    dashscope.base_http_api_url = server.base + "/api/v1"  # the SDK's own address setting
    _, file_id = _upload(sft_data.write_jsonl(tmp_path / "train.jsonl", ROWS))
    seen = server.log.requests

    job, why = finetune_api.start_job("qwen3-14b", [file_id], epochs=3)
    deployment, why_deploy = finetune_api.deploy("qwen3-14b-ft-202612011000-0000")
    assert job is None and deployment is None
    assert "LLM_FINETUNE_CONFIRM=yes" in why and "计费" in why_deploy
    assert server.log.requests == seen and service.jobs == {}  # nothing was sent

    monkeypatch.setenv(finetune_api.CONFIRM_VARIABLE, "yes")
    job, why = finetune_api.start_job("qwen3-14b", [file_id], epochs=3)
    assert why is None and job.status_code == 200 and list(service.jobs) == [job.output.job_id]


def test_the_estimate_is_tokens_times_epochs_times_price(tmp_path):
    path = sft_data.write_jsonl(tmp_path / "train.jsonl", ROWS)
    estimate = finetune_api.estimate(path, epochs=3, price_per_1k=0.006)
    assert estimate.tokens == sft_data.training_tokens(ROWS) > 0
    assert estimate.cost == pytest.approx(estimate.tokens * 3 * 0.006 / 1000)
    assert "假设" in str(estimate)


def test_only_platform_shaped_names_pass_as_fine_tuned_models():
    from helpers.config import check_model, context_window
    from helpers.errors import LLMError

    for name in ("qwen3-14b-ft-202612011000-024d", "qwen3-14b-ft-202612011000-024d-store",
                 "qwen-plus-ft-20230703-cx7f"):
        assert check_model(name) == name and context_window(name) > 0
    for name in ("qwen3-15b", "my-ft-model", "qwen-plus-ft-"):  # qwen3-14b: in the catalogue
        with pytest.raises(LLMError):
            check_model(name)


def test_uploaded_file_info_is_served_without_its_content(replay):
    import dashscope

    _, path = replay
    _, file_id = _upload(path)
    info = dashscope.Files.get(file_id).output
    assert info["file_id"] == file_id and info["size"] == path.stat().st_size
    assert "content" not in info and json.dumps(info)
