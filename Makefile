# `make run` and `make test` do all the set-up on a fresh machine (Python 3.11+ only).
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install lint format schema bench clean

$(UV):
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --inexact keeps uv itself, which lives in the same virtualenv.
install: $(UV)
	$(UV) sync --frozen --inexact --quiet

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap_demo
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start --port $${PORT:-8000} web worker beat

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

# Every benchmark in bench/ with its progress, then one table (docs/operations.md has the
# figures). Needs PostgreSQL and Redis on localhost; wrk comes from Debian's package.
bench: install
	@command -v wrk >/dev/null || { echo "Installing wrk (Debian's package)"; \
		$(SUDO) apt-get install -y wrk || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }; }
	$(BIN)/python bench/all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
