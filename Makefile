# Two commands on a fresh machine: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install run test eval-gate bench lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m assistant serve --host 127.0.0.1 --port 7860

test: install
	$(PY) -m pytest -q -n 2

# The quality gate: a fresh index of the bundled corpus, the reference set, the floors
# in evals/baseline.json; exits 1 naming each metric below its floor.
eval-gate: install
	$(PY) -m assistant eval --baseline evals/baseline.json --report reports/ci

# Speed and scale (issue 7): writes docs/benchmarks.md; SIZES=1000,10000 for a shorter run.
SIZES ?= 1000,10000,100000
bench: install
	$(PY) -m assistant bench --sizes $(SIZES) --out docs/benchmarks.md

lock: install
	$(PY) -m pip freeze --exclude-editable | sed '1i # Exact versions resolved together on Python 3.11 (regenerate with: make lock).' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache
