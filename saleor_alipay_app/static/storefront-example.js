// The example checkout page (/storefront/example): ?api=<Saleor API URL>&checkout=<checkout id>
// [&token=<customer token>&channel=<slug>&locale=zh-CN]
import { mountAccount, mountCheckout } from "./scan-to-bind.js";

const params = new URLSearchParams(location.search);
const form = document.getElementById("setup");
for (const name of ["api", "checkout", "token", "channel", "locale"]) {
  if (params.get(name)) form.elements[name].value = params.get(name);
}
const options = {
  saleorApiUrl: params.get("api") || "",
  token: params.get("token") || undefined,
  locale: params.get("locale") || undefined,
  showAppLink: true,
};
const result = document.getElementById("result");
if (options.saleorApiUrl && params.get("checkout")) {
  mountCheckout(document.getElementById("checkout"), {
    ...options,
    checkoutId: params.get("checkout"),
    onComplete: (order) => {
      result.textContent = `Order ${order.id}`;
    },
  });
}
if (options.saleorApiUrl && options.token && params.get("channel")) {
  mountAccount(document.getElementById("account"), { ...options, channel: params.get("channel") });
}
