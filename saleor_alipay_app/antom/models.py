"""Request, response and notification bodies of the Antom APIs used by Scan to Bind (API.md §6-7).

Python names are snake_case; the wire names are Antom's camelCase (``alias``), and models accept
either (``populate_by_name``). Unknown fields are ignored, so newer Antom answers still parse.
Requests are validated against API.md's limits before they are sent; responses are read
leniently (no length limits). Amounts are :class:`~saleor_alipay_app.antom.money.Amount`;
booleans travel as ``"true"``/``"false"`` strings; times are timezone-aware datetimes sent as
ISO-8601 with seconds precision.

Token fields (``accessToken``, ``refreshToken``, ``authCode``, ``paymentMethodId``) are left
out of ``repr`` so they do not end up in logs by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from saleor_alipay_app import jsontext

from .money import Amount, AmountError

__all__ = [
    "NOTIFICATION_ACK_BODY",
    "Address",
    "AmountField",
    "AntomModel",
    "AntomResponseModel",
    "AntomTime",
    "ApiBool",
    "ApplyTokenRequest",
    "ApplyTokenResponse",
    "AuthCodeForm",
    "AuthorizationNotifyType",
    "Buyer",
    "CancelRequest",
    "CancelResponse",
    "Certificate",
    "CodeDetail",
    "ConsultRequest",
    "ConsultResponse",
    "Customs",
    "DeclarationRecord",
    "DeclareRequest",
    "DeclareResponse",
    "Env",
    "Goods",
    "GrantType",
    "InquiryDeclarationRequestsRequest",
    "InquiryDeclarationRequestsResponse",
    "InquiryPaymentRequest",
    "InquiryPaymentResponse",
    "InquiryRefundRequest",
    "InquiryRefundResponse",
    "Merchant",
    "MerchantCustomsInfo",
    "Notification",
    "NotifyAuthorization",
    "NotifyPayment",
    "NotifyRefund",
    "Order",
    "PayRequest",
    "PayResponse",
    "PaymentMethod",
    "PaymentNotifyType",
    "PaymentStatus",
    "PspCustomerInfo",
    "RefundRequest",
    "RefundResponse",
    "RefundStatus",
    "Result",
    "RevokeRequest",
    "RevokeResponse",
    "SettlementQuote",
    "SettlementStrategy",
    "Shipping",
    "Transaction",
    "UserName",
    "parse_notification",
]


# -- field types --------------------------------------------------------------------------------


def _amount_in(value: object) -> Amount:
    if isinstance(value, Amount):
        return value
    if not isinstance(value, Mapping):
        raise ValueError("amount must be an object with currency and value")
    try:
        return Amount.from_api(value)
    except AmountError as exc:
        raise ValueError(str(exc)) from None


AmountField = Annotated[
    Amount,
    PlainValidator(_amount_in),
    PlainSerializer(lambda amount: amount.to_api(), return_type=dict[str, str]),
    WithJsonSchema(
        {
            "type": "object",
            "properties": {
                "currency": {"type": "string", "maxLength": 3},
                "value": {"type": "string", "pattern": "^[0-9]{1,16}$"},
            },
            "required": ["currency", "value"],
        }
    ),
]


def _time_in(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit() and len(text) >= 12:
            # Epoch milliseconds, the format Antom's docs use for request-time.
            return datetime.fromtimestamp(int(text) // 1000, tz=UTC).replace(
                microsecond=(int(text) % 1000) * 1000
            )
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {text[:40]!r}") from None
    else:
        raise ValueError("time must be an ISO-8601 string")
    if parsed.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    return parsed


def _time_out(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


AntomTime = Annotated[
    datetime,
    PlainValidator(_time_in),
    PlainSerializer(_time_out, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _bool_in(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError('expected "true" or "false"')


ApiBool = Annotated[
    bool,
    PlainValidator(_bool_in),
    PlainSerializer(lambda flag: "true" if flag else "false", return_type=str),
    WithJsonSchema({"type": "string", "enum": ["true", "false"]}),
]


def _str_in(value: object) -> object:
    # Antom sends every scalar as a string, but a stray number must not break parsing.
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


LenientStr = Annotated[str, BeforeValidator(_str_in)]


class AntomModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        str_strip_whitespace=False,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON object to send: camelCase names, ``None`` fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- shared pieces ------------------------------------------------------------------------------


class Result(AntomModel):
    result_code: LenientStr
    result_status: LenientStr
    result_message: LenientStr | None = None


class AntomResponseModel(AntomModel):
    """Every Antom answer carries ``result``."""

    result: Result


class UserName(AntomModel):
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None


class Env(AntomModel):
    terminal_type: str
    os_type: str | None = None
    os_version: str | None = Field(default=None, max_length=16)
    user_agent: str | None = None
    device_token_id: str | None = None
    client_ip: str | None = None
    cookie_id: str | None = None


class PspCustomerInfo(AntomModel):
    psp_name: str | None = None
    psp_customer_id: str | None = None
    display_customer_id: str | None = None


class SettlementQuote(AntomModel):
    quote_currency_pair: str | None = None
    quote_price: LenientStr | None = None
    quote_id: str | None = None
    quote_start_time: AntomTime | None = None
    quote_expiry_time: AntomTime | None = None
    guaranteed: ApiBool | None = None


# -- consult (§7.1) -----------------------------------------------------------------------------


class ConsultRequest(AntomModel):
    customer_belongs_to: str = Field(max_length=64)
    auth_redirect_url: str = Field(max_length=1024)
    scopes: list[str] = Field(default_factory=lambda: ["AGREEMENT_PAY"], min_length=1, max_length=4)
    auth_state: str = Field(min_length=1, max_length=256)
    terminal_type: str | None = None
    os_type: str | None = None
    os_version: str | None = Field(default=None, max_length=16)
    auth_client_id: str | None = Field(default=None, max_length=64)
    merchant_region: str | None = Field(default=None, min_length=2, max_length=2)
    env: Env | None = None
    auth_notify_url: str | None = Field(default=None, max_length=2048)
    merchant_account_id: str | None = None


class CodeDetail(AntomModel):
    code_value_type: str | None = None
    display_type: str
    code_value: str


class AuthCodeForm(AntomModel):
    code_details: list[CodeDetail] = Field(default_factory=list)


class ConsultResponse(AntomResponseModel):
    auth_code_form: AuthCodeForm | None = None
    scheme_url: str | None = None
    applink_url: str | None = None
    normal_url: str | None = None
    app_identifier: str | None = None


# -- applyToken (§7.3) --------------------------------------------------------------------------


class GrantType(StrEnum):
    AUTHORIZATION_CODE = "AUTHORIZATION_CODE"
    REFRESH_TOKEN = "REFRESH_TOKEN"  # noqa: S105 - an enum value, not a secret


class ApplyTokenRequest(AntomModel):
    grant_type: GrantType
    customer_belongs_to: str = Field(max_length=64)
    auth_code: str | None = Field(default=None, max_length=128, repr=False)
    refresh_token: str | None = Field(default=None, max_length=128, repr=False)
    merchant_region: str | None = Field(default=None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _grant_matches(self) -> Self:
        if self.grant_type is GrantType.AUTHORIZATION_CODE:
            if not self.auth_code or self.refresh_token is not None:
                raise ValueError("grantType AUTHORIZATION_CODE needs authCode and no refreshToken")
        elif not self.refresh_token or self.auth_code is not None:
            raise ValueError("grantType REFRESH_TOKEN needs refreshToken and no authCode")
        return self

    @classmethod
    def with_auth_code(cls, customer_belongs_to: str, auth_code: str) -> ApplyTokenRequest:
        return cls(
            grant_type=GrantType.AUTHORIZATION_CODE,
            customer_belongs_to=customer_belongs_to,
            auth_code=auth_code,
        )

    @classmethod
    def with_refresh_token(cls, customer_belongs_to: str, refresh_token: str) -> ApplyTokenRequest:
        return cls(
            grant_type=GrantType.REFRESH_TOKEN,
            customer_belongs_to=customer_belongs_to,
            refresh_token=refresh_token,
        )


class ApplyTokenResponse(AntomResponseModel):
    access_token: str | None = Field(default=None, repr=False)
    access_token_expiry_time: AntomTime | None = None
    refresh_token: str | None = Field(default=None, repr=False)
    refresh_token_expiry_time: AntomTime | None = None
    user_login_id: str | None = None
    extend_info: JsonValue = None
    psp_customer_info: PspCustomerInfo | None = None


# -- revoke (§7.4) ------------------------------------------------------------------------------


class RevokeRequest(AntomModel):
    access_token: str = Field(min_length=1, max_length=128, repr=False)
    extend_info: str | None = None
    merchant_account_id: str | None = None


class RevokeResponse(AntomResponseModel):
    extend_info: JsonValue = None


# -- pay (§7.5) ---------------------------------------------------------------------------------


class Goods(AntomModel):
    reference_goods_id: str = Field(max_length=64)
    goods_name: str = Field(max_length=256)
    goods_category: str | None = Field(default=None, max_length=64)
    goods_brand: str | None = Field(default=None, max_length=128)
    goods_unit_amount: AmountField | None = None
    goods_quantity: LenientStr | None = None
    goods_sku_name: str | None = Field(default=None, max_length=64)
    goods_url: str | None = Field(default=None, max_length=2048)
    goods_image_url: str | None = Field(default=None, max_length=2048)


class Address(AntomModel):
    region: str | None = None
    state: str | None = None
    city: str | None = None
    address1: str | None = None
    address2: str | None = None
    zip_code: str | None = None


class Shipping(AntomModel):
    shipping_name: UserName | None = None
    shipping_address: Address | None = None
    shipping_carrier: str | None = None
    shipping_phone_no: str | None = None


class Buyer(AntomModel):
    reference_buyer_id: str | None = Field(default=None, max_length=64)
    buyer_name: UserName | None = None
    buyer_phone_no: str | None = Field(default=None, max_length=24)
    buyer_email: str | None = Field(default=None, max_length=64)


class Merchant(AntomModel):
    reference_merchant_id: str = Field(max_length=32)
    merchant_mcc: str | None = Field(default=None, alias="merchantMCC", max_length=32)
    merchant_name: str | None = Field(default=None, max_length=256)
    merchant_display_name: str | None = Field(default=None, max_length=64)
    merchant_address: Address | None = None
    merchant_register_date: str | None = None


class Order(AntomModel):
    order_amount: AmountField
    reference_order_id: str = Field(min_length=1, max_length=64)
    order_description: str = Field(min_length=1, max_length=256)
    goods: list[Goods] | None = None
    shipping: Shipping | None = None
    buyer: Buyer | None = None
    merchant: Merchant | None = None
    env: Env | None = None
    extend_info: str | None = None


class PaymentMethod(AntomModel):
    payment_method_type: str = Field(max_length=64)
    payment_method_id: str = Field(min_length=1, max_length=128, repr=False)


class SettlementStrategy(AntomModel):
    settlement_currency: str = Field(min_length=3, max_length=3)


class PayRequest(AntomModel):
    """Auto Debit: ``paymentMethod.paymentMethodId`` is the agreement's access token."""

    product_code: Literal["AGREEMENT_PAYMENT"] = "AGREEMENT_PAYMENT"
    payment_request_id: str = Field(min_length=1, max_length=64)
    order: Order
    payment_amount: AmountField
    payment_method: PaymentMethod
    settlement_strategy: SettlementStrategy
    payment_expiry_time: AntomTime | None = None
    payment_notify_url: str | None = Field(default=None, max_length=2048)
    app_id: str | None = None
    env: Env | None = None
    extend_info: str | None = None


