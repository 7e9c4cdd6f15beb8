# The course's commands. Everything runs inside .venv, which the first target
# that needs it creates from requirements.lock (exact versions), with torch's
# CPU build (tools/install_torch.py: never the CUDA packages).
#
#   make book      build the website into _build/html
#   make test      the style checks, then every test (installs what the tests need first)
#   make style     ruff format --check, ruff check, mypy (rnncourse/)
#   make lab       JupyterLab on the exercises
#   make release   regenerate exercises/ from solutions/ (nbgrader generate_assignment)
#   make grade     autograde everything under submitted/, write feedback/ and grades.csv
#   make bench     the speed and memory benchmarks
#   make lock      re-pin requirements.lock from the current .venv (tools/lock.py)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# nbgrader calls `alembic`, jupyter calls its subcommands: all from the venv.
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
STAMP := $(VENV)/.installed
ASSIGNMENTS := $(notdir $(wildcard solutions/*))
JOBS ?= 2

.PHONY: book test style lab release grade bench lock browser clean

# The lock holds everything but torch; tools/install_torch.py then installs
# its "# cpu-build:" pin with --no-deps, from PyTorch's CPU index (one quick
# look-up) or else the registry, and checks that no nvidia-* package is present.
$(STAMP): requirements.lock pyproject.toml tools/install_torch.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python tools/install_torch.py
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going --builder html
	@echo "Website: $(CURDIR)/_build/html/index.html"

# Chromium renders the built site in the tests (offline maths). It comes
# from Debian's packages; installing them needs root, which CI has.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test needs chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# A style error fails `make test` before any test runs.
style: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) style browser
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

lab: $(STAMP)
	cd exercises && $(BIN)/jupyter lab

release: $(STAMP)
	@for id in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$id --force || exit 1; done

grade: $(STAMP)
	$(BIN)/python -m rnncourse.grading.batch

bench: $(STAMP)
	$(BIN)/python bench/bench_recurrent.py

lock: $(STAMP)
	$(BIN)/python tools/lock.py

clean:
	rm -rf _build .pytest_cache .ruff_cache .mypy_cache
