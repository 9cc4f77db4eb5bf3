# The two commands of README.md: `make run` and `make test`.
.PHONY: run test test-long lint setup setup-test mixin

setup:
	scripts/setup

setup-test:
	scripts/setup --test

run: setup
	.venv/bin/jobmon --config config.example.yaml run

lint:
	.venv/bin/ruff check runner exporter tests bench mixin scripts
	.venv/bin/ruff format --check runner exporter tests bench mixin scripts
	.venv/bin/mypy
	.venv/bin/mypy mixin/render.py scripts/image
	.venv/bin/lint-imports --no-cache

# Three workers taking work from each other when idle: the minutes-long proofs (a 3-minute
# database outage and a 90-second exporter stop under a real Prometheus and Alertmanager, the
# example's first two minutes, the container image) start first, each on a worker of its own
# (tests/conftest.py), and mostly wait; each worker then runs its part of the rest.
test: setup-test lint
	.venv/bin/pytest -n 3 --dist worksteal --cov

# Only the minutes-long proofs.
test-long: setup-test
	.venv/bin/pytest -m long

# Alert and recording rules, dashboards and the PrometheusRule, rendered from mixin/ (the one
# source; a test fails when the committed files differ from what this writes).
mixin: setup-test
	.venv/bin/python mixin/render.py
