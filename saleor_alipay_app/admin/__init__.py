"""The dashboard inside Saleor (staff authentication, admin API, pages) and the operators'
commands."""
