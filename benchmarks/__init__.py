"""Benchmarks: the same training steps in minigrad and PyTorch. Run ``python -m benchmarks.bench --help``."""
