"""HTTP for the fake: the API operations and routes, guards, body reading, holding, connection faults, and the
journal recorder, the one place a journal entry is built."""
