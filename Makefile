# The two commands of README.md: `make run` and `make test`.
.PHONY: run test test-long lint setup setup-test

setup:
	scripts/setup

setup-test:
	scripts/setup --test

run: setup
	.venv/bin/jobmon --config config.example.yaml run

lint:
	.venv/bin/ruff check runner exporter tests bench
	.venv/bin/ruff format --check runner exporter tests bench
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache

# Two workers, each taking work from the other when idle: most process-level tests wait
# on real processes rather than use a core, and a few take half a minute.
test: setup-test lint
	.venv/bin/pytest -n 2 --dist worksteal --cov -m "not long"

# The minutes-long proofs (a 3-minute database outage and a 90-second exporter stop under
# a real Prometheus and Alertmanager).
test-long: setup-test
	.venv/bin/pytest -m long
