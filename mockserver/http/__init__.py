"""HTTP for the fake: routes, guards, body reading, holding, connection faults, the journal recorder."""
