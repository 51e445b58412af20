"""Fidelity profiles: answering as the docs say (`contract`) or as the backend does."""
