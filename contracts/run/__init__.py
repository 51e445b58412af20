"""A contract run: schemathesis's engine under a spend guard, queued tasks, outcome and reports."""
