# Two commands for learners: `make lab` and `make test`. The rest is for maintainers.
# Windows without make: see README (conda route, or `py tools/install.py`); every target is
# one plain command. The install itself is tools/install.py (uv, or pip as the fallback).
# Python 3.11 (what CI tests) if present, else a newer one, else 3.10. Not simply python3:
# macOS's built-in python3 is 3.9, too old for today's Jupyter stack.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3.10 python3; do \
            command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# UV=false forces pip; UV=/path/to/uv picks one; empty: uv on PATH, else bootstrapped.
UV     ?=
export UV
# `make test` runs on every core (pytest-xdist; TEST_WORKERS=0 runs in one process). A file's
# tests stay on one worker, in order (--dist loadfile): a notebook's cells share one kernel.
TEST_WORKERS ?= auto
# The console chat of project 1 (renamed from helpers.chat).
CHAT_MODULE ?= helpers.project1
# Jupyter refuses to start as root (containers, cloud VMs) unless told it is deliberate.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
# A .venv whose Python no longer runs (Python upgraded or moved): forget the stamp, so the
# installer runs and says to `make clean`, instead of every target failing obscurely.
ifneq ($(wildcard $(BIN)/python),)
ifneq ($(shell $(BIN)/python -c 'print(1)' 2>/dev/null),1)
$(shell rm -f $(STAMP))
endif
endif

.PHONY: install lab test chat restore bench bench-install author record notebooks \
        constraints latest clean finetune clients browser-deps test-browser

$(STAMP): pyproject.toml constraints.txt jupyter/overrides.json tools/install.py
	@$(PYTHON) tools/install.py

install: $(STAMP)  ## create .venv and install the pinned set (lab and test do it first)

lab: $(STAMP)  ## open the lessons in JupyterLab (replay mode when no key is set)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

# On failure, tools/restore.py says whether the learner's own edits to lessons are the cause.
test: $(STAMP)  ## unit tests + every notebook under nbval, offline, replay mode, no key
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile || { status=$$?; $(BIN)/python tools/restore.py --hint; exit $$status; }

# `set -m` runs the chat as its own foreground job: Ctrl-C reaches the chat alone (which
# says goodbye and exits 0), not make, which would otherwise die of it and exit 130.
chat: $(STAMP)  ## the course's first project in the terminal
	@set -m; $(BIN)/python -m $(CHAT_MODULE)

# Project 2 (lesson 13): the same chat answering from notebooks/data/kb, with sources.
.PHONY: chat2
chat2: $(STAMP)  ## the course's second project (knowledge-base customer service) in the terminal
	@set -m; $(BIN)/python -m helpers.project2

restore: $(STAMP)  ## copy your edited lessons to my-work/, then restore the shipped ones
	@$(BIN)/python tools/restore.py

bench: $(STAMP)  ## measured targets: replay speed, history budget, end detection, load
	$(BIN)/python bench/run_all.py

bench-install: $(STAMP)  ## cold install, uv vs pip, in temporary folders (needs network)
	$(BIN)/python bench/bench_install.py

author: $(STAMP)  ## rebuild authored recordings from notebooks/recordings/specs, then outputs
	$(BIN)/python -m helpers.replay.rebuild author

record: $(STAMP)  ## re-record from the live service (needs DASHSCOPE_API_KEY), then outputs
	$(BIN)/python -m helpers.replay.rebuild record

notebooks: $(STAMP)  ## re-execute every lesson in replay mode and store its outputs
	$(BIN)/python -m helpers.replay.rebuild outputs

# Lesson 12's optional extra (torch CPU, transformers, peft), with pip. On Linux torch comes
# from PyTorch's CPU-only index; `make finetune TORCH_INDEX=` uses pip's own indexes instead
# (a machine that keeps a CPU wheel locally, e.g. CI).
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s 2>/dev/null)),https://download.pytorch.org/whl/cpu)
finetune: $(STAMP)  ## optional: torch (CPU), transformers, peft for lesson 12's LoRA cells
	@# pip into the venv: its own pip, or (a venv made by uv has none) the interpreter's pip.
	@pip() { if $(BIN)/python -m pip --version >/dev/null 2>&1; then $(BIN)/python -m pip "$$@"; \
	    else $(PYTHON) -m pip --python $(BIN)/python "$$@"; fi; }; \
	$(if $(TORCH_INDEX),$(BIN)/python -c 'import torch' 2>/dev/null || \
	    pip install --quiet torch==2.13.0 --index-url $(TORCH_INDEX);) \
	pip install --quiet -e '.[finetune]' && $(BIN)/python -c 'from helpers import finetune as f; \
	    print("✓ 可选依赖已安装" if f.available() else f.INSTALL_HINT)'


# Maintainers: after changing dependencies in pyproject.toml. Universal: one file for
# Linux, macOS and Windows, Python 3.10-3.13 (markers where versions differ).
constraints: $(STAMP)  ## re-pin constraints.txt to the newest releases (then run make test)
	$(BIN)/python tools/pins.py compile

latest: $(STAMP)  ## report what the newest releases would change and break (never fails)
	$(BIN)/python tools/pins.py latest

# Tests only (issue 17): LangChain, litellm, LlamaIndex in a venv of their own, so they never
# change the learners' dashscope/openai; tests/test_clients.py skips while it is absent.
clients: $(STAMP)  ## maintainers/CI: build .venv-clients for the client-matrix tests
	@uv=$$(command -v uv || echo $(BIN)/uv); if [ -x "$$uv" ]; then \
	    test -x .venv-clients/bin/python || "$$uv" venv -q --python $(BIN)/python .venv-clients; \
	    "$$uv" pip install -q --python .venv-clients/bin/python \
	        -e '.[test]' -r tests/clients-requirements.txt; \
	else \
	    test -x .venv-clients/bin/python || $(BIN)/python -m venv .venv-clients; \
	    .venv-clients/bin/python -m pip install --disable-pip-version-check --progress-bar off \
	        -e '.[test]' -r tests/clients-requirements.txt; \
	fi

# The browser suite (tests/browser): every lesson run through JupyterLab in Chromium, the chat
# widget typed into and stopped. Plain `make test` skips it; `.ci/run` runs both.
BROWSER_WORKERS ?= 2
browser-deps: $(STAMP)  ## maintainers/CI: Debian's chromium, a CJK font, Playwright for Python
	@BIN=$(BIN) sh tools/browser_deps.sh

test-browser: browser-deps  ## every lesson in JupyterLab in Chromium; screenshots in tests/browser/output
	$(BIN)/python -m pytest -m browser tests/browser -q -rs -n $(BROWSER_WORKERS)

clean:  ## delete .venv (the fix for a broken install), then make lab reinstalls
	rm -rf $(VENV) .venv-clients *.egg-info .pytest_cache
