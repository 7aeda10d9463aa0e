"""Benchmark suites: `smallcode bench SUITE` runs one and saves it under .smallcode/benchmarks/."""
