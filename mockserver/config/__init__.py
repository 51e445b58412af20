"""The fake's configuration: one frozen `Config`, and its sources (flags, env, TOML, marker)."""
