"""Crash points: named steps of the money paths where a test can make the process die.

`crash_point(name)` kills the running process with SIGKILL (no cleanup, no answer, no commit:
what a power cut or the kernel's OOM killer does) when ``SALEOR_ALIPAY_CRASH_AT`` names that
step, and does nothing otherwise. It is a testing hook for the crash matrix
(tests/payments/test_crash_matrix.py, docs/reliability.md): the variable is read once, at import,
and honoured only in development (``APP_ENV`` unset or ``development``); in production every
crash point costs one comparison with ``None``.
"""

from __future__ import annotations

import os
import signal
from typing import Final

CRASH_AT_VARIABLE: Final = "SALEOR_ALIPAY_CRASH_AT"

# Every step a crash point marks (tests/test_faults.py checks the calls against this list).
CRASH_POINTS: Final = frozenset(
    {
        # one click (payments/webhooks/transaction_initialize_session.py, payments/service.py)
        "pay.claimed",  # the payment row committed, `pay` not sent
        "pay.answered",  # Antom answered `pay`, its outcome not stored
        "payment.settled",  # a payment's final state and its queued report committed
        # Antom's payment notifications (payments/notifications.py)
        "notification.stored",  # inside the inbox transaction, before its effect
        "notification.settled",  # the inbox row and its effect committed, Saleor not told
        # refunds (payments/webhooks/transaction_refund_requested.py, payments/refunds.py)
        "refund.claimed",  # the refund row committed, `refund` not sent
        "refund.answered",  # Antom answered `refund`, its outcome not stored
        "refund.settled",  # a refund's final state and its queued report committed
        # reports to Saleor (payments/reporting.py)
        "report.confirmed",  # Saleor confirmed a report, that not stored
    }
)


def _armed() -> str | None:
    name = os.environ.get(CRASH_AT_VARIABLE, "").strip()
    if not name or os.environ.get("APP_ENV", "development").strip() != "development":
        return None
    return name


ARMED: Final = _armed()


def crash_point(name: str) -> None:
    """Die here, at once, if this process was started to crash at ``name``."""
    if name == ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
