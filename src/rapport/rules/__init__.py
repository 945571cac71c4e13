"""Outreach rules: each turns profiles and history into occasions.

The built-in rules arrive with the planner; this package is their home.
"""
