"""The dashboard at `/__admin/ui`: the running fake's journal, tasks, clock and faults, in a browser.

A layer above the admin API (mockserver/admin.py): it reads what that API reads and changes nothing itself;
every change the page makes is a call to the admin API, under its own rules.
"""
