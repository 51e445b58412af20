"""Real traffic: the recording proxy, diff of a target against the fake, and the fingerprint."""