class PayResponse(AntomResponseModel):
    payment_request_id: str | None = None
    payment_id: str | None = None
    payment_amount: AmountField | None = None
    payment_create_time: AntomTime | None = None
    payment_time: AntomTime | None = None
    psp_customer_info: PspCustomerInfo | None = None
    gross_settlement_amount: AmountField | None = None
    settlement_quote: SettlementQuote | None = None


# -- inquiryPayment (§7.6) ----------------------------------------------------------------------


class PaymentStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    PROCESSING = "PROCESSING"
    CANCELLED = "CANCELLED"
    PENDING = "PENDING"


class _ByPaymentId(AntomModel):
    payment_request_id: str | None = Field(default=None, max_length=64)
    payment_id: str | None = Field(default=None, max_length=64)
    merchant_account_id: str | None = None

    @model_validator(mode="after")
    def _one_id(self) -> Self:
        if not self.payment_request_id and not self.payment_id:
            raise ValueError("paymentRequestId or paymentId is required")
        return self


class InquiryPaymentRequest(_ByPaymentId):
    pass


class Transaction(AntomModel):
    transaction_type: str | None = None
    transaction_status: str | None = None
    transaction_id: str | None = None
    transaction_request_id: str | None = None
    transaction_amount: AmountField | None = None
    transaction_result: Result | None = None
    transaction_time: AntomTime | None = None


