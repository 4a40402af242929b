"""Scan to Bind: binding sessions (QR code, authorization, token exchange) and the agreements
they create."""
