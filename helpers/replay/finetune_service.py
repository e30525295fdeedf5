"""Authored replay of DashScope's fine-tuning API (lesson 12): files, fine-tunes, deployments.

A responder for the replay server (``ReplayServer.responders``). It keeps per-process state,
so the real SDK sees a job move PENDING → RUNNING → SUCCEEDED over successive GETs, its log
grow, and a deployment become RUNNING. Every answer is authored (header
``x-replay-source: authored``): no platform trained anything. What is computed for real is
marked so: the training tokens come from the uploaded file and the Qwen tokenizer.

Ids are deterministic (content hashes, a fixed authored clock), so stored notebook outputs
reproduce. Wire shapes and their sources: docs/finetune-api.md.
"""
from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP

from . import wire
from .server import IncomingRequest

PREFIX = "/api/v1/"
SOURCE_HEADER = {"x-replay-source": "authored"}
# The authored clock: every timestamp is this instant plus a fixed offset, never "now".
CLOCK = datetime(2026, 12, 1, 10, 0, 0)
JOB_STATUSES = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]  # by number of GETs
DEPLOY_STATUSES = ["PENDING", "PENDING", "RUNNING"]
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED"}
WORKSPACE, USER = "llm-replay0000", "1000000000000000"


def _hex(data: object, n: int) -> str:
    text = data if isinstance(data, (bytes, str)) else json.dumps(data, sort_keys=True)
    raw = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(raw).hexdigest()[:n]


def _time(minutes: float, style: str = " ") -> str:
    return (CLOCK + timedelta(minutes=minutes)).isoformat(style, "seconds")


def _reply(status: int, body: dict) -> dict:
    body = {"request_id": wire.new_request_id(), **body}
    headers = {"Content-Type": wire.JSON_CONTENT_TYPE, "x-request-id": body["request_id"],
               **SOURCE_HEADER}
    return {"status": status, "headers": headers, "delay_ms": 120, "body": body}


def _error(status: int, code: str, message: str) -> dict:
    return _reply(status, {"code": code, "message": message})


def _uploads(request: IncomingRequest) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each ``files`` part of a multipart/form-data body."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.raw_body)
    if not message.is_multipart():
        return []
    return [(part.get_filename() or "file", part.get_payload(decode=True) or b"")
            for part in message.iter_parts()
            if part.get_param("name", header="content-disposition") == "files"]


