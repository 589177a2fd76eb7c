# The two commands of the README:
#   make run    set up (first time) and start kzqa: ask questions at the prompt
#   make test   set up (first time) and run the whole test suite
# Set-up is a virtual environment in .venv with kzqa installed in editable mode;
# it is redone only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kzqa-installed

.PHONY: run test install clean-venv

run: $(STAMP)
	@$(BIN)/kzqa ask

test: $(STAMP)
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned ==2.13.0 in pyproject.toml: pip takes the local CPU wheel.
	$(BIN)/python -m pip install --quiet --progress-bar off -e ".[test]"
	@touch $(STAMP)

clean-venv:
	rm -rf $(VENV)
