"""Saleor's payment webhooks, one module each, named after its event. Each module holds the
event's use-case and builds its response; `router.py` routes every event to its module
explicitly, after `installations.webhooks` has authenticated the delivery.

Shopper flows (gateway and transaction sessions, stored methods, tokenization): each takes an
authenticated Saleor payload and returns the response to send back. `AUTHORIZATION` requests are
charged like `CHARGE` ones: Antom's auto debit takes the money at once and has no separate
capture, so every answer is in the CHARGE family (Saleor accepts that; APP-PROTOCOL.md §8.4).

Staff actions from the Saleor dashboard (charge, refund, cancel): Saleor waits 18 s and retries
these only on HTTP 5xx; a timeout becomes a failure at once. So Antom gets a short budget: a
quick final answer goes back in the sync form, anything slower in the async form
(`{"pspReference": ...}`) and the outcome follows through `transactionEventReport` (from the
notification or the sweeper).
"""
