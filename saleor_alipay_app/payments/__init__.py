"""Payments: one module per Saleor webhook, the payment service, refunds, Antom notifications and
reports to Saleor."""
