"""Examples installed with qolaba-mock: `face_client`, a small client of the Qolaba API written as a user writes
theirs. The repository's tests/examples/ test it with the pytest fixtures, the way a user tests their own."""
