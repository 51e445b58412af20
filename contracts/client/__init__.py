"""The contract tools as a client of an API: the target, polling a task, curl lines, progress."""
