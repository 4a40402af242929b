"""The Overview page: aggregates over payments, refunds, agreements and reconciliation."""