class FineTuneService:
    """The state of one process's authored platform: uploaded files, jobs, deployments."""

    def __init__(self) -> None:
        self.files: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self.deployments: dict[str, dict] = {}
        self._lock = threading.Lock()

    def __call__(self, request: IncomingRequest) -> dict | None:
        if not request.path.startswith(PREFIX):
            return None
        parts = request.path[len(PREFIX):].strip("/").split("/")
        handler = getattr(self, f"_{parts[0].replace('-', '_')}", None)
        if parts[0] not in ("files", "fine-tunes", "deployments") or handler is None:
            return None
        with self._lock:
            return handler(request.method, parts[1:], request)

    # -- files -----------------------------------------------------------------------------
    def _files(self, method: str, rest: list[str], request: IncomingRequest) -> dict:
        if method == "POST" and not rest:
            uploaded = []
            for name, content in _uploads(request):
                file_id = str(uuid.UUID(hex=_hex(content, 32)))
                self.files[file_id] = {"file_id": file_id, "name": name, "size": len(content),
                                       "md5": hashlib.md5(content).hexdigest(),
                                       "gmt_create": _time(len(self.files)), "content": content}
                uploaded.append({"file_id": file_id, "name": name})
            if not uploaded:
                return _error(400, "InvalidParameter", "Missing files")
            return _reply(200, {"data": {"uploaded_files": uploaded, "failed_uploads": []}})
        if method == "GET" and not rest:
            files = [self._public(f) for f in self.files.values()]
            return _reply(200, {"data": {"files": files, "page_no": 1, "page_size": 10,
                                         "total": len(files)}})
        if len(rest) != 1 or rest[0] not in self.files:
            # The SDK notes the service reports a missing file as 400 (v2/resources/files.py)
            return _error(400, "InvalidParameter", "File not found.")
        if method == "DELETE":
            del self.files[rest[0]]
            return _reply(200, {})
        return _reply(200, {"data": self._public(self.files[rest[0]])})

    @staticmethod
    def _public(info: dict) -> dict:
        return {k: v for k, v in info.items() if k != "content"}

    # -- fine-tunes ------------------------------------------------------------------------
    def _fine_tunes(self, method: str, rest: list[str], request: IncomingRequest) -> dict:
        if method == "POST" and not rest:
            return self._create_job(request.body if isinstance(request.body, dict) else {})
        if method == "GET" and not rest:
            jobs = [self._job_output(j) for j in self.jobs.values()]
            return _reply(200, {"output": {"page_no": 1, "page_size": 10, "total": len(jobs),
                                           "jobs": jobs}})
        job = self.jobs.get(rest[0]) if rest else None
        if job is None:
            return _error(404, "NotFound", "Not Found!")
        if method == "GET" and rest[1:] == ["logs"]:
            logs = self._logs(job)
            return _reply(200, {"output": {"total": len(logs), "logs": logs}})
        if method == "POST" and rest[1:] == ["cancel"]:
            if job["status"] in TERMINAL:
                return _error(400, "UnsupportedOperation", "The job has already finished.")
            job["status"] = "CANCELED"
            return _reply(200, {"output": {"status": "success"}})
        if method == "DELETE" and len(rest) == 1:
            if job["status"] not in TERMINAL:
                return _error(400, "UnsupportedOperation",
                              "The job is still running: cancel it before deleting it.")
            del self.jobs[rest[0]]
            return _reply(200, {"output": {"status": "success"}})
        if method == "GET" and len(rest) == 1:
            if job["status"] not in TERMINAL:  # each look moves the authored job one step on
                job["polls"] += 1
                job["status"] = JOB_STATUSES[min(job["polls"], len(JOB_STATUSES) - 1)]
            return _reply(200, {"output": self._job_output(job)})
        return _error(400, "InvalidParameter", f"Unsupported request {method} {request.path}")

    def _create_job(self, body: dict) -> dict:
        from ..sft_data import training_tokens

        model, files = body.get("model"), body.get("training_file_ids") or []
        if not model or not isinstance(files, list):
            return _error(400, "InvalidParameter", "Missing model or training_file_ids")
        missing = [f for f in files if f not in self.files]
        if not files or missing:
            return _error(400, "InvalidParameter", "Missing training files")
        text = "\n".join(self.files[f]["content"].decode("utf-8-sig") for f in files)
        try:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            return _error(400, "InvalidParameter", "The training file is not valid JSONL")
        params = dict(body.get("hyper_parameters") or {})
        epochs = int(params.get("n_epochs", 3))
        minutes = 5 * len(self.jobs)
        stamp = (CLOCK + timedelta(minutes=minutes)).strftime("%Y%m%d%H%M")
        job_id = f"ft-{stamp}-{_hex(body, 4)}"
        self.jobs[job_id] = {
            "job_id": job_id, "job_name": job_id, "status": "PENDING", "polls": 0,
            "model": model, "base_model": model,
            "training_file_ids": files,
            "validation_file_ids": body.get("validation_file_ids") or [],
            "hyper_parameters": params, "training_type": body.get("training_type", "sft"),
            "create_time": _time(minutes), "end_time": _time(minutes + 18),
            "finetuned_output": body.get("model_name") or f"{model}-ft-{stamp}-{_hex(body, 4)}",
            "rows": len(rows), "epochs": epochs, "usage": training_tokens(rows) * epochs}
        return _reply(200, {"output": self._job_output(self.jobs[job_id])})

    @staticmethod
    def _job_output(job: dict) -> dict:
        hidden = {"polls", "rows", "epochs", "end_time", "finetuned_output", "usage"}
        out = {k: v for k, v in job.items() if k not in hidden}
        out.update(workspace_id=WORKSPACE, user_identity=USER, modifier=USER, creator=USER,
                   group="llm")
        if job["status"] == "SUCCEEDED":  # the docs: finetuned_output only once it succeeded
            out.update(finetuned_output=job["finetuned_output"], end_time=job["end_time"],
                       usage=job["usage"])
        return out

    @staticmethod
    def _logs(job: dict) -> list[str]:
        """The log as far as the job has got; stage messages only, no authored loss figures."""
        at = job["create_time"]
        lines = [f"{at},000 - INFO - fine-tune job {job['job_id']} created, waiting for resources"]
        if job["polls"] >= 1:
            lines += [f"{at},500 - INFO - training file checked: {job['rows']} lines",
                      f"{at},900 - INFO - start {job['training_type']} of {job['model']}, "
                      f"n_epochs={job['epochs']}"]
        done = {1: 0, 2: job["epochs"] - 1}.get(job["polls"], job["epochs"])
        lines += [f" epoch {n}/{job['epochs']} finished" for n in range(1, done + 1)]
        if job["status"] == "SUCCEEDED":
            lines += [f" Actual number of consumed tokens is {job['usage']}!",
                      " Fine-tune succeeded!",
                      f"{job['end_time']},000 - INFO - training usage {job['usage']}",
                      f"{job['end_time']},100 - INFO - ##FT_COMPLETE##"]
        return lines

    # -- deployments -----------------------------------------------------------------------
    def _deployments(self, method: str, rest: list[str], request: IncomingRequest) -> dict:
        if method == "POST" and not rest:
            body = request.body if isinstance(request.body, dict) else {}
            model = body.get("model_name", "")
            tuned = {j["finetuned_output"]: j for j in self.jobs.values()
                     if j["status"] == "SUCCEEDED"}
            if model not in tuned:
                return _error(404, "NotFound", f"Model: {model} not found!")
            name = f"{model}-{body['suffix']}" if body.get("suffix") else model
            self.deployments[name] = {
                "deployed_model": name, "gmt_create": _time(30, "T"),
                "gmt_modified": _time(30, "T"), "status": "PENDING", "polls": 0,
                "model_name": model, "base_model": tuned[model]["model"],
                "base_capacity": 1, "capacity": int(body.get("capacity", 1)),
                "ready_capacity": 0, "workspace_id": WORKSPACE, "charge_type": "post_paid",
                "creator": USER, "modifier": USER}
            return _reply(200, {"output": self._public_deployment(name)})
        if method == "GET" and not rest:
            items = [self._public_deployment(n) for n in self.deployments]
            return _reply(200, {"output": {"deployments": items, "page_no": 1, "page_size": 10,
                                           "total": len(items)}})
        name = rest[0] if len(rest) == 1 else None
        if name not in self.deployments:
            return _error(404, "NotFound", f"Model: {name} not found!")
        if method == "DELETE":
            del self.deployments[name]
            return _reply(200, {"output": {"status": "success"}})
        item = self.deployments[name]
        if item["status"] != "RUNNING":
            item["polls"] += 1
            item["status"] = DEPLOY_STATUSES[min(item["polls"], len(DEPLOY_STATUSES) - 1)]
            if item["status"] == "RUNNING":
                item.update(ready_capacity=item["capacity"], gmt_modified=_time(36, "T"))
        return _reply(200, {"output": self._public_deployment(name)})

    def _public_deployment(self, name: str) -> dict:
        return {k: v for k, v in self.deployments[name].items() if k != "polls"}


def attach(server, enabled: bool = True) -> FineTuneService | None:
    """Put one FineTuneService on the server (or take it off); idempotent."""
    found = [r for r in server.responders if isinstance(r, FineTuneService)]
    if not enabled:
        for responder in found:
            server.responders.remove(responder)
        return None
    folder = getattr(server.store, "folder", None)
    if found and getattr(found[0], "folder", None) == folder:
        return found[0]
    for responder in found:  # another recordings folder: a fresh platform, as a new server was
        server.responders.remove(responder)
    service = FineTuneService()
    service.folder = folder
    server.responders.append(service)
    return service

