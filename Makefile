# CooperaNet: `make run` serves the whole platform, `make test` runs the whole suite.
# Both create the virtual environment from uv.lock on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(BIN)/python

.PHONY: run test fuzz lint fmt messages bench clean-data

$(BIN)/.synced: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --quiet
	@touch $@

run: $(BIN)/.synced
	$(BIN)/python -m cooperanet.launcher

test: $(BIN)/.synced
	DJANGO_ENV=test $(BIN)/python -m cooperanet.embedded -- $(BIN)/python -m pytest $(ARGS)

# schemathesis with many more examples per API operation than `make test` runs.
fuzz: $(BIN)/.synced
	API_FUZZ_EXAMPLES=$${API_FUZZ_EXAMPLES:-300} DJANGO_ENV=test $(BIN)/python -m cooperanet.embedded -- $(BIN)/python -m pytest tests/api/test_fuzz.py $(ARGS)

lint: $(BIN)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_ENV=test $(BIN)/python -W ignore::RuntimeWarning manage.py makemigrations --check --dry-run

fmt: $(BIN)/.synced
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(BIN)/.synced
	$(BIN)/python manage.py makemessages --all --no-obsolete --ignore=.venv --ignore=.data --ignore=tests
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean-data:
	rm -rf .data

# Each benchmark prints its figures and MISSED beside a target it misses; all of them run.
bench: $(BIN)/.synced
	-$(BIN)/python -m cooperanet.embedded -- $(BIN)/python -m tests.bench.exchange
	-$(BIN)/python -m cooperanet.embedded -- $(BIN)/python -m tests.bench.api
	-$(BIN)/python -m cooperanet.embedded -- $(BIN)/python -m tests.bench.imports
