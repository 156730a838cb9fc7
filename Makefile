# The two commands of the README:
#   make demo   set up, then run a full investigation of bundled sample data (report at tracehound-demo/case/report.html)
#   make test   set up (Python deps + Debian validators when root), then lint, type-check and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup dev system-deps lint bench clean fuzz fuzz-all

# The tool alone (what `make demo` needs), then the test, validation and Spark extras.
$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@

setup: $(VENV)/.base
dev: $(VENV)/.dev

demo: setup
	$(BIN)/tracehound demo --out tracehound-demo

system-deps:
	bash scripts/install-system-deps.sh

lint: dev
	$(BIN)/ruff check src tests bench fuzz
	$(BIN)/mypy src

test: dev system-deps lint
	$(BIN)/python -m pytest

bench: dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) tracehound-demo build dist src/*.egg-info

# Coverage-guided fuzzing (atheris, pinned per Python in pyproject's 'fuzz' extra): make fuzz TARGET=readers SECONDS=600,
# or every target: make fuzz-all SECONDS=600. Seeds: real samples from ../shared/samples when present (fuzz/seeds.py).
SECONDS ?= 600
$(VENV)/.fuzz: $(VENV)/.dev
	$(BIN)/pip install --quiet -e '.[fuzz]'
	touch $@

fuzz: $(VENV)/.fuzz
	$(BIN)/python fuzz/fuzz.py $(TARGET) -max_total_time=$(SECONDS) -rss_limit_mb=2048 -timeout=20

fuzz-all: $(VENV)/.fuzz
	for t in $$($(BIN)/python fuzz/fuzz.py --list); do $(BIN)/python fuzz/fuzz.py $$t -max_total_time=$(SECONDS) -rss_limit_mb=2048 -timeout=20 || exit 1; done
