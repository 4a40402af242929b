"""Customs declarations of paid Alipay CN payments (API.md §7.12-7.13)."""