class InquiryPaymentResponse(AntomResponseModel):
    payment_status: PaymentStatus | None = None
    payment_result_code: str | None = None
    payment_result_message: str | None = None
    payment_request_id: str | None = None
    payment_id: str | None = None
    payment_amount: AmountField | None = None
    payment_create_time: AntomTime | None = None
    payment_time: AntomTime | None = None
    psp_customer_info: PspCustomerInfo | None = None
    transactions: list[Transaction] | None = None
    customs_declaration_amount: AmountField | None = None
    gross_settlement_amount: AmountField | None = None
    settlement_quote: SettlementQuote | None = None


# -- cancel (§7.8) ------------------------------------------------------------------------------


class CancelRequest(_ByPaymentId):
    pass


class CancelResponse(AntomResponseModel):
    payment_id: str | None = None
    payment_request_id: str | None = None
    cancel_time: AntomTime | None = None


# -- refund (§7.9) ------------------------------------------------------------------------------


class RefundRequest(AntomModel):
    refund_request_id: str = Field(min_length=1, max_length=64)
    payment_id: str = Field(min_length=1, max_length=64)
    refund_amount: AmountField
    reference_refund_id: str | None = Field(default=None, max_length=64)
    refund_reason: str | None = Field(default=None, max_length=256)
    refund_notify_url: str | None = Field(default=None, max_length=1024)
    extend_info: str | None = None


