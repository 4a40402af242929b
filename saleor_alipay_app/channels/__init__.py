"""Antom configuration per Saleor channel: one form, one set of checks, the Antom client pool,
the connection test."""
