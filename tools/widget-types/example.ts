// A storefront's typed use of the widget, compiled against saleor_alipay_app/static/scan-to-bind.d.ts
// in strict mode by tools/widget-types/check.sh (a step of .ci/run). It fails to compile when the
// types lose something a storefront relies on, or accept what they must refuse (@ts-expect-error).

import {
  GATEWAY_ID,
  ScanToBindError,
  followStatus,
  mountAccount,
  mountCheckout,
  saleorRequest,
  type AccountOptions,
  type CheckoutOptions,
  type Locale,
  type StreamState,
  type WidgetHandle,
  type WidgetOptions,
} from "../../saleor_alipay_app/static/scan-to-bind.js";

const gateway: "saleor.alipay.scan-to-bind" = GATEWAY_ID;
const locale: Locale = "zh-CN";
const root = document.createElement("div");

const shared: WidgetOptions = {
  saleorApiUrl: "https://shop.example.com/graphql/",
  locale,
  gatewayId: gateway,
  showAppLink: true,
  fetch: (input, init) => fetch(input, init),
};

const checkoutOptions: CheckoutOptions = {
  ...shared,
  checkoutId: "Q2hlY2tvdXQ6MQ==",
  token: "customer-token",
  completeCheckout: false,
  onPaid: ({ transactionId }) => console.log(transactionId.toUpperCase()),
  onComplete: (order) => console.log(order.id.length),
  onFailed: ({ code, message }) => console.log(`${code}: ${message}`),
};
const checkout: WidgetHandle = mountCheckout(root, checkoutOptions);
checkout.ready.then(() => checkout.destroy());

const accountOptions: AccountOptions = { ...shared, token: "customer-token", channel: "hk-web" };
const account: WidgetHandle = mountAccount(root, accountOptions);
void account.ready;

const close: () => void = followStatus("https://app.example.com/storefront/bindings/bind_x/events", (state: StreamState) => {
  switch (state.state) {
    case "waiting":
      if ("scanned" in state) {
        const scanned: true = state.scanned;
        console.log(scanned);
      } else {
        console.log(state.qrCodeSvg.length, Date.parse(state.expiresAt));
      }
      break;
    case "failed":
      console.log(state.code.toLowerCase());
      break;
    case "expired":
    case "paid":
    case "saved":
      break;
    default: {
      const never: never = state;
      console.log(never);
    }
  }
});
close();

async function chargeStatus(id: string): Promise<string | null> {
  try {
    const data = await saleorRequest(shared, "query ($id: ID!) { checkout(id: $id) { chargeStatus } }", { id });
    return data.checkout ? String(data.checkout.chargeStatus) : null;
  } catch (error) {
    if (error instanceof ScanToBindError) {
      const code: string = error.code;
      const message: string = error.message;
      console.log(code, message);
    }
    return null;
  }
}
void chargeStatus("Q2hlY2tvdXQ6MQ==");

// What the types must refuse.
// @ts-expect-error: the checkout widget needs a checkout id
mountCheckout(root, { saleorApiUrl: "https://shop.example.com/graphql/" });
// @ts-expect-error: the account page needs the customer's token
mountAccount(root, { saleorApiUrl: "https://shop.example.com/graphql/", channel: "hk-web" });
// @ts-expect-error: and a channel
mountAccount(root, { saleorApiUrl: "https://shop.example.com/graphql/", token: "t" });
// @ts-expect-error: no such option
mountCheckout(root, { ...checkoutOptions, onSuccess: () => undefined });
// @ts-expect-error: locales are "en" or "zh-CN" (or a browser language string), not numbers
const wrongLocale: WidgetOptions = { saleorApiUrl: "x", locale: 5 };
void wrongLocale;
