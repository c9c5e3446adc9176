# Two entry points on a fresh machine: `make demo` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup lock services clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# Pin what the environment now holds (after changing pyproject.toml, or to take newer releases:
# pip install --upgrade in .venv, run the suite and the benchmarks, then lock).
lock: $(STAMP)
	{ sed -n '1,3p' constraints.txt; $(BIN)/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# Synthetic world -> replay -> alerts in SQLite -> evaluation against the ground truth.
demo: $(STAMP)
	$(BIN)/alpr-watch synthesize --days 60 --seed 7 --out data/
	$(BIN)/alpr-watch replay data/ --out results/ --store-searches
	$(BIN)/alpr-watch evaluate --labels data/labels.csv --results results/
	@echo
	@echo "Alerts are in results/alerts.sqlite. To review them in the dashboard:"
	@echo "  $(BIN)/alpr-watch dashboard-user add admin --role supervisor    # asks for a password"
	@echo "  $(BIN)/alpr-watch dashboard --store results/alerts.sqlite --reference data/"

# What the tests need besides Python packages: PostgreSQL running, Debian chromium.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# The whole suite, slow tests included.
test: $(STAMP) services
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) data results
