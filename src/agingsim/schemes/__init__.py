"""Subsidy schemes: what each pays, to whom, each month (person-level schemes in person.py)."""
