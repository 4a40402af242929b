"""Views: what people may see of the history of a record."""

from __future__ import annotations

from typing import Any

from saleor_alipay_app.db import iso_time
from saleor_alipay_app.history.models import History


def history_view(entry: History) -> dict[str, Any]:
    return {
        "subject": entry.subject.value,
        "reference": entry.reference,
        "status": entry.status,
        "detail": entry.detail,
        "createdAt": iso_time(entry.created_at),
    }
