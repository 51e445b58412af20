"""Runnable examples: small clients of the Qolaba API and the tests that use qolaba-mock\x27s fixtures on them."""