class RefundResponse(AntomResponseModel):
    refund_request_id: str | None = None
    refund_id: str | None = None
    payment_id: str | None = None
    refund_amount: AmountField | None = None
    refund_time: AntomTime | None = None
    acquirer_reference_no: str | None = None
    gross_settlement_amount: AmountField | None = None
    settlement_quote: SettlementQuote | None = None


# -- inquiryRefund (§7.10) ----------------------------------------------------------------------


class RefundStatus(StrEnum):
    SUCCESS = "SUCCESS"
    PROCESSING = "PROCESSING"
    FAIL = "FAIL"


class InquiryRefundRequest(AntomModel):
    refund_request_id: str | None = Field(default=None, max_length=64)
    refund_id: str | None = Field(default=None, max_length=64)
    merchant_account_id: str | None = None

    @model_validator(mode="after")
    def _one_id(self) -> Self:
        if not self.refund_request_id and not self.refund_id:
            raise ValueError("refundRequestId or refundId is required")
        return self


class InquiryRefundResponse(AntomResponseModel):
    refund_id: str | None = None
    refund_request_id: str | None = None
    refund_amount: AmountField | None = None
    refund_status: RefundStatus | None = None
    refund_time: AntomTime | None = None
    gross_settlement_amount: AmountField | None = None
    settlement_quote: SettlementQuote | None = None


# -- customs declare (§7.12) --------------------------------------------------------------------


class Customs(AntomModel):
    customs_code: str = Field(max_length=28)
    region: str = Field(default="CN", min_length=2, max_length=2)


class MerchantCustomsInfo(AntomModel):
    merchant_customs_code: str = Field(max_length=128)
    merchant_customs_name: str = Field(max_length=256)


class Certificate(AntomModel):
    certificate_type: str
    certificate_no: str = Field(max_length=64)
    holder_name: UserName | None = None


class DeclareRequest(AntomModel):
    declaration_request_id: str = Field(min_length=1, max_length=32)
    payment_id: str = Field(min_length=1, max_length=64)
    declaration_amount: AmountField
    customs: Customs
    merchant_customs_info: MerchantCustomsInfo
    split_order: ApiBool
    suborder_id: str | None = Field(default=None, max_length=64)
    buyer_certificate: Certificate | None = None

    @model_validator(mode="after")
    def _suborder(self) -> Self:
        if self.split_order and not self.suborder_id:
            raise ValueError("suborderId is required when splitOrder is true")
        return self


