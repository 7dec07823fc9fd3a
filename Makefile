# One entry point. `make demo` and `make test` install what they need first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_MONTHS ?= 2024-01:2025-02
DEMO_SCALE ?= 0.002
BENCH_SCALES ?= 0.01,0.1,0.3,1.0
export ZW_DATA ?= $(CURDIR)/data

.PHONY: install demo test bench lock clean-data

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c constraints.txt -r requirements.txt -e .
	$(BIN)/pip check
	touch $@

## demo: generate a 14-month inbox at small scale, then ingest it through the real Airflow DAGs
demo: install
	rm -rf $(ZW_DATA)/inbox $(ZW_DATA)/lake $(ZW_DATA)/quality
	$(BIN)/zw synth --out $(ZW_DATA)/inbox --months $(DEMO_MONTHS) --scale $(DEMO_SCALE) --defect-rate 0.005
	@# exit status 3: the run finished, but the files broken on purpose failed their checks
	$(BIN)/zw run --month $(DEMO_MONTHS) --only ingest; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 3 ]
	$(BIN)/zw ledger


## test: the whole test suite (what CI runs)
test: install
	$(BIN)/pytest

## bench: one month stage by stage beside the DuckDB floor, at each scale (inboxes cached in $(ZW_DATA)/bench)
bench: install
	nice -n 10 $(BIN)/zw bench --scales $(BENCH_SCALES) --month 2025-03

## lock: re-resolve requirements.txt and rewrite constraints.txt (the full pinned set)
lock:
	rm -rf /tmp/zw-lock && $(PYTHON) -m venv /tmp/zw-lock
	/tmp/zw-lock/bin/pip install --quiet --upgrade pip==25.3
	/tmp/zw-lock/bin/pip install --quiet -r requirements.txt
	/tmp/zw-lock/bin/pip check
	/tmp/zw-lock/bin/pip freeze > constraints.txt

clean-data:
	rm -rf $(ZW_DATA)
