"""Benchmarks: `make bench`, or `.venv/bin/python -m bench.NAME`. Each prints its figures; nothing is asserted."""

# First, as in the product (assistant.cli): its thread settings must be in place before numpy loads, or
# OpenBLAS starts a second thread that spins after every matrix product and doubles the CPU measured.
import assistant  # noqa: F401
