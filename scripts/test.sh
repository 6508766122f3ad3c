#!/usr/bin/env bash
# Set up a virtual environment (CPU torch), lint and format-check with ruff, build the documentation
# site strictly (a broken link or API reference fails), and run the test suite; slow studies are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
site_log=$(mktemp)
if ! NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir "$(mktemp -d)" >"$site_log" 2>&1; then
    grep -v "^INFO" "$site_log"
    exit 1
fi
HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci} .venv/bin/python -m pytest -m "not slow" -q "$@"
