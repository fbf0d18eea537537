PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test lint bench clean

# The client (./client) goes second: it owns the `s3auth` script, which replacing an older
# install of the service would remove.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	$(BIN)/pip install --quiet -e ./client
	touch $(STAMP)

# Another port: make run PORT=8001 (or S3AUTH_DEV_PORT=8001 in the environment). A second
# stack beside a running one needs its own data folder too: make run PORT=8001 DATA_DIR=/tmp/dev2
run: $(STAMP)
	$(BIN)/s3auth dev $(if $(PORT),--port $(PORT)) $(if $(DATA_DIR),--data-dir $(DATA_DIR))

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $(BENCH_STAMP)

# Extra options: make bench BENCH_ARGS="--seconds 20 --compare main"
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info client/build client/*.egg-info
