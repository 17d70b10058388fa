"""popgate's benchmark harness (bench/run.sh runs bench/bench.py, which uses these modules)."""
