# Two commands for learners: `make lab` and `make test`. The rest is for maintainers.
# Windows without make: see README (conda route), every target is one plain command.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
KERNEL := llm-course
# Jupyter refuses to start as root (containers, cloud VMs) unless told it is deliberate.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

.PHONY: lab test chat bench author record notebooks clean

$(STAMP): pyproject.toml jupyter/overrides.json
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

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
