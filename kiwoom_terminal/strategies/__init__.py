"""Indicators and registered strategies (see base.py for the interface)."""
