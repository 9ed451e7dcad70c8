# Every target bootstraps .venv itself, so a fresh machine needs only python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions (with hashes) of everything pyproject.toml's ranges allow, dev extras included: every
# install gets the same packages. `make lock` regenerates it (keeping pins that still fit; pass
# LOCK_ARGS=--upgrade, or --upgrade-package NAME, to move them).
LOCK := requirements.lock
LOCK_TOOLS := $(VENV)/pip-tools
LOCK_ARGS ?=

.PHONY: run test lint schema bench install lock clean mutation vendor-assets

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m pip check || { echo "$(LOCK) does not satisfy pyproject.toml: run make lock" >&2; exit 1; }
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tracehouse serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

schema: $(STAMP)
	$(BIN)/python -m graph.export > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.trace_query
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.analytics
	$(BIN)/python -m bench.viewer
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.export

lock:
	test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PY) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/python -m pip install -q 'pip-tools>=7.6,<8'; }
	$(LOCK_TOOLS)/bin/pip-compile -q --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o $(LOCK) pyproject.toml
# Mutation scores of MODULES (default: every module mapped in tools/mutation/__main__.py); slow, not in `make test`
mutation: $(STAMP)
	$(BIN)/python -m tools.mutation $(MODULES)

# GraphiQL and Swagger UI files the server ships (server/static/): fetched again from npm, versions in VERSIONS.
vendor-assets:
	sh server/static/fetch-assets.sh

clean:
	rm -rf $(VENV) data
