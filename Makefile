# Every target bootstraps .venv itself, so a fresh machine needs only python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint schema bench install clean mutation

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tracehouse serve

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

schema: $(STAMP)
	$(BIN)/python -m graph.export > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.trace_query
	$(BIN)/python -m bench.live

# Mutation scores of MODULES (default: every module mapped in tools/mutation/__main__.py); slow, not in `make test`
mutation: $(STAMP)
	$(BIN)/python -m tools.mutation $(MODULES)

clean:
	rm -rf $(VENV) data
