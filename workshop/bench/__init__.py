"""Benchmarks: ``newsdesk bench ...`` prints figures and their ratios to a baseline in one run."""
