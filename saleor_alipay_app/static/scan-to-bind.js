// Alipay+ Scan to Bind: a framework-free storefront widget (ES module, no build step).
// Served by the app at /storefront/scan-to-bind.js, typed by /storefront/scan-to-bind.d.ts.
//
// The checkout widget follows a QR payment on the app's status stream (server-sent events),
// calls Saleor's transactionProcess only to renew an expired code (or, after a failure, once for
// the shopper's message) and reads checkout.chargeStatus before completing: a QR payment adds
// three events to Saleor's transaction (README, "Storefront integration").

export const GATEWAY_ID = "saleor.alipay.scan-to-bind";

const TEXT = {
  en: {
    // Between two sentences of one message.
    gap: " ",
    choose: "Pay with a wallet",
    saved: "Your saved wallets",
    payWith: (name) => `Pay with ${name}`,
    scan: (name) => `Scan this QR code with ${name} to authorise the store and pay`,
    openApp: (name) => `Open ${name}`,
    expiresIn: (time) => `The code expires in ${time}`,
    expired: "The QR code expired. Getting a new one…",
    newCode: "New QR code",
    renewed: "Here is a new QR code.",
    scanned: "Approved in the wallet. Charging…",
    paid: "Payment received. Thank you!",
    completing: "Completing your order…",
    failed: "The payment did not go through.",
    retry: "Try again",
    noWallets: "No wallet can pay this order.",
    network: "The store could not be reached. Please check your connection and try again.",
    qrAlt: (name) => `QR code for ${name}`,
    saveWallet: "Save a wallet",
    saveWith: (name) => `Save ${name}`,
    scanToSave: (name) => `Scan this QR code with ${name} to save it for one-click payments`,
    approvedSaving: "Approved in the wallet. Saving…",
    savedOk: "The wallet is saved.",
    notSaved: "The wallet was not saved.",
    remove: (name) => `Remove ${name}`,
    removeShort: "Remove",
    removed: "The wallet was removed.",
    notRemoved: "The wallet was not removed.",
    accountOther: "Something went wrong. Please try again.",
    none: "No saved wallets.",
    cancel: "Cancel",
  },
  "zh-CN": {
    gap: "",
    choose: "使用电子钱包付款",
    saved: "已保存的钱包",
    payWith: (name) => `使用 ${name} 付款`,
    scan: (name) => `请用 ${name} 扫描二维码，授权本店并完成付款`,
    openApp: (name) => `打开 ${name}`,
    expiresIn: (time) => `二维码将在 ${time} 后失效`,
    expired: "二维码已失效，正在获取新的二维码…",
    newCode: "获取新二维码",
    renewed: "已生成新的二维码。",
    scanned: "已在钱包中授权，正在扣款…",
    paid: "付款成功，谢谢！",
    completing: "正在完成订单…",
    failed: "付款未成功。",
    retry: "重试",
    noWallets: "没有可支付此订单的钱包。",
    network: "无法连接商店，请检查网络后重试。",
    qrAlt: (name) => `${name} 付款二维码`,
    saveWallet: "保存钱包",
    saveWith: (name) => `保存 ${name}`,
    scanToSave: (name) => `请用 ${name} 扫描二维码，保存钱包以便一键付款`,
    approvedSaving: "已在钱包中授权，正在保存…",
    savedOk: "钱包已保存。",
    notSaved: "钱包未保存。",
    remove: (name) => `移除 ${name}`,
    removeShort: "移除",
    removed: "钱包已移除。",
    notRemoved: "钱包未移除。",
    none: "没有已保存的钱包。",
    cancel: "取消",
    // The app's messages are in English: Simplified Chinese ones by Antom's result code.
    codes: {
      USER_BALANCE_NOT_ENOUGH: "钱包余额不足，请充值或选择其他付款方式。",
      USER_AMOUNT_EXCEED_LIMIT: "付款金额超出钱包的消费限额，请减少金额或选择其他付款方式。",
      PAYMENT_AMOUNT_EXCEED_LIMIT: "付款金额超出钱包的单笔限额。",
      PAYMENT_COUNT_EXCEED_LIMIT: "钱包付款次数已达上限，请稍后再试或选择其他付款方式。",
      RISK_REJECT: "钱包拒绝了此次付款，请选择其他付款方式或联系钱包客服。",
      INVALID_ACCESS_TOKEN: "已保存的钱包与本店的连接已失效，请重新扫码绑定。",
      ORDER_IS_CLOSED: "此次付款已过期，请重试。",
      ORDER_IS_CANCELED: "此次付款已取消，请重试。",
      BINDING_FAILED: "钱包未完成授权，请重新扫码。",
      NETWORK: "无法连接商店，请检查网络后重试。",
    },
    other: "付款未能完成，请重试或选择其他付款方式。",
    accountOther: "操作未能完成，请重试。",
  },
};