class DeclareResponse(AntomResponseModel):
    customs_payment_id: str | None = None
    customs_order_id: str | None = None
    identity_check_result: str | None = None
    clearing_channel: str | None = None
    clearing_transaction_id: str | None = None
    customs_provider_registration_id: str | None = None


# -- inquiryDeclarationRequests (§7.13) ---------------------------------------------------------


class InquiryDeclarationRequestsRequest(AntomModel):
    declaration_request_ids: list[str] = Field(min_length=1, max_length=10)


class DeclarationRecord(AntomModel):
    declaration_request_id: str | None = None
    customs_payment_id: str | None = None
    customs_order_id: str | None = None
    customs: Customs | None = None
    merchant_customs_info: MerchantCustomsInfo | None = None
    declaration_amount: AmountField | None = None
    split_order: ApiBool | None = None
    declaration_request_status: str | None = None
    last_modified_time: AntomTime | None = None
    customs_declaration_result_code: LenientStr | None = None
    customs_declaration_result_desc: str | None = None
    customs_declaration_return_time: AntomTime | None = None


class InquiryDeclarationRequestsResponse(AntomResponseModel):
    declaration_requests_not_found: list[str] | None = None
    declaration_records: list[DeclarationRecord] | None = None


# -- notifications (§7.2, §7.7, §7.11) ----------------------------------------------------------


class AuthorizationNotifyType(StrEnum):
    AUTHCODE_CREATED = "AUTHCODE_CREATED"
    TOKEN_CREATED = "TOKEN_CREATED"  # noqa: S105 - an enum value, not a secret
    TOKEN_CANCELED = "TOKEN_CANCELED"  # noqa: S105 - an enum value, not a secret


class NotifyAuthorization(AntomModel):
    authorization_notify_type: AuthorizationNotifyType
    auth_state: str | None = None
    auth_code: str | None = Field(default=None, repr=False)
    access_token: str | None = Field(default=None, repr=False)
    reason: str | None = None
    auth_client_id: str | None = None
    user_login_id: str | None = None
    user_id: str | None = None
    result: Result


class PaymentNotifyType(StrEnum):
    PAYMENT_RESULT = "PAYMENT_RESULT"
    PAYMENT_PENDING = "PAYMENT_PENDING"


class NotifyPayment(AntomModel):
    """For ``PAYMENT_PENDING`` a result of S only means "still processing" (API.md §7.7)."""

    notify_type: PaymentNotifyType
    result: Result
    payment_request_id: str
    payment_id: str
    payment_amount: AmountField
    payment_create_time: AntomTime | None = None
    payment_time: AntomTime | None = None
    psp_customer_info: PspCustomerInfo | None = None
    customs_declaration_amount: AmountField | None = None
    gross_settlement_amount: AmountField | None = None
    settlement_quote: SettlementQuote | None = None
    acquirer_reference_no: str | None = None
    payment_result_info: JsonValue = None


class NotifyRefund(AntomModel):
    """``refundStatus`` is the truth; ``result`` only says whether the channel accepted it."""

    notify_type: Literal["REFUND_RESULT"] = "REFUND_RESULT"
    result: Result
    refund_status: RefundStatus
    refund_request_id: str
    refund_id: str
    refund_amount: AmountField
    refund_time: AntomTime | None = None
    gross_settlement_amount: AmountField | None = None
    settlement_quote: SettlementQuote | None = None


Notification = NotifyAuthorization | NotifyPayment | NotifyRefund

# The acknowledgment Antom expects for every notification (API.md §9), byte for byte.
NOTIFICATION_ACK_BODY: Final = (
    b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'
)


def parse_notification(body: bytes | str) -> Notification:
    """Parse a (verified) notification body into the right model by its discriminating field.

    Raises ``ValueError`` (pydantic's ``ValidationError`` is one) when the body is not a known
    notification.
    """
    data = jsontext.loads(body)
    if not isinstance(data, dict):
        raise ValueError("notification body is not a JSON object")
    if "authorizationNotifyType" in data:
        return NotifyAuthorization.model_validate(data)
    notify_type = data.get("notifyType")
    if notify_type in ("PAYMENT_RESULT", "PAYMENT_PENDING"):
        return NotifyPayment.model_validate(data)
    if notify_type == "REFUND_RESULT":
        return NotifyRefund.model_validate(data)
    raise ValueError(f"unknown notification type {str(notify_type)[:40]!r}")
