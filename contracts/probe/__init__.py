"""The probe: every documented bound and its neighbours, expected against observed."""