const STYLE = `
.stb{font:inherit;max-width:26rem}
.stb button{font:inherit;padding:.6rem 1rem;margin:.25rem .25rem .25rem 0;border-radius:.4rem;
  border:1px solid #1677ff;background:#1677ff;color:#fff;cursor:pointer}
.stb button.stb-secondary{background:#fff;color:#1677ff}
.stb button:focus-visible{outline:3px solid #fa8c16;outline-offset:2px}
.stb-qr svg{width:14rem;height:14rem;display:block}
.stb-error{color:#b42318}
.stb-ok{color:#067647}
.stb h2{font-size:1.1rem;margin:.5rem 0}
.stb h2[tabindex="-1"]:focus{outline:none}
`;

function localeOf(options) {
  const wanted = options.locale || (globalThis.navigator && navigator.language) || "en";
  return wanted.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

function isPhone() {
  return /Android|iPhone|iPad|Mobile/i.test((globalThis.navigator && navigator.userAgent) || "");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

function newKey() {
  return globalThis.crypto && crypto.randomUUID
    ? crypto.randomUUID()
    : `stb-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** A failure the widget shows: a code and the shopper's message. */
export class ScanToBindError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Saleor's GraphQL, as a storefront calls it. */
export async function saleorRequest(options, query, variables) {
  const headers = { "Content-Type": "application/json" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let response;
  try {
    response = await (options.fetch || fetch)(options.saleorApiUrl, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (_error) {
    throw new ScanToBindError("NETWORK", TEXT[localeOf(options)].network);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_error) {
    body = null;
  }
  if (!response.ok || !body || !body.data || (body.errors && body.errors.length)) {
    const message = body && body.errors && body.errors[0] && body.errors[0].message;
    throw new ScanToBindError("GRAPHQL", message || TEXT[localeOf(options)].network);
  }
  return body.data;
}

const GATEWAY_INITIALIZE = `mutation StbGateway($id: ID!, $gateway: String!) {
  paymentGatewayInitialize(id: $id, paymentGateways: [{id: $gateway}]) {
    gatewayConfigs { id data errors { code message } } errors { code message } } }`;
const TRANSACTION_INITIALIZE = `mutation StbInitialize($id: ID!, $key: String!, $gateway: String!, $data: JSON) {
  transactionInitialize(id: $id, idempotencyKey: $key, paymentGateway: {id: $gateway, data: $data}) {
    transaction { id } transactionEvent { type message } data errors { field code message } } }`;
const TRANSACTION_PROCESS = `mutation StbProcess($id: ID!, $data: JSON) {
  transactionProcess(id: $id, data: $data) {
    transactionEvent { type message } data errors { code message } } }`;
const CHECKOUT_COMPLETE = `mutation StbComplete($id: ID!) {
  checkoutComplete(id: $id) { order { id } errors { code message } } }`;
const CHARGE_STATUS = `query StbChargeStatus($id: ID!) { checkout(id: $id) { id chargeStatus } }`;
const STORED_METHODS = `query StbStored($channel: String!) {
  me { storedPaymentMethods(channel: $channel) { id name data } } }`;
const TOKENIZATION_GATEWAY = `mutation StbTokenizationGateway($gateway: String!, $channel: String!) {
  paymentGatewayInitializeTokenization(id: $gateway, channel: $channel) {
    result data errors { code message } } }`;
const TOKENIZATION_INITIALIZE = `mutation StbTokenize($gateway: String!, $channel: String!, $data: JSON) {
  paymentMethodInitializeTokenization(id: $gateway, channel: $channel,
      paymentFlowToSupport: INTERACTIVE, data: $data) {
    result id data errors { code message } } }`;
const TOKENIZATION_PROCESS = `mutation StbTokenizeProcess($id: String!, $channel: String!) {
  paymentMethodProcessTokenization(id: $id, channel: $channel) {
    result id data errors { code message } } }`;
const STORED_DELETE = `mutation StbDelete($id: ID!, $channel: String!) {
  storedPaymentMethodRequestDelete(id: $id, channel: $channel) { result errors { code message } } }`;

function firstError(result) {
  const errors = (result && result.errors) || [];
  return errors.length ? errors[0] : null;
}

/** Follow a binding on the app's status stream; returns a function that closes it. */
export function followStatus(statusUrl, onState) {
  const source = new EventSource(statusUrl);
  source.addEventListener("status", (event) => {
    const state = JSON.parse(event.data);
    if (["paid", "failed", "saved"].includes(state.state)) source.close();
    onState(state);
  });
  return () => source.close();
}

function formatRemaining(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

let panels = 0;

class Panel {
  constructor(root, options) {
    panels += 1;
    this.ids = `stb-${panels}`;
    this.options = options;
    this.t = TEXT[localeOf(options)];
    this.root = root;
    this.root.replaceChildren();
    const style = el("style", {}, STYLE);
    this.box = el("div", { class: "stb", lang: localeOf(options) });
    this.status = el("p", { role: "status", "aria-live": "polite", class: "stb-status" });
    this.alert = el("p", { role: "alert", class: "stb-error" });
    this.body = el("div");
    this.box.append(this.body, this.status, this.alert);
    this.root.append(style, this.box);
    this.closers = [];
  }

  say(text) {
    this.status.textContent = text || "";
  }

  fail(text) {
    this.alert.textContent = text || "";
  }

  stop() {
    for (const close of this.closers.splice(0)) close();
  }

  /** Replace the content; when keyboard focus was in it, move focus to the new content's
   * heading (or first control) instead of letting it fall back to the page's body. */
  show(...children) {
    const active = document.activeElement;
    const hadFocus = active && active !== document.body && this.body.contains(active);
    this.body.replaceChildren(...children);
    if (!hadFocus) return;
    const target = this.body.querySelector("h2, button, a");
    if (!target) return;
    if (target.tagName === "H2") target.tabIndex = -1;
    target.focus();
  }

  showQr(qr, walletName, onRenew, heading) {
    const t = this.t;
    const countdown = el("p", { class: "stb-countdown" });
    const figure = el("figure", { class: "stb-qr", role: "img", "aria-label": t.qrAlt(walletName) });
    figure.innerHTML = qr.qrCodeSvg || "";
    const svg = figure.querySelector("svg");
    if (svg) svg.setAttribute("aria-hidden", "true");
    const children = [el("h2", {}, (heading || t.scan)(walletName)), figure, countdown];
    const appLink = qr.authUrls && (qr.authUrls.applinkUrl || qr.authUrls.schemeUrl || qr.authUrls.normalUrl);
    if (appLink && (isPhone() || this.options.showAppLink)) {
      children.push(el("p", {}, el("a", { href: appLink, class: "stb-applink" }, t.openApp(walletName))));
    }
    children.push(el("button", { type: "button", class: "stb-secondary stb-renew", onclick: onRenew }, t.newCode));
    this.show(...children);
    const expires = Date.parse(qr.expiresAt);
    const tick = () => {
      const left = expires - Date.now();
      countdown.textContent = t.expiresIn(formatRemaining(left));
    };
    tick();
    const timer = setInterval(tick, 1000);
    this.closers.push(() => clearInterval(timer));
  }
}

/**
 * The checkout widget: wallet choice, one click with saved wallets, the QR step; completes the
 * checkout once paid (unless `completeCheckout: false`).
 */
export function mountCheckout(root, options) {
  const gateway = options.gatewayId || GATEWAY_ID;
  const panel = new Panel(root, options);
  const t = panel.t;
  let transactionId = null;
  let walletName = "";

  // Paid: Saleor learns it from the app's transactionEventReport; the widget reads
  // checkout.chargeStatus (which adds no event) until it is covered, then completes.
  const paid = async () => {
    panel.stop();
    panel.show(el("p", { class: "stb-ok" }, t.paid));
    if (options.completeCheckout === false) {
      if (options.onPaid) options.onPaid({ transactionId });
      return;
    }
    panel.say(t.completing);
    for (let attempt = 0; attempt < 30; attempt += 1) {
      const read = await saleorRequest(options, CHARGE_STATUS, { id: options.checkoutId });
      const status = read.checkout && read.checkout.chargeStatus;
      if (status === "FULL" || status === "OVERCHARGED") break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const done = await saleorRequest(options, CHECKOUT_COMPLETE, { id: options.checkoutId });
    const error = firstError(done.checkoutComplete);
    if (error) return failed(error.code, error.message);
    panel.say(t.paid);
    if (options.onPaid) options.onPaid({ transactionId });
    if (options.onComplete) options.onComplete(done.checkoutComplete.order);
  };

  // A failure's outcome (one transactionProcess: the shopper's message).
  const finish = async (code) => {
    panel.stop();
    const processed = await saleorRequest(options, TRANSACTION_PROCESS, { id: transactionId });
    const event = processed.transactionProcess && processed.transactionProcess.transactionEvent;
    if (event && event.type === "CHARGE_SUCCESS") return paid();
    return failed(code || "FAILED", event && event.message);
  };

  const failed = (code, message) => {
    panel.stop();
    panel.say("");
    if (t.codes) message = t.codes[code] || t.other;
    panel.fail([t.failed, message].filter(Boolean).join(t.gap));
    panel.show(el("button", { type: "button", class: "stb-retry", onclick: () => start() }, t.retry));
    if (options.onFailed) options.onFailed({ code, message: message || t.failed });
  };

  const renew = async (wanted) => {
    panel.say(t.expired);
    const processed = await saleorRequest(options, TRANSACTION_PROCESS, {
      id: transactionId,
      data: wanted ? { newQrCode: true } : null,
    });
    const answer = processed.transactionProcess;
    const error = firstError(answer);
    if (error) return failed(error.code, error.message);
    const type = answer.transactionEvent && answer.transactionEvent.type;
    if (type === "CHARGE_SUCCESS") return paid();
    if (type === "CHARGE_FAILURE") return failed("FAILED", answer.transactionEvent.message);
    if (answer.data && answer.data.qrCodeSvg) {
      panel.stop();
      showQr(answer.data);
      panel.say(t.renewed);
    } else if (answer.transactionEvent) {
      panel.fail(answer.transactionEvent.message);
    }
  };

  const showQr = (data) => {
    panel.showQr(data, walletName, () => renew(true));
    if (data.statusUrl) {
      panel.closers.push(
        followStatus(data.statusUrl, (state) => {
          if (state.state === "paid") paid().catch((e) => failed(e.code, e.message));
          else if (state.state === "failed") finish(state.code).catch((e) => failed(e.code, e.message));
          else if (state.state === "expired") renew(false).catch((e) => failed(e.code, e.message));
          else if (state.state === "waiting" && state.scanned) panel.say(t.scanned);
        }),
      );
    }
  };

  const pay = async (paymentData, name) => {
    panel.fail("");
    panel.stop();
    walletName = name;
    const result = await saleorRequest(options, TRANSACTION_INITIALIZE, {
      id: options.checkoutId,
      key: newKey(),
      gateway,
      data: paymentData,
    });
    const answer = result.transactionInitialize;
    const error = firstError(answer);
    if (error) return failed(error.code, error.message);
    transactionId = answer.transaction.id;
    const type = answer.transactionEvent && answer.transactionEvent.type;
    if (type === "CHARGE_SUCCESS" || type === "CHARGE_REQUEST") return paid();
    if (type === "CHARGE_FAILURE") return failed("FAILED", answer.transactionEvent.message);
    showQr(answer.data);
  };

  const start = async () => {
    panel.stop();
    panel.fail("");
    const result = await saleorRequest(options, GATEWAY_INITIALIZE, {
      id: options.checkoutId,
      gateway,
    });
    const config = (result.paymentGatewayInitialize.gatewayConfigs || []).find((c) => c.id === gateway);
    const data = (config && config.data) || {};
    const wallets = data.wallets || [];
    if (!wallets.length) {
      panel.fail(data.error || t.noWallets);
      return;
    }
    const children = [];
    const agreements = data.agreements || [];
    if (agreements.length) {
      children.push(el("h2", {}, t.saved));
      for (const saved of agreements) {
        children.push(
          el("button", {
            type: "button",
            class: "stb-oneclick",
            "data-wallet": saved.wallet,
            onclick: () => pay({ storedPaymentMethodId: saved.id }, saved.name).catch((e) => failed(e.code, e.message)),
          }, t.payWith(saved.name)),
        );
      }
    }
    children.push(el("h2", {}, t.choose));
    for (const wallet of wallets) {
      children.push(
        el("button", {
          type: "button",
          class: "stb-wallet stb-secondary",
          "data-wallet": wallet.id,
          onclick: () => pay({ wallet: wallet.id }, wallet.name).catch((e) => failed(e.code, e.message)),
        }, t.payWith(wallet.name)),
      );
    }
    panel.show(...children);
  };

  const ready = start().catch((e) => failed(e.code, e.message));
  return { ready, destroy: () => { panel.stop(); root.replaceChildren(); } };
}

/** The account page: the customer's saved wallets with "remove", and "save a wallet". */
export function mountAccount(root, options) {
  const gateway = options.gatewayId || GATEWAY_ID;
  const panel = new Panel(root, options);
  const t = panel.t;
  let walletName = "";
  let showingList = false;

  // The app's messages are in English: in Chinese, the stream's code (or a general message).
  const failed = (message, code, what) => {
    panel.stop();
    panel.say("");
    if (t.codes) message = t.codes[code] || t.accountOther;
    panel.fail([what, message].filter(Boolean).join(t.gap) || t.accountOther);
    if (!showingList) {
      panel.show(
        el("button", { type: "button", class: "stb-retry", onclick: () => list().catch((e) => failed(e.message, e.code)) }, t.retry),
      );
    }
  };

  const processTokenization = async (id, code) => {
    const result = await saleorRequest(options, TOKENIZATION_PROCESS, { id, channel: options.channel });
    return follow(result.paymentMethodProcessTokenization, code);
  };

  const follow = async (answer, code) => {
    const error = firstError(answer);
    if (error || answer.result === "FAILED_TO_TOKENIZE" || answer.result === "FAILED_TO_DELIVER") {
      return failed(error && error.message, code, t.notSaved);
    }
    if (answer.result === "SUCCESSFULLY_TOKENIZED") {
      panel.stop();
      await list();
      panel.say(t.savedOk);
      return;
    }
    // Approved in the wallet, not bound yet: the status stream says when it is.
    if (answer.result === "PENDING") return panel.say(t.approvedSaving);
    if (answer.result === "ADDITIONAL_ACTION_REQUIRED" && answer.data) {
      panel.stop();
      showingList = false;
      const id = answer.id;
      const again = (why) => processTokenization(id, why).catch((e) => failed(e.message, e.code, t.notSaved));
      panel.showQr(answer.data, walletName, () => again(), t.scanToSave);
      if (answer.data.statusUrl) {
        panel.closers.push(
          followStatus(answer.data.statusUrl, (state) => {
            if (state.state === "saved" || state.state === "expired") again();
            else if (state.state === "failed") again(state.code);
            else if (state.state === "waiting" && state.scanned) panel.say(t.approvedSaving);
          }),
        );
      }
    }
  };

  const save = async (wallet) => {
    panel.fail("");
    panel.say("");
    walletName = wallet.name;
    const result = await saleorRequest(options, TOKENIZATION_INITIALIZE, {
      gateway,
      channel: options.channel,
      data: { wallet: wallet.id },
    });
    return follow(result.paymentMethodInitializeTokenization);
  };

  const remove = async (method) => {
    panel.fail("");
    panel.say("");
    const result = await saleorRequest(options, STORED_DELETE, { id: method.id, channel: options.channel });
    const answer = result.storedPaymentMethodRequestDelete;
    const error = firstError(answer);
    if (error || answer.result !== "SUCCESSFULLY_DELETED") {
      return failed(error && error.message, undefined, t.notRemoved);
    }
    await list();
    panel.say(t.removed);
  };

  const list = async () => {
    panel.stop();
    panel.fail("");
    const [stored, tokenization] = await Promise.all([
      saleorRequest(options, STORED_METHODS, { channel: options.channel }),
      saleorRequest(options, TOKENIZATION_GATEWAY, { gateway, channel: options.channel }),
    ]);
    const methods = ((stored.me && stored.me.storedPaymentMethods) || []).filter(
      (m) => m.id.startsWith(`app:${gateway}:`) || (m.data && m.data.wallet),
    );
    const initialized = tokenization.paymentGatewayInitializeTokenization;
    const wallets = (initialized.data || {}).wallets || [];
    const children = [el("h2", { id: `${panel.ids}-saved` }, t.saved)];
    const items = el("ul", { "aria-labelledby": `${panel.ids}-saved` });
    for (const method of methods) {
      items.append(
        el("li", {}, `${method.name} `,
          el("button", {
            type: "button",
            class: "stb-remove stb-secondary",
            "aria-label": t.remove(method.name),
            onclick: () => remove(method).catch((e) => failed(e.message, e.code, t.notRemoved)),
          }, t.removeShort),
        ),
      );
    }
    children.push(methods.length ? items : el("p", {}, t.none), el("h2", {}, t.saveWallet));
    for (const wallet of wallets) {
      children.push(
        el("button", {
          type: "button",
          class: "stb-save",
          "data-wallet": wallet.id,
          onclick: () => save(wallet).catch((e) => failed(e.message, e.code, t.notSaved)),
        }, t.saveWith(wallet.name)),
      );
    }
    showingList = true;
    panel.show(...children);
    // The channel cannot save wallets (not configured, the app unreachable): say why.
    const error = firstError(initialized);
    if (error) failed(error.message, undefined, t.notSaved);
  };

  const ready = list().catch((e) => failed(e.message, e.code));
  return { ready, destroy: () => { panel.stop(); root.replaceChildren(); } };
}
