"""Every declaration status is open (an inquiry may still change it) or final, never both."""

from __future__ import annotations

from saleor_alipay_app.customs.models import DeclarationStatus


def test_every_declaration_status_is_open_or_final_exactly_once() -> None:
    open_ = DeclarationStatus.open_statuses()
    final = DeclarationStatus.final_statuses()
    for status in DeclarationStatus:
        assert (status in open_) != (status in final), status
    assert open_ | final == set(DeclarationStatus)


def test_open_declaration_statuses() -> None:
    assert DeclarationStatus.open_statuses() == {
        DeclarationStatus.PENDING,
        DeclarationStatus.IN_PROCESS,
    }
