# The two commands that do everything on a fresh machine: `make demo` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test lint venv bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@if [ -z "$$(ls -A data/raw | grep -v '^.gitkeep$$')" ]; then \
		echo "data/raw/ 为空：生成合成示例数据 (seed 2021)"; \
		$(BIN)/employment-eval generate --out data/raw --year 2021 --seed 2021; \
	fi
	$(BIN)/employment-eval run --as-of 2021-12-20

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint sql --processes 2

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf data/work data/marts/*.duckdb
