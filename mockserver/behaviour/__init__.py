"""How the fake behaves: faults, latency, rate limits, the clock, and fidelity profiles."""
