"""Reconciliation against Antom's transaction and settlement reports (API.md §13)."""
