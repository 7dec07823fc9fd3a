# One entry point. `make demo` and `make test` install what they need first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_MONTHS ?= 2024-01:2025-02
DEMO_SCALE ?= 0.0005
BENCH_SCALES ?= 0.01,0.1,0.3,1.0
export ZW_DATA ?= $(CURDIR)/data

.PHONY: install system-deps old-duckdb demo airflow test bench lock clean-data

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c constraints.txt -r requirements.txt -e .
	$(BIN)/pip check
	touch $@

## system-deps: Debian packages: CJK fonts for the bulletin's charts, chromium for its browser test
system-deps:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh | grep -q .; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk >/dev/null \
	    || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk; }; \
	fi

## demo: 14 months of synthetic feeds through the whole chain in Airflow: ingest → build → check → publish
demo: install system-deps
	rm -rf $(ZW_DATA)/inbox $(ZW_DATA)/lake $(ZW_DATA)/quality $(ZW_DATA)/warehouse* $(ZW_DATA)/publications
	$(BIN)/zw synth --out $(ZW_DATA)/inbox --months $(DEMO_MONTHS) --scale $(DEMO_SCALE) --defect-rate 0.005
	@# exit status 3: the gate held back the month whose files the generator broke on purpose
	$(BIN)/zw run --month $(DEMO_MONTHS); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 3 ]
	@echo "Publishing the held-back month too, with an explicit acceptance (kept in its manifest and bulletin):"
	$(BIN)/zw run --month $(DEMO_MONTHS) --only publish \
	  --accept-quality-failures "Demo: the generator broke three files and sent records twice with different values on purpose (see inbox/_truth/defects.jsonl)"
	$(BIN)/zw ledger --failed
	@echo "Analysts: $(BIN)/zw analyst opens the SQL workbench on the published snapshot ($(ZW_DATA)/warehouse.duckdb);"
	@echo "          $(BIN)/zw warehouse open --as-of 2025-02 opens what a bulletin was computed from."

## airflow: Airflow standalone over the DAGs and $(ZW_DATA), UI on localhost:$(AIRFLOW_PORT), login printed (Ctrl-C stops)
AIRFLOW_PORT ?= 8080
airflow: install
	$(BIN)/zw airflow standalone --port $(AIRFLOW_PORT)


## old-duckdb: DuckDB 1.4 beside the venv, to show the analysts' snapshot opens in older DuckDBs
OLD_DUCKDB := $(VENV)/duckdb-1.4
old-duckdb: $(OLD_DUCKDB)/.installed
$(OLD_DUCKDB)/.installed: | install
	$(BIN)/pip install --quiet --target $(OLD_DUCKDB) duckdb==1.4.4
	touch $@

## test: the whole test suite (what CI runs)
test: install system-deps old-duckdb
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
