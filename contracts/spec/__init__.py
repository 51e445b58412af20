"""The contract model: the spec loaded once, its typed view, compiled validators, dialects, strict JSON."""
