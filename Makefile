# The two commands of README.md: `make run` and `make test`.
.PHONY: run test lint setup setup-test

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

test: setup-test lint
	.venv/bin/pytest
