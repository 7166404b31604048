# Shortcuts for dev.py, which needs nothing but Python.
.PHONY: demo test bench
demo:
	python3 dev.py demo
test:
	python3 dev.py test
bench:
	.venv/bin/python bench/bench_tracking.py
