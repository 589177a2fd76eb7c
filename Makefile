# The two commands of the README:
#   make run    set up (first time) and start the chat at http://127.0.0.1:7860/
#   make test   set up (first time, Chromium included) and run the whole test suite
#   (make check: the fast lane, without the real-model and browser tests)
# Set-up is a virtual environment in .venv with kzqa installed in editable mode; it is
# redone only when pyproject.toml changes. HOST/PORT override where `make run` listens.

PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 7860
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kzqa-installed
CHROMIUM := /usr/bin/chromium

SHARED  ?= ../shared
LIBRARY ?= build/library

.PHONY: run test check bench install chromium clean-venv library serve-library

run: $(STAMP)
	$(BIN)/kzqa serve --host $(HOST) --port $(PORT)

test: $(STAMP) chromium
	$(BIN)/python -m mypy
	$(BIN)/python -m ruff check src tests bench eval app.py
	$(BIN)/python -m pytest

# The fast lane while working: mypy, ruff and the tests marked neither `model` (the real
# model on real documents) nor `browser` (headless Chromium). `make test` runs them all.
check: $(STAMP)
	$(BIN)/python -m mypy
	$(BIN)/python -m ruff check src tests bench eval app.py
	$(BIN)/python -m pytest -q -m "not model and not browser"

# Benchmarks, each against a bare baseline in the same run; loopback only; temporary files
# only. ~10 min on 2 cores; 1,000,000 passages separately (~8 min, ~8.4 GB peak):
#   $(BIN)/python bench/scale.py --sizes 1000000
bench: $(STAMP)
	$(BIN)/python bench/startup.py --runs 5
	$(BIN)/python bench/query.py --repeat 3
	$(BIN)/python bench/build.py --docs 200
	$(BIN)/python bench/highlights.py
	$(BIN)/python bench/load.py --seconds 10
	$(BIN)/python bench/scale.py --sizes 10000 100000
	$(BIN)/python bench/dot_leaders.py
	$(BIN)/python bench/long_blocks.py

# The test library: the seeds, the nine state.gov Kazakhstan reports and four PDF reports,
# read from $(SHARED)/library (never copied into the repository), indexed into
# $(LIBRARY)/index (corpus in $(LIBRARY)/corpus; both ignored by git). ~10 min the first
# time on 2 cores (embedding ~2,000 passages), seconds when nothing changed.
library: $(STAMP)
	@test -d $(SHARED)/library || { echo "No $(SHARED)/library: the library documents are read from there"; exit 1; }
	mkdir -p $(LIBRARY)/corpus
	cp -p corpus/*.txt corpus/*.meta.yaml $(LIBRARY)/corpus/
	$(BIN)/kzqa add --source-list usdos-kazakhstan --from $(SHARED)/library/usdos-kazakhstan \
	  --corpus $(LIBRARY)/corpus --index $(LIBRARY)/index
	$(BIN)/kzqa add --source-list library-reports --from $(SHARED)/library/pdf \
	  --corpus $(LIBRARY)/corpus --index $(LIBRARY)/index
	$(BIN)/kzqa calibrate eval/library-questions.jsonl eval/library-questions-fresh.jsonl --index $(LIBRARY)/index

serve-library: library
	$(BIN)/kzqa serve --index $(LIBRARY)/index --host $(HOST) --port $(PORT)

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned ==2.13.0 in pyproject.toml: pip takes the local CPU wheel.
	$(BIN)/python -m pip install --quiet --progress-bar off -e ".[test]"
	@touch $(STAMP)

# The browser tests drive Debian's Chromium (Playwright's own browser download is not
# possible offline). Installed with apt when missing; needs root, as on CI.
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Chromium for the browser tests (apt-get, ~1 min)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
	  || { echo "Could not install Chromium: run 'apt-get install chromium chromium-driver' as root"; exit 1; }; }

clean-venv:
	rm -rf $(VENV)
