"""What every test layer and the benchmarks share: one clock, builders, stores and servers."""
