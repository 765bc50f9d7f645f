# govnet — `make help` lists the targets.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
INV     ?= inventory/lab.yaml
export GOVNET_INVENTORY ?= $(INV)
# One lock per supported Python (requirements/pyX.Y.txt, exact versions with hashes): installs are
# the same on every machine; `make lock` refreshes it, `make test-latest` tries today's newest.
PYVER   := $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
LOCK    ?= requirements/py$(PYVER).txt

# the calls that carry msgids (govnet/i18n.py), beyond gettext's own _ / N_ / ngettext
BABEL_KEYWORDS := -k tr:2 -k both -k ntr:2,3 -k trp:2c,3 -k NP_:1c,2 -k t -k _t:2 -k Column:2 -k Metric:3

.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml $(LOCK)
	@test -f $(LOCK) || { echo "no lock for Python $(PYVER) ($(LOCK)); supported: requirements/*.txt"; exit 2; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install govnet with its dev tools from the lock

lock:  ## refresh requirements/py3.11.txt, py3.12.txt (+ runtime-only runtime-py*.txt for bundles)
	$(PY) -m pip install -q 'uv>=0.4'
	for v in 3.11 3.12; do \
	  $(PY) -m uv pip compile setup.cfg --extra dev --extra postgres --extra gm --generate-hashes --no-strip-extras -q \
	    --python-version $$v --python-platform x86_64-manylinux_2_28 --no-header \
	    -o requirements/py$$v.txt || exit 1; \
	  $(PY) -m uv pip compile setup.cfg --extra postgres --generate-hashes --no-strip-extras -q \
	    --python-version $$v --python-platform x86_64-manylinux_2_28 --no-header \
	    -c requirements/py$$v.txt -o requirements/runtime-py$$v.txt || exit 1; \
	done

test-latest:  ## the suite on today's newest allowed versions (a throwaway venv; not CI's path)
	rm -rf .venv-latest
	$(PY) -m venv .venv-latest
	.venv-latest/bin/pip install -q --upgrade -e '.[dev,postgres,gm]'
	.venv-latest/bin/python -m pytest -q -n 2

demo: $(STAMP)  ## the main job on the embedded lab: lab up, inventory, backup, 等保 audit, report
	@$(BIN)/govnet lab status >/dev/null 2>&1 || $(BIN)/govnet lab up
	$(BIN)/govnet inventory validate
	$(BIN)/govnet inventory tree
	$(BIN)/govnet lab status
	@$(BIN)/govnet backup; echo "backup exit code $$? (3 = some devices unreadable: the lab's hung switch)"
	@$(BIN)/govnet -q audit -p playbooks/mlps2-baseline.yaml -f html -o audit-report.html; \
	 $(BIN)/govnet audit -p playbooks/mlps2-baseline.yaml; \
	 echo "audit exit code $$? (3 = a device could not be read: the lab's hung switch; it outranks 1 = findings at or above high, the seeded violations)"
	@$(BIN)/govnet av import inventory/lab-data/av-export.csv --source qianxin && $(BIN)/govnet av status --view summary; echo "av status exit code $$? (1 = pc-town-02's 60-day-old signatures)"
	@$(BIN)/govnet audit -p playbooks/isolation.yaml; echo "isolation audit exit code $$? (3: the hung switch; the finding is pc-west-03 wired into both networks, 一机两用)"
	@$(BIN)/govnet discover; echo "discover exit code $$? (3: the hung switch; the finding: town-annex-sw, a switch under int-acc-town the inventory lacks, with YAML to paste)"
	$(BIN)/govnet provision plan baseline --limit 'int-*'  # what 'provision apply' would change; nothing is sent
	$(BIN)/govnet audit history
	@$(BIN)/govnet monitor run --duration 20s --no-metrics --log-format text && $(BIN)/govnet dashboard --once  # govnetd for 20 s, then the machine room (ups-1 on battery)
	@echo "HTML report: audit-report.html. The lab keeps running: 'make lab-down' stops it."

lab-down: $(STAMP)  ## stop the embedded lab
	$(BIN)/govnet lab down

test: $(STAMP)  ## the whole test suite (unit, property, integration against the lab)
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)  ## ruff, mypy and the import layers (.importlinter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@! git grep -n -e '# fmt: skip' -e '# fmt: off' -- '*.py' || { echo "ruff's layout, please: no fmt: skip/off (#13)"; exit 1; }
	$(BIN)/mypy govnet
	$(BIN)/mypy --explicit-package-bases tests
	$(BIN)/lint-imports

bench: $(STAMP)  ## print the speed and memory figures (bench/*.py)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

messages: $(STAMP)  ## extract the msgids (babel.cfg) into govnet.pot, update zh_CN's .po, compile the .mo
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output --omit-header \
	  -o govnet/locale/govnet.pot .
	$(BIN)/pybabel update -D govnet -i govnet/locale/govnet.pot -d govnet/locale -l zh_CN \
	  --no-fuzzy-matching --ignore-obsolete -w 100
	sed -i '/^"POT-Creation-Date: /d' govnet/locale/zh_CN/LC_MESSAGES/govnet.po  # no churn per run
	$(BIN)/pybabel compile -D govnet -d govnet/locale -l zh_CN --statistics

bundle:  ## offline bundles dist/govnet-VERSION-offline-{x86_64,aarch64}.tar.gz (README: 内网)
	$(PY) contrib/bundle/govnet_bundle.py --arch x86_64 --arch aarch64 --out dist

clean:  ## remove the venv and caches (not the lab state)
	rm -rf $(VENV) .venv-latest .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info

.PHONY: help install lock test-latest demo lab-down test lint bench bundle clean messages
