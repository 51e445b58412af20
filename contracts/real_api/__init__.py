"""A user's own tests against the real API (`pytest --qolaba-target=api`): the budget, the contract's view of each
exchange, the cassette, and the run's summary."""
