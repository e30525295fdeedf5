# Two commands for learners: `make lab` and `make test`. The rest is for maintainers.
# Windows without make: see README (conda route), every target is one plain command.
# Python 3.11 (what CI tests) if present, else a newer one, else 3.10. Not simply python3:
# macOS's built-in python3 is 3.9, too old for today's Jupyter stack.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3.10 python3; do \
            command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
KERNEL := llm-course
# Jupyter refuses to start as root (containers, cloud VMs) unless told it is deliberate.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

.PHONY: lab test chat bench author record notebooks clean clients

$(STAMP): pyproject.toml jupyter/overrides.json
	@test -x $(BIN)/python || $(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else \
	    "需要 Python 3.10 或更新版本（找到的是 %s）。请安装 Python 3.11，或按 README 用 conda。\n" \
	    "Python 3.10+ is required (found %s): install Python 3.11, or use the conda route." \
	    % (sys.version.split()[0], sys.version.split()[0]))'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) \
	    --display-name "Python 3 (大模型工程化之路)" >/dev/null
	@# No news pop-up over the projector, no update check from an offline classroom.
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

lab: $(STAMP)  ## open the lessons in JupyterLab (replay mode when no key is set)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

test: $(STAMP)  ## unit tests + every notebook under nbval, offline, replay mode, no key
	$(BIN)/python -m pytest

chat: $(STAMP)  ## the course's first project in the terminal
	$(BIN)/python -m helpers.chat

bench: $(STAMP)  ## measured targets: replay speed, history budget, end detection, load
	$(BIN)/python bench/run_all.py

author: $(STAMP)  ## rebuild authored recordings from notebooks/recordings/specs, then outputs
	$(BIN)/python -m helpers.replay.rebuild author

record: $(STAMP)  ## re-record from the live service (needs DASHSCOPE_API_KEY), then outputs
	$(BIN)/python -m helpers.replay.rebuild record

notebooks: $(STAMP)  ## re-execute every lesson in replay mode and store its outputs
	$(BIN)/python -m helpers.replay.rebuild outputs

# Tests only (issue 17): LangChain, litellm, LlamaIndex in a venv of their own, so they never
# change the learners' dashscope/openai; tests/test_clients.py skips while it is absent.
clients: $(STAMP)  ## maintainers/CI: build .venv-clients for the client-matrix tests
	@test -x .venv-clients/bin/python || $(BIN)/python -m venv .venv-clients
	.venv-clients/bin/python -m pip install --disable-pip-version-check --progress-bar off \
	    -e '.[test]' -r tests/clients-requirements.txt

clean:
	rm -rf $(VENV) .venv-clients *.egg-info .pytest_cache
