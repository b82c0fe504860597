# Set-up and everyday commands. `make lab` and `make test` create or refresh .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.jaxlab-installed
BUNDLE := jaxlab/static/inspector.js
NODE_MODULES := extension/node_modules/.package-lock.json
# PyTorch is only used for comparisons; the CPU build keeps the environment small.
TORCH ?= torch==2.13.0
# Jupyter refuses to run as root unless told
LAB_FLAGS ?= $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test setup system-packages front-end lint clean

lab: setup
	$(BIN)/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir=. notebooks/tour.ipynb

test: setup
	$(BIN)/ruff check jaxlab tests benchmarks
	@if command -v npm >/dev/null; then cd extension && npm test; \
	else echo "note: npm not found: the front end's unit tests are skipped"; fi
	$(BIN)/python -m pytest

setup: system-packages $(STAMP) front-end

# without npm the package still works: the inspector shows its static view, and the tests of
# the live widget skip and say why
front-end:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(BUNDLE); \
	else echo "note: npm not found: the widgets' front end is not built (the inspector shows its static view)"; fi

# The widgets' front end: npm packages from extension/package-lock.json, bundled by esbuild into
# jaxlab/static/ (the hatch build hook does the same inside `pip install`).
$(NODE_MODULES): extension/package.json extension/package-lock.json
	cd extension && npm ci --no-audit --no-fund
	touch $(NODE_MODULES)

$(BUNDLE): $(NODE_MODULES) $(wildcard extension/src/*.ts) extension/build.mjs
	cd extension && node build.mjs

# Debian packages where we are root, only those missing (graphviz for layouts, chromium for
# browser tests, Node.js and npm to build the widgets' front end; a Node.js already installed
# from elsewhere is kept); otherwise the tests that need them skip and say why.
system-packages:
	@missing=""; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	test -x /usr/bin/chromium || missing="$$missing chromium fonts-dejavu-core"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	    || echo "note: apt-get could not install$$missing; tests that need them will be skipped"; \
	else \
	  echo "note: Debian packages missing:$$missing (not root, so not installed); tests that need them will be skipped"; \
	fi

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(if $(TORCH),$(BIN)/python -m pip install -q "$(TORCH)")
	$(BIN)/python -m pip install -q -e ".[dev,examples,libraries]"
	$(BIN)/jaxlab kernel install --sys-prefix
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check jaxlab tests benchmarks
	$(BIN)/ruff format --check jaxlab tests benchmarks

clean:
	rm -rf $(VENV) build dist jaxlab/static extension/node_modules extension/build
