from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_alipay_app.antom.client import check_response
from saleor_alipay_app.antom.models import (
    NOTIFICATION_ACK_BODY,
    AuthorizationNotifyType,
    NotifyAuthorization,
    NotifyPayment,
    NotifyRefund,
    PaymentNotifyType,
    RefundStatus,
    parse_notification,
)
from saleor_alipay_app.antom.money import Amount
from saleor_alipay_app.antom.signing import (
    SignatureError,
    sign,
    signature_header,
    verify_notification,
)

CLIENT_ID = "5Y00000000000000"
PATH = "/notify/antom/inst-1/payment"
TIME = "2024-03-15T10:00:05+08:00"
BODY = json.dumps(
    {
        "notifyType": "PAYMENT_RESULT",
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": "ord-1001-p1",
        "paymentId": "2024031512345",
        "paymentAmount": {"currency": "HKD", "value": "4200"},
        "paymentCreateTime": "2024-03-15T10:00:00+08:00",
        "paymentTime": "2024-03-15T10:00:01+08:00",
    },
    ensure_ascii=False,
    indent=2,
).encode()


def _headers(antom_key: rsa.RSAPrivateKey, **overrides: str) -> dict[str, str]:
    value = sign(antom_key, path=PATH, client_id=CLIENT_ID, request_time=TIME, body=BODY)
    headers = {
        "Client-Id": CLIENT_ID,
        "Request-Time": TIME,
        "Signature": signature_header(value),
    }
    headers.update(overrides)
    return headers


def test_valid_notification_verifies_with_any_header_case(antom_key: rsa.RSAPrivateKey) -> None:
    verify_notification(
        antom_key.public_key(),
        path=PATH,
        headers=_headers(antom_key),
        body=BODY,
        expected_client_id=CLIENT_ID,
    )


def test_lower_case_escapes_and_spaces_are_accepted(antom_key: rsa.RSAPrivateKey) -> None:
    value = sign(antom_key, path=PATH, client_id=CLIENT_ID, request_time=TIME, body=BODY)
    lower = value.replace("%2F", "%2f").replace("%2B", "%2b").replace("%3D", "%3d")
    headers = _headers(antom_key, Signature=f"algorithm=RSA256, keyVersion=1, signature={lower}")
    verify_notification(
        antom_key.public_key(), path=PATH, headers=headers, body=BODY, expected_client_id=CLIENT_ID
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": BODY.replace(b"4200", b"4201")}, "signature mismatch"),
        ({"path": "/notify/antom/inst-2/payment"}, "signature mismatch"),
        ({"expected_client_id": "5Y00000000000001"}, "client-id does not match"),
        ({"Request-Time": "2024-03-15T10:00:06+08:00"}, "signature mismatch"),
        ({"Signature": "algorithm=RSA256,keyVersion=1"}, "malformed"),
        ({"Signature": ""}, "missing header(s): signature"),
        ({"Client-Id": ""}, "missing header(s): client-id"),
    ],
)
def test_bad_notifications_are_refused(
    antom_key: rsa.RSAPrivateKey, change: dict[str, object], reason: str
) -> None:
    args: dict[str, object] = {
        "path": PATH,
        "body": BODY,
        "expected_client_id": CLIENT_ID,
    }
    headers = _headers(antom_key)
    for key, value in change.items():
        if key[0].isupper():
            headers[key] = str(value)
        else:
            args[key] = value
    with pytest.raises(SignatureError) as info:
        verify_notification(antom_key.public_key(), headers=headers, **args)  # type: ignore[arg-type]
    assert reason in str(info.value)


def test_notification_signed_by_another_key_is_refused(
    antom_key: rsa.RSAPrivateKey, merchant_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(SignatureError, match="signature mismatch"):
        verify_notification(
            merchant_key.public_key(),
            path=PATH,
            headers=_headers(antom_key),
            body=BODY,
            expected_client_id=CLIENT_ID,
        )


def test_parse_payment_notification() -> None:
    notification = parse_notification(BODY)
    assert isinstance(notification, NotifyPayment)
    assert notification.notify_type is PaymentNotifyType.PAYMENT_RESULT
    assert notification.payment_amount == Amount("HKD", 4200)
    assert notification.payment_time is not None
    assert notification.payment_time.utcoffset() is not None


def test_parse_authorization_notifications() -> None:
    created = parse_notification(
        json.dumps(
            {
                "authorizationNotifyType": "AUTHCODE_CREATED",
                "authState": "st-1",
                "authCode": "code-secret",
                "userLoginId": "852****1234",
                "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
            }
        )
    )
    assert isinstance(created, NotifyAuthorization)
    assert created.authorization_notify_type is AuthorizationNotifyType.AUTHCODE_CREATED
    assert created.auth_code == "code-secret"
    assert "code-secret" not in repr(created)
    canceled = parse_notification(
        b'{"authorizationNotifyType":"TOKEN_CANCELED","accessToken":"at","reason":"user",'
        b'"result":{"resultCode":"SUCCESS","resultStatus":"S"}}'
    )
    assert isinstance(canceled, NotifyAuthorization)
    assert canceled.access_token == "at"


def test_parse_refund_notification() -> None:
    refund = parse_notification(
        b'{"notifyType":"REFUND_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S"},'
        b'"refundStatus":"FAIL","refundRequestId":"r1","refundId":"rf1",'
        b'"refundAmount":{"currency":"IDR","value":"30000"},"refundTime":"2024-03-16T09:00:00+07:00"}'
    )
    assert isinstance(refund, NotifyRefund)
    assert refund.refund_status is RefundStatus.FAIL
    assert refund.refund_amount == Amount("IDR", 30000)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"notifyType":"SOMETHING"}',
        b'{"notifyType":"PAYMENT_RESULT"}',
        b'{"notifyType":"REFUND_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S"},'
        b'"refundStatus":"SUCCESS","refundRequestId":"r","refundId":"i",'
        b'"refundAmount":{"currency":"IDR","value":"150"}}',
        b"not json",
    ],
)
def test_unparseable_notifications_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_notification(body)


def test_ack_body_is_exactly_what_antom_expects() -> None:
    assert json.loads(NOTIFICATION_ACK_BODY) == {
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
    }
    assert b" " not in NOTIFICATION_ACK_BODY


def test_check_response_rules(antom_key: rsa.RSAPrivateKey) -> None:
    body = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}'
    path = "/ams/api/v1/payments/pay"
    value = sign(antom_key, path=path, client_id=CLIENT_ID, request_time=TIME, body=body)
    signed = {"response-time": TIME, "signature": signature_header(value), "client-id": CLIENT_ID}
    public = antom_key.public_key()
    assert check_response(
        public, path=path, headers=signed, body=body, client_id=CLIENT_ID
    ).verified
    # client-id header absent: ours is used
    without_id = {k: v for k, v in signed.items() if k != "client-id"}
    assert check_response(
        public, path=path, headers=without_id, body=body, client_id=CLIENT_ID
    ).verified
    for status in ("F", "U"):
        unsigned = body.replace(b'"S"', f'"{status}"'.encode())
        check = check_response(public, path=path, headers={}, body=unsigned, client_id=CLIENT_ID)
        assert not check.verified
        assert check.result_status == status
    with pytest.raises(SignatureError, match="unsigned"):
        check_response(public, path=path, headers={}, body=body, client_id=CLIENT_ID)
    with pytest.raises(SignatureError, match="incomplete"):
        check_response(
            public,
            path=path,
            headers={"signature": signed["signature"]},
            body=body,
            client_id=CLIENT_ID,
        )
