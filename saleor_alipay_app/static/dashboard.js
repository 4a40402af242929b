/*
 * The app's pages inside the Saleor dashboard: an overview, configuration per channel,
 * agreements, payments (with refunds), declarations and reconciliation. Plain JavaScript, no build step.
 *
 * App Bridge, as the dashboard speaks it: the dashboard loads this page in an iframe with
 * ?domain=&saleorApiUrl=&id=&theme=&locale=, the page announces itself with a `notifyReady`
 * action, and the dashboard posts events: `handshake` {token, version}, `tokenRefresh` {token},
 * `theme` {theme}, `localeChanged` {locale}, `redirect` {path} and `response` {actionId, ok}.
 * The token goes with every admin API call; the app's server verifies it with Saleor's keys.
 */
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  // The app's root (where static/ and api/ live) from this script's own URL, and the page's
  // path: the dashboard loads the frame at the page + the app's route (/dashboard/payments/<id>).
  var APP_ROOT = (function () {
    var script = document.currentScript;
    var src = script && script.src ? script.src : window.location.href;
    return new URL(script && script.src ? "../" : "./", src).pathname;
  })();
  var PAGE_PATH = APP_ROOT + "dashboard";
  var state = {
    token: null,
    saleorApiUrl: params.get("saleorApiUrl") || "",
    domain: params.get("domain") || "",
    appId: params.get("id") || "",
    theme: params.get("theme") === "dark" ? "dark" : "light",
    locale: params.get("locale") || "en",
    me: null,
  };
  var referrerOrigin = null;
  try {
    referrerOrigin = document.referrer ? new URL(document.referrer).origin : null;
  } catch (e) {
    referrerOrigin = null;
  }

  // -- words --------------------------------------------------------------------------------

  var MESSAGES = {
    en: {
      title: "Alipay+ Scan to Bind",
      waiting: "Waiting for the Saleor dashboard…",
      notEmbedded: "Open this page from the Saleor dashboard: Apps → Alipay+ Scan to Bind.",
      loading: "Loading…",
      "nav.overview": "Overview",
      "overview.lead": "The last {days} days (UTC), and what needs someone now.",
      "overview.payments": "Payments",
      "overview.amounts": "Succeeded amounts",
      "overview.wallets": "Success rate per wallet",
      "overview.walletsNote": "Succeeded among succeeded and failed payments.",
      "overview.failures": "Top failure reasons",
      "overview.agreements": "Agreements",
      "overview.refunds": "Refunds",
      "overview.attention": "Needs attention",
      "overview.allClear": "Nothing needs attention.",
      "overview.stuckPayments": "Payments without an outcome after {minutes} minutes",
      "overview.stuckRefunds": "Refunds without an outcome after {minutes} minutes",
      "overview.reports": "Reports Saleor has not confirmed",
      "overview.mismatches": "Days that do not reconcile",
      "overview.more": "{n} more",
      "overview.expiring": "Expiring within {days} days",
      "overview.noChart": "No payment in this period.",
      "col.count": "Payments",
      "col.succeeded": "Succeeded",
      "col.failed": "Failed",
      "col.successRate": "Success rate",
      "col.code": "Result code",
      "col.shopperMessage": "What the shopper saw",
      "col.refunds": "Refunds",
      "nav.configuration": "Configuration",
      "nav.agreements": "Agreements",
      "nav.payments": "Payments",
      "nav.refunds": "Refunds",
      "nav.declarations": "Declarations",
      "nav.reconciliation": "Reconciliation",
      "config.lead": "Antom credentials per Saleor channel. Keys are stored encrypted and never shown again.",
      "config.configured": "Configured",
      "config.notConfigured": "Not configured",
      "config.inactive": "Inactive channel",
      "config.edit": "Edit configuration",
      "config.configure": "Configure",
      "config.readOnly": "You can look but not change: changing the configuration needs the MANAGE_APPS permission in Saleor.",
      "config.clientId": "Antom client ID",
      "config.clientIdHelp": "As shown in Antom Dashboard (sandbox client IDs start with SANDBOX_).",
      "config.privateKey": "Merchant private key",
      "config.privateKeyHelp": "PEM or the bare base64 Antom Dashboard shows. Write-only.",
      "config.antomKey": "Antom public key",
      "config.antomKeyHelp": "Antom Dashboard → Developer → Key configuration → Antom public key.",
      "config.uploadedKey": "Your public key, as uploaded to Antom (optional)",
      "config.uploadedKeyHelp": "When given, it is checked against the private key.",
      "config.keepKey": "Set — leave empty to keep it",
      "config.pasteKey": "Paste the key here",
      "config.region": "Region",
      "config.region.asia": "Asia (open-sea-global.alipay.com)",
      "config.region.north_america": "North America (open-na-global.alipay.com)",
      "config.region.europe": "Europe (open-de-global.alipay.com)",
      "config.region.us": "United States (open.antglobal-us.com)",
      "config.region.custom": "Other URL (e.g. the Antom sandbox)",
      "config.baseUrl": "Antom gateway URL",
      "config.sandbox": "Sandbox (Antom's test environment)",
      "config.wallets": "Enabled wallets",
      "config.test": "Test connection",
      "config.save": "Save",
      "config.saved": "Configuration saved",
      "config.testing": "Testing…",
      "config.saving": "Saving…",
      "config.merchantPublicKey": "Your public key (upload to Antom)",
      "config.notificationUrls": "Notification URLs (set in Antom Dashboard)",
      "config.updatedAt": "Updated",
      "config.warning": "Saleor's channels could not be read",
      "test.OK": "Connected: Antom accepted our signature and its signed answer verified.",
      "test.PRIVATE_KEY": "Antom rejected our signature: the private key does not match the public key uploaded to Antom.",
      "test.CLIENT_ID": "Client ID unknown: Antom does not know this client ID (or has no key for it).",
      "test.URL": "Wrong region or URL: no Antom API answered there.",
      "test.ANTOM_PUBLIC_KEY": "Antom public key is wrong: Antom's answer does not verify with it.",
      "test.CLOCK": "Clock: this server's clock is off; Antom refuses requests with a wrong time.",
      "test.UNSIGNED": "Antom accepted our signature, but its answer was unsigned: the Antom public key could not be checked.",
      "test.ANTOM_ERROR": "Antom answered with an error.",
      "agreements.lead": "Wallets shoppers bound to their Saleor account. Revoking unlinks the wallet at Antom first.",
      "agreements.search": "Customer email or ID, agreement ID, wallet login",
      "filter.search": "Search",
      "filter.all": "All",
      "filter.wallet": "Wallet",
      "filter.status": "Status",
      "filter.from": "From",
      "filter.to": "To",
      "filter.kind": "Kind",
      "col.customer": "Customer",
      "col.wallet": "Wallet",
      "col.channel": "Channel",
      "col.status": "Status",
      "col.created": "Created",
      "col.updated": "Updated",
      "col.actions": "",
      "col.paymentRequestId": "Payment request ID",
      "col.refundRequestId": "Refund request ID",
      "col.amount": "Amount",
      "col.refunded": "Refunded",
      "col.result": "Result",
      "col.order": "Order",
      "col.time": "Time",
      "col.subject": "Record",
      "col.reference": "Reference",
      "col.detail": "Detail",
      "col.kind": "Kind",
      "col.deliveries": "Deliveries",
      "col.processed": "Processed",
      "col.event": "Event",
      "col.pspReference": "PSP reference",
      "col.attempts": "Attempts",
      "col.sent": "Sent",
      "col.date": "Date",
      "col.matched": "Matched",
      "col.missingHere": "Missing here",
      "col.missingAtAntom": "Missing at Antom",
      "col.mismatched": "Mismatched",
      "col.imported": "Imported",
      "col.currency": "Currency",
      "col.gross": "Gross",
      "col.fees": "Fees",
      "col.net": "Net",
      "col.summaryChecked": "Summary checked",
      "col.transactionId": "Antom transaction",
      "col.type": "Type",
      "col.ours": "Here",
      "col.declarationRequestId": "Declaration request ID",
      "col.customsCode": "Customs",
      "col.suborder": "Sub-order",
      "action.details": "Details",
      "action.revoke": "Revoke",
      "action.confirmRevoke": "Revoke at Antom",
      "action.cancel": "Cancel",
      "action.inquire": "Inquire now",
      "action.back": "← Back",
      "action.previous": "Previous",
      "action.next": "Next",
      "action.declare": "Declare",
      "action.redeclare": "Correct and declare again",
      "revoke.confirm": "Unlink this wallet at Antom? The customer will have to bind it again.",
      "revoke.done": "Agreement revoked",
      "agreement.title": "Agreement",
      "agreement.customerId": "Saleor customer ID",
      "agreement.email": "Email",
      "agreement.login": "Wallet login",
      "agreement.reason": "Reason",
      "agreement.expires": "Token expires",
      "agreement.ended": "Ended",
      "agreement.guest": "Guest",
      "agreement.payments": "Payments with this agreement",
      history: "History",
      "payments.lead": "Every attempt to charge a Saleor transaction through Antom.",
      "payments.search": "Request, payment or transaction ID",
      "payment.title": "Payment",
      "payment.paymentId": "Antom payment ID",
      "payment.transactionId": "Saleor transaction ID",
      "payment.orderId": "Saleor order",
      "payment.checkoutId": "Saleor checkout",
      "payment.noOrder": "not an order yet",
      "payment.openOrder": "Order",
      "payment.attempt": "Attempt",
      "payment.agreement": "Agreement",
      "payment.customerId": "Saleor customer ID",
      "payment.resultCode": "Result code",
      "payment.resultMessage": "Result message",
      "payment.paidAt": "Paid",
      "payment.inquiries": "Inquiries",
      "payment.nextInquiry": "Next inquiry",
      "payment.refunds": "Refunds",
      "payment.notifications": "Notifications from Antom",
      "payment.reports": "Reports to Saleor",
      "payment.declarations": "Customs declarations",
      "inquire.done": "Asked Antom",
      "refunds.lead": "Refunds Saleor asked for, and where Antom stands on them.",
      "refunds.search": "Refund request ID, Antom refund ID or payment request ID",
      "declarations.lead": "Customs declarations of paid orders (Alipay CN, CNY).",
      "declarations.new": "New declaration",
      "declarations.created": "Declaration sent",
      "declaration.title": "Declaration",
      "declaration.antom": "At Antom",
      "field.paymentRequestId": "Payment request ID",
      "field.customsCode": "Customs code",
      "field.merchantCustomsCode": "Merchant customs code",
      "field.merchantCustomsName": "Merchant customs name",
      "field.amount": "Amount (CNY)",
      "field.splitOrder": "Split order",
      "field.suborderId": "Sub-order ID",
      "field.certificateType": "Buyer certificate type",
      "field.certificateNo": "Buyer certificate number",
      "field.holderName": "Buyer name",
      "reconciliation.lead": "Antom's daily transaction and settlement reports compared with the payments here.",
      "reconciliation.day": "Day",
      "notAvailable": "Not available yet",
      "notAvailableText": "This part of the app is not installed in this version yet.",
      "empty": "Nothing here yet.",
      "error.expired": "The dashboard session expired: reload the page.",
      "total": "{n} results",
      "total.one": "1 result",
      "config.unsupported": "No Scan to Bind wallet takes {currency}.",
      "config.details": "Details",
      "config.close": "Close",
      "test.detail": "Antom's answer: {code}",
      "test.okDetail": "Antom verified our signature and answered our test inquiry, signed: {code}, as expected for a payment that does not exist.",
      "date.order": "dmy",
      "date.invalid": "Write the date as {example}",
      yes: "Yes",
      no: "No",
      "status.ACTIVE": "Active",
      "status.REVOKED": "Revoked",
      "status.INVALID": "Invalid",
      "status.EXPIRED": "Expired",
      "status.AWAITING_BINDING": "Awaiting scan",
      "status.PROCESSING": "Processing",
      "status.SUCCEEDED": "Succeeded",
      "status.FAILED": "Failed",
      "status.CANCELLED": "Cancelled",
      "status.PENDING": "Pending",
      "status.DONE": "Sent",
      "status.MATCHED": "Matched",
      "status.MISMATCHED": "Mismatched",
      "status.IMPORTED": "Imported",
      "status.IN_PROCESS": "In process",
      "status.CUSTOMS_PROCESSING_COMPLETED": "Completed",
      "status.AUTHORIZED": "Authorized",
      "status.BOUND": "Bound",
      "status.COMPLETED": "Completed",
      "status.REJECTED": "Rejected",
      "status.MISSING_HERE": "Missing here",
      "status.MISSING_AT_ANTOM": "Missing at Antom",
      "status.AMOUNT_MISMATCH": "Amount differs",
      "status.CURRENCY_MISMATCH": "Currency differs",
      "status.STATUS_MISMATCH": "Status differs",
      "status.OTHER": "Other",
      "field.unchanged": "Leave empty to keep it",
      "field.buyer": "Buyer",
    },
    zh: {
      title: "Alipay+ 扫码签约",
      waiting: "正在等待 Saleor 控制台…",
      notEmbedded: "请从 Saleor 控制台打开本页：应用 → Alipay+ 扫码签约。",
      loading: "加载中…",
      "nav.overview": "概览",
      "overview.lead": "最近 {days} 天（UTC），以及现在需要处理的事项。",
      "overview.payments": "支付",
      "overview.amounts": "成功金额",
      "overview.wallets": "各钱包成功率",
      "overview.walletsNote": "成功笔数占成功与失败笔数之和的比例。",
      "overview.failures": "主要失败原因",
      "overview.agreements": "签约",
      "overview.refunds": "退款",
      "overview.attention": "需要处理",
      "overview.allClear": "没有需要处理的事项。",
      "overview.stuckPayments": "超过 {minutes} 分钟仍无结果的支付",
      "overview.stuckRefunds": "超过 {minutes} 分钟仍无结果的退款",
      "overview.reports": "Saleor 尚未确认的报告",
      "overview.mismatches": "对账不一致的日期",
      "overview.more": "另有 {n} 条",
      "overview.expiring": "{days} 天内到期",
      "overview.noChart": "此期间没有支付。",
      "col.count": "笔数",
      "col.succeeded": "成功",
      "col.failed": "失败",
      "col.successRate": "成功率",
      "col.code": "结果码",
      "col.shopperMessage": "顾客看到的提示",
      "col.refunds": "退款",
      "nav.configuration": "配置",
      "nav.agreements": "签约",
      "nav.payments": "支付",
      "nav.refunds": "退款",
      "nav.declarations": "报关",
      "nav.reconciliation": "对账",
      "config.lead": "按 Saleor 渠道配置 Antom 凭证。密钥加密保存，保存后不再显示。",
      "config.configured": "已配置",
      "config.notConfigured": "未配置",
      "config.inactive": "渠道未启用",
      "config.edit": "修改配置",
      "config.configure": "配置",
      "config.readOnly": "您可以查看但不能修改：修改配置需要 Saleor 中的 MANAGE_APPS 权限。",
      "config.clientId": "Antom Client ID",
      "config.clientIdHelp": "与 Antom Dashboard 中显示的一致（沙箱 Client ID 以 SANDBOX_ 开头）。",
      "config.privateKey": "商户私钥",
      "config.privateKeyHelp": "PEM 或 Antom Dashboard 显示的纯 base64。只写不读。",
      "config.antomKey": "Antom 公钥",
      "config.antomKeyHelp": "Antom Dashboard → 开发者 → 密钥配置 → Antom 公钥。",
      "config.uploadedKey": "您上传到 Antom 的公钥（可选）",
      "config.uploadedKeyHelp": "填写后会校验它与私钥是否匹配。",
      "config.keepKey": "已设置 — 留空则保持不变",
      "config.pasteKey": "在此粘贴密钥",
      "config.region": "地区",
      "config.region.asia": "亚洲 (open-sea-global.alipay.com)",
      "config.region.north_america": "北美 (open-na-global.alipay.com)",
      "config.region.europe": "欧洲 (open-de-global.alipay.com)",
      "config.region.us": "美国 (open.antglobal-us.com)",
      "config.region.custom": "其他地址（如 Antom 沙箱）",
      "config.baseUrl": "Antom 网关地址",
      "config.sandbox": "沙箱（Antom 测试环境）",
      "config.wallets": "启用的钱包",
      "config.test": "测试连接",
      "config.save": "保存",
      "config.saved": "配置已保存",
      "config.testing": "正在测试…",
      "config.saving": "正在保存…",
      "config.merchantPublicKey": "您的公钥（上传到 Antom）",
      "config.notificationUrls": "通知地址（在 Antom Dashboard 中设置）",
      "config.updatedAt": "更新时间",
      "config.warning": "无法读取 Saleor 的渠道",
      "test.OK": "连接成功：Antom 接受了我们的签名，其签名应答验证通过。",
      "test.PRIVATE_KEY": "Antom 拒绝了我们的签名：私钥与上传到 Antom 的公钥不匹配。",
      "test.CLIENT_ID": "Client ID 未知：Antom 不认识该 Client ID（或未为其上传公钥）。",
      "test.URL": "地区或地址错误：该地址没有 Antom 接口应答。",
      "test.ANTOM_PUBLIC_KEY": "Antom 公钥错误：Antom 的应答无法用它验签。",
      "test.CLOCK": "时钟：本服务器时间不准，Antom 拒绝时间错误的请求。",
      "test.UNSIGNED": "Antom 接受了我们的签名，但应答未签名，无法校验 Antom 公钥。",
      "test.ANTOM_ERROR": "Antom 返回了错误。",
      "agreements.lead": "顾客绑定到其 Saleor 账户的钱包。解约会先在 Antom 解除绑定。",
      "agreements.search": "顾客邮箱或 ID、签约 ID、钱包账号",
      "filter.search": "搜索",
      "filter.all": "全部",
      "filter.wallet": "钱包",
      "filter.status": "状态",
      "filter.from": "开始日期",
      "filter.to": "结束日期",
      "filter.kind": "类型",
      "col.customer": "顾客",
      "col.wallet": "钱包",
      "col.channel": "渠道",
      "col.status": "状态",
      "col.created": "创建时间",
      "col.updated": "更新时间",
      "col.actions": "",
      "col.paymentRequestId": "支付请求号",
      "col.refundRequestId": "退款请求号",
      "col.amount": "金额",
      "col.refunded": "已退款",
      "col.result": "结果",
      "col.order": "订单",
      "col.time": "时间",
      "col.subject": "对象",
      "col.reference": "编号",
      "col.detail": "说明",
      "col.kind": "类型",
      "col.deliveries": "送达次数",
      "col.processed": "处理时间",
      "col.event": "事件",
      "col.pspReference": "PSP 编号",
      "col.attempts": "尝试次数",
      "col.sent": "发送时间",
      "col.date": "日期",
      "col.matched": "一致",
      "col.missingHere": "本地缺失",
      "col.missingAtAntom": "Antom 缺失",
      "col.mismatched": "不一致",
      "col.imported": "导入时间",
      "col.currency": "币种",
      "col.gross": "总额",
      "col.fees": "手续费",
      "col.net": "净额",
      "col.summaryChecked": "汇总已核对",
      "col.transactionId": "Antom 交易号",
      "col.type": "类型",
      "col.ours": "本地",
      "col.declarationRequestId": "报关请求号",
      "col.customsCode": "海关",
      "col.suborder": "子订单",
      "action.details": "详情",
      "action.revoke": "解约",
      "action.confirmRevoke": "在 Antom 解约",
      "action.cancel": "取消",
      "action.inquire": "立即查询",
      "action.back": "← 返回",
      "action.previous": "上一页",
      "action.next": "下一页",
      "action.declare": "报关",
      "action.redeclare": "修改后重新报关",
      "revoke.confirm": "确定在 Antom 解除该钱包绑定吗？顾客需要重新绑定。",
      "revoke.done": "已解约",
      "agreement.title": "签约",
      "agreement.customerId": "Saleor 顾客 ID",
      "agreement.email": "邮箱",
      "agreement.login": "钱包账号",
      "agreement.reason": "原因",
      "agreement.expires": "令牌到期",
      "agreement.ended": "结束时间",
      "agreement.guest": "访客",
      "agreement.payments": "使用该签约的支付",
      history: "状态记录",
      "payments.lead": "每一次通过 Antom 收取 Saleor 交易款项的尝试。",
      "payments.search": "请求号、支付号或交易 ID",
      "payment.title": "支付",
      "payment.paymentId": "Antom 支付号",
      "payment.transactionId": "Saleor 交易 ID",
      "payment.orderId": "Saleor 订单",
      "payment.checkoutId": "Saleor 结账",
      "payment.noOrder": "尚未成为订单",
      "payment.openOrder": "订单",
      "payment.attempt": "尝试",
      "payment.agreement": "签约",
      "payment.customerId": "Saleor 顾客 ID",
      "payment.resultCode": "结果码",
      "payment.resultMessage": "结果说明",
      "payment.paidAt": "支付时间",
      "payment.inquiries": "查询次数",
      "payment.nextInquiry": "下次查询",
      "payment.refunds": "退款",
      "payment.notifications": "Antom 通知",
      "payment.reports": "向 Saleor 的报告",
      "payment.declarations": "报关",
      "inquire.done": "已向 Antom 查询",
      "refunds.lead": "Saleor 发起的退款及其在 Antom 的状态。",
      "refunds.search": "退款请求号、Antom 退款号或支付请求号",
      "declarations.lead": "已支付订单的海关申报（支付宝中国，人民币）。",
      "declarations.new": "新建报关",
      "declarations.created": "已提交报关",
      "declaration.title": "报关",
      "declaration.antom": "Antom 状态",
      "field.paymentRequestId": "支付请求号",
      "field.customsCode": "海关编码",
      "field.merchantCustomsCode": "商户海关备案号",
      "field.merchantCustomsName": "商户海关备案名称",
      "field.amount": "金额（人民币）",
      "field.splitOrder": "拆单",
      "field.suborderId": "子订单号",
      "field.certificateType": "购买人证件类型",
      "field.certificateNo": "购买人证件号",
      "field.holderName": "购买人姓名",
      "reconciliation.lead": "将 Antom 每日交易与结算报表与本地支付进行核对。",
      "reconciliation.day": "日期",
      notAvailable: "暂不可用",
      notAvailableText: "本版本尚未提供此功能。",
      empty: "暂无数据。",
      "error.expired": "控制台会话已过期：请刷新页面。",
      total: "共 {n} 条",
      "total.one": "共 1 条",
      "config.unsupported": "没有扫码签约钱包支持 {currency}。",
      "config.details": "详情",
      "config.close": "收起",
      "test.detail": "Antom 应答：{code}",
      "test.okDetail": "Antom 验证了我们的签名，并对测试查询给出了签名应答：{code}（查询一笔不存在的支付，符合预期）。",
      "date.order": "ymd",
      "date.invalid": "请按 {example} 的格式填写日期",
      yes: "是",
      no: "否",
      "status.ACTIVE": "有效",
      "status.REVOKED": "已解约",
      "status.INVALID": "已失效",
      "status.EXPIRED": "已过期",
      "status.AWAITING_BINDING": "等待扫码",
      "status.PROCESSING": "处理中",
      "status.SUCCEEDED": "成功",
      "status.FAILED": "失败",
      "status.CANCELLED": "已取消",
      "status.PENDING": "待发送",
      "status.DONE": "已发送",
      "status.MATCHED": "一致",
      "status.MISMATCHED": "不一致",
      "status.IMPORTED": "已导入",
      "status.IN_PROCESS": "处理中",
      "status.CUSTOMS_PROCESSING_COMPLETED": "已完成",
      "status.AUTHORIZED": "已授权",
      "status.BOUND": "已绑定",
      "status.COMPLETED": "已完成",
      "status.REJECTED": "被退回",
      "status.MISSING_HERE": "本地缺失",
      "status.MISSING_AT_ANTOM": "Antom 缺失",
      "status.AMOUNT_MISMATCH": "金额不一致",
      "status.CURRENCY_MISMATCH": "币种不一致",
      "status.STATUS_MISMATCH": "状态不一致",
      "status.OTHER": "其他",
      "field.unchanged": "留空则保持不变",
      "field.buyer": "购买人",
    },
  };

  function lang() {
    var locale = String(state.locale || "").toLowerCase().replace("_", "-");
    if (locale === "zh" || locale === "zh-cn" || locale === "zh-sg" || locale.indexOf("zh-hans") === 0) {
      return "zh";
    }
    return "en";
  }

  function t(key, vars) {
    var table = MESSAGES[lang()];
    var text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : MESSAGES.en[key];
    if (text === undefined) text = key;
    if (vars) {
      Object.keys(vars).forEach(function (name) {
        text = text.replace("{" + name + "}", String(vars[name]));
      });
    }
    return text;
  }

  function statusLabel(status) {
    var key = "status." + status;
    var text = t(key);
    return text === key ? String(status) : text;
  }

  function formatTime(value) {
    if (!value) return "—";
    var date = new Date(value);
    if (isNaN(date.getTime())) return String(value);
    try {
      return new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", {
        dateStyle: "medium",
        timeStyle: "medium",
      }).format(date);
    } catch (e) {
      return date.toISOString();
    }
  }

  function formatMoney(amount, currency) {
    if (amount === null || amount === undefined) return "—";
    return String(amount) + (currency ? " " + currency : "");
  }

  // -- DOM ------------------------------------------------------------------------------------

  function h(tag, attrs) {
    var node = document.createElement(tag);
    var children = Array.prototype.slice.call(arguments, 2);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "text") node.textContent = String(value);
        else if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), value);
        else if (name === "className") node.className = value;
        else if (name === "value") node.value = value;
        else if (name === "checked") node.checked = Boolean(value);
        else node.setAttribute(name, value === true ? "" : String(value));
      });
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    children.forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      if (Array.isArray(child)) append(node, child);
      else if (typeof child === "string" || typeof child === "number") node.appendChild(document.createTextNode(String(child)));
      else node.appendChild(child);
    });
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function badge(status) {
    var tone = {
      ACTIVE: "success", SUCCEEDED: "success", DONE: "success", MATCHED: "success", BOUND: "success",
      CUSTOMS_PROCESSING_COMPLETED: "success", COMPLETED: "success",
      FAILED: "critical", INVALID: "critical", MISMATCHED: "critical", REJECTED: "critical",
      MISSING_HERE: "critical", MISSING_AT_ANTOM: "critical", AMOUNT_MISMATCH: "critical",
      CURRENCY_MISMATCH: "critical", STATUS_MISMATCH: "critical",
      PROCESSING: "warning", PENDING: "warning", AUTHORIZED: "warning", AWAITING_BINDING: "warning", IN_PROCESS: "warning",
      IMPORTED: "info", REVOKED: "", EXPIRED: "", CANCELLED: "",
    }[status];
    return h("span", { className: "badge " + (tone || ""), "data-status": status, text: statusLabel(status) });
  }

  function notice(tone, title, detail) {
    return h("div", { className: "notice " + tone, role: tone === "critical" ? "alert" : "status" },
      h("strong", { text: title }), detail ? h("div", { className: "detail", text: detail }) : null);
  }

  function table(columns, rows, options) {
    options = options || {};
    if (!rows.length) return h("div", { className: "table-wrap" }, h("div", { className: "empty", text: t("empty") }));
    return h("div", { className: "table-wrap" },
      h("table", { className: options.className || "", "data-table": options.name || null },
        h("thead", null, h("tr", null, columns.map(function (c) {
          return h("th", { className: c.num ? "num" : "", text: c.label });
        }))),
        h("tbody", null, rows.map(function (row) {
          return h("tr", options.rowAttrs ? options.rowAttrs(row) : null, columns.map(function (c) {
            var value = c.render(row);
            return h("td", { className: c.num ? "num" : "" }, value === null || value === undefined || value === "" ? "—" : value);
          }));
        }))));
  }

  function facts(pairs) {
    return h("dl", { className: "facts" }, pairs.filter(Boolean).map(function (pair) {
      var value = pair[1];
      return [h("dt", { text: pair[0] }), h("dd", null, value === null || value === undefined || value === "" ? "—" : value)];
    }));
  }

  // One notification: the dashboard's own (App Bridge `notification`), never one of ours.
  function toast(text, tone) {
    notifyDashboard(tone === "critical" ? "error" : "success", text);
  }

  // -- App Bridge ---------------------------------------------------------------------------

  function newActionId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return "a-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function dispatch(type, payload) {
    if (window.parent === window) return;
    var body = Object.assign({ actionId: newActionId() }, payload || {});
    window.parent.postMessage({ type: type, payload: body }, "*");
  }

  function notifyDashboard(status, title, text) {
    dispatch("notification", { status: status, title: title, text: text || undefined });
  }

  function applyTheme() {
    document.documentElement.setAttribute("data-theme", state.theme === "dark" ? "dark" : "light");
  }

  function applyLocale() {
    document.documentElement.setAttribute("lang", lang() === "zh" ? "zh-CN" : "en");
    document.title = t("title");
  }

  window.addEventListener("message", function (event) {
    if (window.parent === window || event.source !== window.parent) return;
    if (referrerOrigin && event.origin !== referrerOrigin) return;
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.type !== "string") return;
    var payload = data.payload || {};
    switch (data.type) {
      case "handshake":
        if (typeof payload.token !== "string") return;
        var first = !state.token;
        state.token = payload.token;
        if (first) start();
        break;
      case "tokenRefresh":
        if (typeof payload.token === "string") state.token = payload.token;
        break;
      case "theme":
        state.theme = payload.theme === "dark" ? "dark" : "light";
        applyTheme();
        break;
      case "localeChanged":
        if (typeof payload.locale === "string") {
          var before = lang();
          state.locale = payload.locale;
          applyLocale();
          if (state.token && state.rendered && lang() !== before) render();
        }
        break;
      case "redirect":
      case "response":
      default:
        break;
    }
  });

  // -- the admin API ------------------------------------------------------------------------

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  function api(method, path, body) {
    var headers = {
      Authorization: "Bearer " + state.token,
      "Saleor-Api-Url": state.saleorApiUrl,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(APP_ROOT + "api/admin" + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var error = data && data.error ? data.error : {};
          var message = error.message || "HTTP " + response.status;
          if (!error.message && data && Array.isArray(data.detail)) {
            // FastAPI's own validation answer (a field of the wrong type).
            message = data.detail.map(function (d) {
              return (Array.isArray(d.loc) ? d.loc[d.loc.length - 1] + ": " : "") + d.msg;
            }).join("; ");
          }
          if (error.code === "TOKEN_EXPIRED") message = t("error.expired");
          throw new ApiError(response.status, error.code || "HTTP_" + response.status, message);
        }
        return data;
      });
    });
  }

  function query(values) {
    var search = new URLSearchParams();
    Object.keys(values).forEach(function (key) {
      var value = values[key];
      if (value !== null && value !== undefined && value !== "") search.set(key, value);
    });
    var text = search.toString();
    return text ? "?" + text : "";
  }

  // -- shell and routing ----------------------------------------------------------------------

  var NAV = ["overview", "configuration", "agreements", "payments", "refunds", "declarations", "reconciliation"];

  // The route is the page's path below PAGE_PATH: /dashboard/payments/<id> is ["payments", id].
  function route() {
    var path = window.location.pathname;
    var rest = path.indexOf(PAGE_PATH) === 0 ? path.slice(PAGE_PATH.length) : "";
    var parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
    if (!parts.length || NAV.indexOf(parts[0]) < 0) parts = ["overview"];
    return parts;
  }

  function hrefOf(path) {
    return PAGE_PATH + "/" + path + window.location.search;
  }

  // Every navigation: the frame's own history (Back moves between the app's pages) and the
  // dashboard's URL (App Bridge `updateRouting`, so a reload comes back here).
  function go(path) {
    if (window.location.pathname !== PAGE_PATH + "/" + path) {
      window.history.pushState({ route: path }, "", hrefOf(path));
    }
    dispatch("updateRouting", { newRoute: "/" + path });
    render();
  }

  function link(path, text, attrs) {
    return h("a", Object.assign({ href: hrefOf(path), text: text, onclick: function (event) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      go(path);
    } }, attrs || {}));
  }

  // A page of the dashboard itself (a customer, an order): App Bridge `redirect`.
  function dashboardLink(path, text) {
    return h("a", { href: "#", className: "mono", "data-dashboard": path, text: text, onclick: function (event) {
      event.preventDefault();
      dispatch("redirect", { to: path });
    } });
  }

  function customerLink(id) {
    return id ? dashboardLink("/customers/" + encodeURIComponent(id), id) : null;
  }

  // The dashboard's order page, where the transaction is shown (`text`: the id by default).
  function orderLink(id, text) {
    return id ? dashboardLink("/orders/" + encodeURIComponent(id), text || id) : null;
  }

  var root = null;
  var mainNode = null;

  function shell() {
    clear(root);
    var current = route()[0];
    // No header: the dashboard shows the app's logo, name and author above the frame.
    root.appendChild(h("nav", { className: "tabs" }, NAV.map(function (name) {
      return link(name, t("nav." + name), { className: name === current ? "active" : "", "data-nav": name });
    })));
    mainNode = h("main", { "data-page": current });
    root.appendChild(mainNode);
    return mainNode;
  }

  var renderSeq = 0;

  function render() {
    state.rendered = true;
    applyLocale();
    var main = shell();
    var parts = route();
    var seq = ++renderSeq;
    main.appendChild(h("div", { className: "waiting", text: t("loading") }));
    var page = PAGES[parts[0]];
    Promise.resolve()
      .then(function () { return page(parts.slice(1)); })
      .then(function (content) {
        if (seq !== renderSeq) return;
        clear(main);
        append(main, [content]);
        main.querySelectorAll("input[placeholder]").forEach(fitPlaceholder);
        main.setAttribute("data-ready", "true");
      })
      .catch(function (error) {
        if (seq !== renderSeq) return;
        clear(main);
        main.appendChild(notice("critical", error.message || String(error)));
        main.setAttribute("data-ready", "true");
      });
  }

  // A text field at least as wide as its placeholder, in whatever language: nothing cut off.
  var measure = null;
  function fitPlaceholder(input) {
    var style = getComputedStyle(input);
    measure = measure || document.createElement("canvas").getContext("2d");
    measure.font = style.fontWeight + " " + style.fontSize + " " + style.fontFamily;
    var room = measure.measureText(input.placeholder).width;
    ["paddingLeft", "paddingRight", "borderLeftWidth", "borderRightWidth"].forEach(function (side) {
      room += parseFloat(style[side]) || 0;
    });
    input.style.minWidth = Math.ceil(room + 2) + "px";
  }

  function start() {
    api("GET", "/me")
      .then(function (me) { state.me = me; })
      .catch(function () { state.me = null; })
      .then(render);
  }

  function pageHead(titleKey, leadKey) {
    return [h("h2", { text: t(titleKey) }), leadKey ? h("p", { className: "lead", text: t(leadKey) }) : null];
  }

  function pager(data, offset, limit, onPage) {
    var total = data.total || 0;
    return h("div", { className: "pager" },
      h("span", { text: total === 1 ? t("total.one") : t("total", { n: total }) }),
      h("button", { className: "small", disabled: offset <= 0, onclick: function () { onPage(Math.max(0, offset - limit)); }, text: t("action.previous") }),
      h("button", { className: "small", disabled: offset + limit >= total, onclick: function () { onPage(offset + limit); }, text: t("action.next") }));
  }

  function select(name, options, value, label) {
    return h("label", null, label,
      h("select", { name: name }, options.map(function (option) {
        var node = h("option", { value: option[0], text: option[1] });
        if (String(option[0]) === String(value || "")) node.selected = true;
        return node;
      })));
  }

  // A date as the language writes it ("6 Dec 2026" is shown as 06/12/2026 in English, as
  // 2026年12月6日 in Chinese), never the browser's mm/dd/yyyy: a text field whose example is
  // today in that format, read in the language's order (day, month, year or year, month, day)
  // into a hidden ISO date the filter form sends, and written back in the format once read.
  function formatDay(date) {
    var zh = lang() === "zh";
    return new Intl.DateTimeFormat(zh ? "zh-CN" : "en-GB", zh
      ? { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" }
      : { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC" }).format(date);
  }

  function readDay(text) {
    var parts = String(text).trim().split(/[^0-9]+/).filter(Boolean);
    if (parts.length !== 3) return null;
    var by = {};
    t("date.order").split("").forEach(function (key, i) { by[key] = parts[i]; });
    if (by.y.length !== 4) return null;
    var iso = by.y + "-" + ("0" + by.m).slice(-2) + "-" + ("0" + by.d).slice(-2);
    var date = new Date(iso + "T00:00:00Z");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(iso) || isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) return null;
    return date;
  }

  // A day the API names as YYYY-MM-DD, as the language writes it.
  function dayText(iso) {
    var date = new Date(String(iso) + "T00:00:00Z");
    return isNaN(date.getTime()) ? String(iso) : formatDay(date);
  }

  function dateField(name, label) {
    var example = formatDay(new Date());
    var hidden = h("input", { type: "hidden", name: name });
    var visible = h("input", { type: "text", className: "date", placeholder: example, "data-date": name, oninput: function () {
      var date = readDay(visible.value);
      hidden.value = date ? date.toISOString().slice(0, 10) : "";
      visible.setCustomValidity(visible.value.trim() && !date ? t("date.invalid", { example: example }) : "");
    }, onchange: function () {
      var date = readDay(visible.value);
      if (date) visible.value = formatDay(date);
    } });
    return h("label", null, label, visible, hidden);
  }

  function statusOptions(statuses) {
    return [["", t("filter.all")]].concat(statuses.map(function (s) { return [s, statusLabel(s)]; }));
  }

  var WALLETS = [
    ["ALIPAY_HK", "AlipayHK"], ["DANA", "DANA"], ["ALIPAY_CN", "Alipay"], ["GCASH", "GCash"],
    ["KAKAOPAY", "KakaoPay"], ["TNG", "Touch 'n Go"], ["TRUEMONEY", "TrueMoney"],
  ];

  function walletOptions() {
    return [["", t("filter.all")]].concat(WALLETS);
  }

  // A list page with a filter form that re-queries in place.
  function listPage(spec) {
    var container = h("div");
    var filters = spec.filters || {};
    var offset = 0;
    var limit = 50;
    var results = h("div", { "data-results": spec.name });

    function load() {
      var values = Object.assign({}, filters, { limit: limit, offset: offset });
      results.removeAttribute("data-loaded");
      clear(results);
      results.appendChild(h("div", { className: "waiting", text: t("loading") }));
      return api("GET", spec.path + query(values)).then(function (data) {
        clear(results);
        results.appendChild(spec.table(data.items || [], load));
        results.appendChild(pager(data, offset, limit, function (next) { offset = next; load(); }));
        results.setAttribute("data-loaded", "true");
      }).catch(function (error) {
        clear(results);
        if (error.code === "HTTP_404" && spec.optional) {
          results.appendChild(notice("", t("notAvailable"), t("notAvailableText")));
        } else {
          results.appendChild(notice("critical", error.message));
        }
        results.setAttribute("data-loaded", "true");
      });
    }

    var form = h("form", { className: "filters", "data-filters": spec.name, onsubmit: function (event) {
      event.preventDefault();
      var data = new FormData(form);
      filters = {};
      data.forEach(function (value, key) { filters[key] = value; });
      offset = 0;
      load();
    } }, spec.controls(), h("button", { type: "submit", className: "primary", text: t("filter.search") }));

    append(container, [pageHead(spec.title, spec.lead), spec.before || null, form, results]);
    return load().then(function () { return container; });
  }

  // -- overview ---------------------------------------------------------------------------------

  // The charts come from the app's server as SVG text (pygal, cleaned there to shapes and text).
  // It is parsed as XML, never as HTML, and only shapes, groups and text with geometric
  // attributes are kept again here: no script, no style, no link can come through.
  var SVG_ELEMENTS = ["svg", "g", "rect", "path", "line", "circle", "polyline", "polygon", "text", "tspan", "title"];
  var SVG_ATTRIBUTES = ["class", "x", "y", "x1", "x2", "y1", "y2", "dx", "dy", "width", "height", "rx", "ry", "d",
    "points", "cx", "cy", "r", "transform", "viewBox", "text-anchor", "role", "aria-label"];

  function safeSvg(text) {
    if (typeof text !== "string" || !text) return null;
    var doc = new DOMParser().parseFromString(text, "image/svg+xml");
    var source = doc.documentElement;
    if (!source || source.localName !== "svg" || doc.getElementsByTagName("parsererror").length) return null;
    var ns = "http://www.w3.org/2000/svg";
    function copy(node) {
      if (node.nodeType === 3) return document.createTextNode(node.nodeValue);
      if (node.nodeType !== 1 || node.namespaceURI !== ns || SVG_ELEMENTS.indexOf(node.localName) < 0) return null;
      var out = document.createElementNS(ns, node.localName);
      Array.prototype.forEach.call(node.attributes, function (attr) {
        if (!attr.namespaceURI && SVG_ATTRIBUTES.indexOf(attr.name) >= 0) out.setAttribute(attr.name, attr.value);
      });
      Array.prototype.forEach.call(node.childNodes, function (child) {
        var c = copy(child);
        if (c) out.appendChild(c);
      });
      return out;
    }
    return copy(source);
  }

  function chart(name, title, svgText) {
    var svg = safeSvg(svgText);
    return h("figure", { className: "chart", "data-chart": name },
      h("figcaption", { text: title }),
      svg || h("div", { className: "empty", text: t("overview.noChart") }));
  }

  function stat(label, value, tone, name) {
    return h("div", { className: "stat " + (tone || ""), "data-stat": name || null },
      h("div", { className: "stat-value", text: String(value) }),
      h("div", { className: "stat-label", text: label }));
  }

  function attentionGroup(name, title, group, columns) {
    if (!group || !group.total) return null;
    var more = group.total - (group.items || []).length;
    return h("section", { className: "attention-group", "data-attention": name },
      h("h4", null, title, " ", h("span", { className: "badge critical", text: String(group.total) })),
      table(columns, group.items || [], { name: "attention-" + name }),
      more > 0 ? h("p", { className: "subdued", text: t("overview.more", { n: more }) }) : null);
  }

  function attentionList(data) {
    var a = data.attention || {};
    var minutes = data.stuckAfterMinutes;
    var payLink = function (id) { return id ? link("payments/" + encodeURIComponent(id), id, { className: "mono" }) : null; };
    var groups = [
      attentionGroup("payments", t("overview.stuckPayments", { minutes: minutes }), a.payments, [
        { label: t("col.paymentRequestId"), render: function (p) { return payLink(p.paymentRequestId); } },
        { label: t("col.wallet"), render: function (p) { return p.wallet; } },
        { label: t("col.amount"), num: true, render: function (p) { return formatMoney(p.amount, p.currency); } },
        { label: t("col.status"), render: function (p) { return badge(p.status); } },
        { label: t("col.created"), render: function (p) { return formatTime(p.createdAt); } },
      ]),
      attentionGroup("refunds", t("overview.stuckRefunds", { minutes: minutes }), a.refunds, [
        { label: t("col.refundRequestId"), render: function (r) { return h("span", { className: "mono", text: r.refundRequestId }); } },
        { label: t("col.paymentRequestId"), render: function (r) { return payLink(r.paymentRequestId); } },
        { label: t("col.amount"), num: true, render: function (r) { return formatMoney(r.amount, r.currency); } },
        { label: t("col.status"), render: function (r) { return badge(r.status); } },
        { label: t("col.created"), render: function (r) { return formatTime(r.createdAt); } },
      ]),
      attentionGroup("reports", t("overview.reports"), a.reports, [
        { label: t("col.event"), render: function (r) { return r.eventType; } },
        { label: t("col.paymentRequestId"), render: function (r) { return payLink(r.paymentRequestId); } },
        { label: t("col.status"), render: function (r) { return badge(r.status); } },
        { label: t("col.attempts"), num: true, render: function (r) { return String(r.attempts); } },
        { label: t("col.detail"), render: function (r) { return r.lastError; } },
        { label: t("col.created"), render: function (r) { return formatTime(r.createdAt); } },
      ]),
      attentionGroup("reconciliation", t("overview.mismatches"), a.reconciliation, [
        { label: t("col.date"), render: function (d) { return link("reconciliation/" + encodeURIComponent(d.date), dayText(d.date)); } },
        { label: t("col.missingHere"), num: true, render: function (d) { return String(d.missingHere); } },
        { label: t("col.missingAtAntom"), num: true, render: function (d) { return String(d.missingAtAntom); } },
        { label: t("col.mismatched"), num: true, render: function (d) { return String(d.mismatched); } },
      ]),
    ].filter(Boolean);
    return h("section", { className: "card attention", "data-attention-list": "" },
      h("h3", { text: t("overview.attention") }),
      groups.length ? groups : h("p", { className: "subdued", "data-all-clear": "", text: t("overview.allClear") }));
  }

  function overviewPage() {
    return api("GET", "/overview" + query({ days: 30, lang: lang() })).then(function (data) {
      var charts = data.charts || {};
      var ag = data.agreements || {};
      var currencies = (data.payments || {}).currencies || [];
      return h("div", { "data-overview": "" },
        pageHead("nav.overview", null),
        h("p", { className: "lead", text: t("overview.lead", { days: data.days }) }),
        attentionList(data),
        h("div", { className: "grid2" },
          h("section", { className: "card" },
            h("h3", { text: t("overview.payments") }),
            chart("payments", (charts.payments || {}).title || "", (charts.payments || {}).svg),
            table([
              { label: t("col.currency"), render: function (c) { return c.currency; } },
              { label: t("col.count"), num: true, render: function (c) { return String(c.count); } },
              { label: t("col.succeeded"), num: true, render: function (c) { return String(c.succeeded); } },
              { label: t("col.failed"), num: true, render: function (c) { return String(c.failed); } },
              { label: t("col.amount"), num: true, render: function (c) { return formatMoney(c.amount, c.currency); } },
            ], currencies, { name: "currencies" })),
          h("section", { className: "card" },
            h("h3", { text: t("overview.amounts") }),
            (charts.amounts || []).length
              ? (charts.amounts || []).map(function (c) { return chart("amount-" + c.currency, c.title, c.svg); })
              : h("div", { className: "empty", text: t("overview.noChart") }))),
        h("div", { className: "grid2" },
          h("section", { className: "card" },
            h("h3", { text: t("overview.wallets") }),
            chart("wallets", (charts.wallets || {}).title || "", (charts.wallets || {}).svg),
            h("p", { className: "subdued small", text: t("overview.walletsNote") }),
            table([
              { label: t("col.wallet"), render: function (w) { return w.walletName; } },
              { label: t("col.count"), num: true, render: function (w) { return String(w.total); } },
              { label: t("col.succeeded"), num: true, render: function (w) { return String(w.succeeded); } },
              { label: t("col.failed"), num: true, render: function (w) { return String(w.failed); } },
              { label: t("col.successRate"), num: true, render: function (w) { return w.successRate === null ? "—" : w.successRate + " %"; } },
            ], data.wallets || [], { name: "wallets" })),
          h("section", { className: "card" },
            h("h3", { text: t("overview.failures") }),
            table([
              { label: t("col.code"), render: function (f) { return h("span", { className: "mono", text: f.code }); } },
              { label: t("col.count"), num: true, render: function (f) { return String(f.count); } },
              { label: t("col.shopperMessage"), render: function (f) { return f.shopperMessage; } },
            ], data.failures || [], { name: "failures" }))),
        h("div", { className: "grid2" },
          h("section", { className: "card", "data-agreement-stats": "" },
            h("h3", { text: t("overview.agreements") }),
            h("div", { className: "stats" },
              stat(statusLabel("ACTIVE"), ag.active || 0, "success", "active"),
              stat(t("overview.expiring", { days: ag.expiringWithinDays }), ag.expiring || 0, ag.expiring ? "warning" : "", "expiring"),
              stat(statusLabel("REVOKED"), ag.revoked || 0, "", "revoked"),
              stat(statusLabel("INVALID") + " / " + statusLabel("EXPIRED"), (ag.invalid || 0) + (ag.expired || 0), "", "ended"))),
          h("section", { className: "card" },
            h("h3", { text: t("overview.refunds") }),
            table([
              { label: t("col.currency"), render: function (r) { return r.currency; } },
              { label: t("col.refunds"), num: true, render: function (r) { return String(r.count); } },
              { label: statusLabel("SUCCEEDED"), num: true, render: function (r) { return String(r.succeeded); } },
              { label: statusLabel("PROCESSING"), num: true, render: function (r) { return String(r.processing); } },
              { label: statusLabel("FAILED"), num: true, render: function (r) { return String(r.failed); } },
              { label: t("col.amount"), num: true, render: function (r) { return formatMoney(r.amount, r.currency); } },
            ], data.refunds || [], { name: "refund-stats" }))));
    });
  }

  // -- configuration ----------------------------------------------------------------------------

  var REGIONS = ["asia", "north_america", "europe", "us", "custom"];
  var REGION_URLS = {
    asia: "https://open-sea-global.alipay.com",
    north_america: "https://open-na-global.alipay.com",
    europe: "https://open-de-global.alipay.com",
    us: "https://open.antglobal-us.com",
  };

  // "custom" when the gateway is not the region's own (a sandbox, a proxy).
  function regionOf(config) {
    if (!config) return "asia";
    return REGION_URLS[config.region] === config.baseUrl ? config.region : "custom";
  }

  function configPage() {
    return api("GET", "/channels").then(function (data) {
      var canConfigure = Boolean(state.me && state.me.canConfigure);
      var content = [pageHead("nav.configuration", "config.lead")];
      if (data.warning) content.push(notice("warning", t("config.warning"), data.warning));
      if (!canConfigure) content.push(notice("", t("config.readOnly")));
      // A compact list: one row per channel with its state; one opens at a time.
      var list = h("div", { className: "channel-list" });
      data.items.forEach(function (channel) {
        list.appendChild(channelCard(channel, data.wallets || [], canConfigure));
      });
      content.push(list);
      return h("div", null, content);
    });
  }

  function channelHead(channel, config, wallets, open) {
    var served = wallets.some(function (w) { return w.currency === channel.currency; });
    var head = h("div", { className: "card-head" },
      h("h3", { text: channel.name }),
      h("span", { className: "subdued", text: channel.slug + (channel.currency ? " · " + channel.currency : "") }),
      h("span", { className: "spacer" }),
      !channel.isActive ? h("span", { className: "badge", text: t("config.inactive") }) : null,
      !config && channel.currency && !served
        ? h("span", { className: "unsupported", "data-unsupported": channel.currency, text: t("config.unsupported", { currency: channel.currency }) })
        : h("span", { className: "badge " + (config ? "success" : ""), "data-configured": config ? "yes" : "no",
          text: config ? t("config.configured") : t("config.notConfigured") }),
      open);
    return head;
  }

  function channelCard(channel, wallets, canConfigure) {
    var card = h("section", { className: "card", "data-channel": channel.slug });
    var body = h("div", { className: "card-body", hidden: true });
    var served = !channel.currency || wallets.some(function (w) { return w.currency === channel.currency; });
    var toggle = null;

    function fill(config) {
      clear(body);
      if (config) {
        body.appendChild(facts([
          [t("config.clientId"), h("span", { className: "mono", text: config.clientId })],
          [t("config.region"), regionOf(config) === "custom" ? t("config.region.custom") : t("config.region." + config.region)],
          [t("config.baseUrl"), h("span", { className: "mono", text: config.baseUrl })],
          [t("config.sandbox"), config.sandbox ? t("yes") : t("no")],
          [t("config.wallets"), (config.wallets || []).join(", ")],
          [t("config.antomKey"), h("span", { className: "mono", text: String(config.antomPublicKey || "").replace(/^\*+/, "•••• ") })],
          [t("config.merchantPublicKey"), config.merchantPublicKey ? h("textarea", { readonly: true, rows: 3, className: "mono", "data-field": "merchantPublicKey", text: config.merchantPublicKey }) : null],
          [t("config.notificationUrls"), h("div", null, Object.keys(config.notificationUrls || {}).map(function (kind) {
            return h("div", { className: "mono", text: kind + ": " + config.notificationUrls[kind] });
          }))],
          [t("config.updatedAt"), formatTime(config.updatedAt)],
        ]));
      }
    }

    function draw(config) {
      channel.configuration = config;
      var label = config ? (canConfigure ? t("config.edit") : t("config.details")) : t("config.configure");
      var openable = config || (canConfigure && served);
      toggle = openable ? h("button", { type: "button", className: "small", "data-action": "open", "aria-expanded": String(!body.hidden),
        text: body.hidden ? label : t("config.close"), onclick: function () {
          var opening = body.hidden;
          document.querySelectorAll(".channel-list .card-body").forEach(function (other) {
            if (other !== body && !other.hidden) { other.hidden = true; other.dispatchEvent(new Event("closed")); }
          });
          body.hidden = !opening;
          draw(channel.configuration);
        } }) : null;
      var head = channelHead(channel, config, wallets, toggle);
      if (card.firstChild && card.firstChild !== body) card.replaceChild(head, card.firstChild);
      else card.insertBefore(head, card.firstChild);
    }

    body.addEventListener("closed", function () { draw(channel.configuration); });
    card.appendChild(body);
    fill(channel.configuration);
    var editor = canConfigure ? configEditor(channel, wallets, function (saved) {
      // Saved: the row and the facts follow; the form stays open where the admin is.
      fill(saved);
      body.appendChild(editor);
      draw(saved);
    }) : null;
    if (editor) body.appendChild(editor);
    draw(channel.configuration);
    return card;
  }

  function configEditor(channel, wallets, onSaved) {
    var config = channel.configuration;
    var details = h("div", { className: "editor" });
    var result = h("div", { "data-result": channel.slug });
    var region = regionOf(config);
    var regionSelect = h("select", { name: "region" }, REGIONS.map(function (r) {
      var option = h("option", { value: r, text: t("config.region." + r) });
      if (r === region) option.selected = true;
      return option;
    }));
    var baseUrl = h("label", { className: "field", hidden: region !== "custom" },
      h("span", { text: t("config.baseUrl") }),
      h("input", { type: "url", name: "baseUrl", value: config && region === "custom" ? config.baseUrl : "", placeholder: "https://…" }));
    regionSelect.addEventListener("change", function () { baseUrl.hidden = regionSelect.value !== "custom"; });
    var enabled = config ? config.wallets : wallets.filter(function (w) { return w.currency === channel.currency; }).map(function (w) { return w.id; });
    var keyPlaceholder = config ? t("config.keepKey") : t("config.pasteKey");
    var form = h("form", { "data-config-form": channel.slug, onsubmit: function (event) { event.preventDefault(); } },
      h("div", { className: "grid2" },
        h("div", null,
          h("label", { className: "field" }, h("span", { text: t("config.clientId") }),
            h("input", { type: "text", name: "clientId", value: config ? config.clientId : "", autocomplete: "off", spellcheck: "false" }),
            h("small", { text: t("config.clientIdHelp") })),
          h("label", { className: "field" }, h("span", { text: t("config.region") }), regionSelect),
          baseUrl,
          h("label", { className: "field" },
            h("span", { className: "checks" }, h("label", null, h("input", { type: "checkbox", name: "sandbox", checked: config ? config.sandbox : false }), t("config.sandbox")))),
          h("div", { className: "field" }, h("span", { className: "subdued", text: t("config.wallets") }),
            h("div", { className: "checks" }, wallets.map(function (w) {
              return h("label", null, h("input", { type: "checkbox", name: "wallets", value: w.id, checked: enabled.indexOf(w.id) >= 0 }), w.name + " (" + w.currency + ")");
            })))),
        h("div", null,
          h("label", { className: "field" }, h("span", { text: t("config.privateKey") }),
            h("textarea", { name: "merchantPrivateKey", placeholder: keyPlaceholder, autocomplete: "off", spellcheck: "false" }),
            h("small", { text: t("config.privateKeyHelp") })),
          h("label", { className: "field" }, h("span", { text: t("config.antomKey") }),
            h("textarea", { name: "antomPublicKey", placeholder: keyPlaceholder, spellcheck: "false" }),
            h("small", { text: t("config.antomKeyHelp") })),
          h("label", { className: "field" }, h("span", { text: t("config.uploadedKey") }),
            h("textarea", { name: "merchantPublicKey", spellcheck: "false", rows: 2 }),
            h("small", { text: t("config.uploadedKeyHelp") })))),
      h("div", { className: "actions" },
        h("button", { type: "button", "data-action": "test", text: t("config.test"), onclick: function (event) { submit("test", event.target); } }),
        h("button", { type: "button", className: "primary", "data-action": "save", text: t("config.save"), onclick: function (event) { submit("save", event.target); } })),
      result);

    function body() {
      var data = new FormData(form);
      var regionValue = String(data.get("region") || "asia");
      return {
        clientId: String(data.get("clientId") || ""),
        merchantPrivateKey: String(data.get("merchantPrivateKey") || "") || null,
        antomPublicKey: String(data.get("antomPublicKey") || "") || null,
        merchantPublicKey: String(data.get("merchantPublicKey") || "") || null,
        region: regionValue,
        baseUrl: regionValue === "custom" ? String(data.get("baseUrl") || "") || null : null,
        sandbox: data.get("sandbox") !== null,
        wallets: data.getAll("wallets").map(String),
      };
    }

    function submit(kind, button) {
      var label = button.textContent;
      button.disabled = true;
      button.textContent = kind === "test" ? t("config.testing") : t("config.saving");
      clear(result);
      var path = "/channels/" + encodeURIComponent(channel.slug) + (kind === "test" ? "/test-connection" : "/configuration");
      api(kind === "test" ? "POST" : "PUT", path, body()).then(function (answer) {
        if (kind === "test") {
          var title = t("test." + answer.problem);
          // The server's explanation is English; other languages get the code in their words.
          var detail = lang() === "en"
            ? answer.message + (answer.resultCode ? " [" + answer.resultCode + "]" : "") + (answer.detail ? " — " + answer.detail : "")
            : t(answer.ok ? "test.okDetail" : "test.detail", { code: answer.resultCode || answer.problem });
          var box = notice(answer.ok ? "success" : "critical", title, detail);
          box.setAttribute("data-problem", answer.problem);
          result.appendChild(box);
        } else {
          notifyDashboard("success", t("config.saved"), channel.name);
          form.querySelectorAll("textarea").forEach(function (area) { area.value = ""; area.placeholder = t("config.keepKey"); });
          onSaved(answer);
        }
      }).catch(function (error) {
        var box = notice("critical", error.message);
        box.setAttribute("data-error", error.code);
        result.appendChild(box);
      }).then(function () {
        button.disabled = false;
        button.textContent = label;
      });
    }

    details.appendChild(form);
    return details;
  }

  // -- agreements ---------------------------------------------------------------------------------

  function revokeControl(agreement, done) {
    var holder = h("span", { className: "actions" });
    function initial() {
      clear(holder);
      holder.appendChild(h("button", { className: "small danger", "data-action": "revoke", text: t("action.revoke"), onclick: ask }));
    }
    function ask() {
      clear(holder);
      append(holder, [
        h("span", { className: "subdued", text: t("revoke.confirm") }),
        h("button", { className: "small danger", "data-action": "confirm-revoke", text: t("action.confirmRevoke"), onclick: function (event) {
          event.target.disabled = true;
          api("POST", "/agreements/" + encodeURIComponent(agreement.id) + "/revoke", {}).then(function () {
            notifyDashboard("success", t("revoke.done"), agreement.customerEmail || agreement.id);
            done();
          }).catch(function (error) {
            clear(holder);
            holder.appendChild(notice("critical", error.message));
          });
        } }),
        h("button", { className: "small", text: t("action.cancel"), onclick: initial }),
      ]);
    }
    initial();
    return holder;
  }

  function agreementsPage() {
    return listPage({
      name: "agreements",
      title: "nav.agreements",
      lead: "agreements.lead",
      path: "/agreements",
      controls: function () {
        return [
          h("label", null, t("filter.search"), h("input", { type: "search", name: "q", placeholder: t("agreements.search") })),
          select("wallet", walletOptions(), "", t("filter.wallet")),
          select("status", statusOptions(["ACTIVE", "REVOKED", "INVALID", "EXPIRED"]), "", t("filter.status")),
        ];
      },
      table: function (items, reload) {
        return table([
          { label: t("col.customer"), render: function (a) {
            return h("div", null, h("div", { text: a.customerEmail || (a.guest ? t("agreement.guest") : "—") }), h("div", { className: "subdued" }, customerLink(a.customerId)));
          } },
          { label: t("col.wallet"), render: function (a) { return h("div", null, h("div", { text: a.walletName }), h("div", { className: "subdued", text: a.userLoginId || "" })); } },
          { label: t("col.channel"), render: function (a) { return a.channel; } },
          { label: t("col.status"), render: function (a) { return badge(a.status); } },
          { label: t("col.created"), render: function (a) { return formatTime(a.createdAt); } },
          { label: t("col.actions"), render: function (a) {
            return h("span", { className: "actions" },
              link("agreements/" + encodeURIComponent(a.id), t("action.details")),
              a.status === "ACTIVE" ? revokeControl(a, reload) : null);
          } },
        ], items, { name: "agreements", rowAttrs: function (a) { return { "data-agreement": a.id }; } });
      },
    });
  }

  function historyTable(history) {
    var seen = {};
    history = history.filter(function (e) {
      var key = [e.subject, e.reference, e.status, e.detail || ""].join("|");
      if (seen[key]) return false;
      seen[key] = true;
      return true;
    });
    return table([
      { label: t("col.time"), render: function (e) { return formatTime(e.createdAt); } },
      { label: t("col.subject"), render: function (e) { return e.subject; } },
      { label: t("col.reference"), render: function (e) { return h("span", { className: "mono", text: e.reference }); } },
      { label: t("col.status"), render: function (e) { return badge(e.status); } },
      { label: t("col.detail"), render: function (e) { return e.detail; } },
    ], history, { name: "history", className: "timeline" });
  }

  function agreementPage(id) {
    return api("GET", "/agreements/" + encodeURIComponent(id)).then(function (a) {
      return h("div", null,
        link("agreements", t("action.back"), { className: "back" }),
        h("section", { className: "card", "data-agreement-detail": a.id },
          h("div", { className: "card-head" }, h("h3", { text: t("agreement.title") + " " + a.id }), badge(a.status), h("span", { className: "spacer" }),
            a.status === "ACTIVE" ? revokeControl(a, function () { render(); }) : null),
          facts([
            [t("agreement.email"), a.customerEmail],
            [t("agreement.customerId"), a.customerId ? customerLink(a.customerId) : (a.guest ? t("agreement.guest") : null)],
            [t("col.wallet"), a.walletName],
            [t("agreement.login"), a.userLoginId],
            [t("col.channel"), a.channel],
            [t("agreement.expires"), formatTime(a.expiresAt)],
            [t("col.created"), formatTime(a.createdAt)],
            a.endedAt ? [t("agreement.ended"), formatTime(a.endedAt)] : null,
            a.statusReason ? [t("agreement.reason"), a.statusReason] : null,
          ])),
        h("h3", { text: t("history") }), historyTable(a.history || []),
        h("h3", { text: t("agreement.payments") }), paymentsTable(a.payments || []));
    });
  }

  // -- payments and refunds -----------------------------------------------------------------------

  function paymentsTable(items) {
    return table([
      { label: t("col.created"), render: function (p) { return formatTime(p.createdAt); } },
      { label: t("col.paymentRequestId"), render: function (p) { return link("payments/" + encodeURIComponent(p.paymentRequestId), p.paymentRequestId, { className: "mono" }); } },
      { label: t("col.wallet"), render: function (p) { return p.walletName; } },
      { label: t("col.channel"), render: function (p) { return p.channel; } },
      { label: t("col.amount"), num: true, render: function (p) { return formatMoney(p.amount, p.currency); } },
      { label: t("col.refunded"), num: true, render: function (p) { return p.refundedAmount && Number(p.refundedAmount) ? formatMoney(p.refundedAmount, p.currency) : ""; } },
      { label: t("col.status"), render: function (p) { return badge(p.status); } },
      { label: t("col.result"), render: function (p) { return p.resultCode; } },
      { label: t("col.order"), render: function (p) { return orderLink(p.orderId, t("payment.openOrder")); } },
    ], items, { name: "payments", rowAttrs: function (p) { return { "data-payment": p.paymentRequestId }; } });
  }

  function paymentsPage() {
    return listPage({
      name: "payments",
      title: "nav.payments",
      lead: "payments.lead",
      path: "/payments",
      controls: function () {
        return [
          h("label", null, t("filter.search"), h("input", { type: "search", name: "q", placeholder: t("payments.search") })),
          select("status", statusOptions(["AWAITING_BINDING", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELLED"]), "", t("filter.status")),
          select("wallet", walletOptions(), "", t("filter.wallet")),
          dateField("from", t("filter.from")),
          dateField("to", t("filter.to")),
        ];
      },
      table: paymentsTable,
    });
  }

  function refundsTable(items) {
    return table([
      { label: t("col.created"), render: function (r) { return formatTime(r.createdAt); } },
      { label: t("col.refundRequestId"), render: function (r) { return h("span", { className: "mono", text: r.refundRequestId }); } },
      { label: t("col.paymentRequestId"), render: function (r) { return link("payments/" + encodeURIComponent(r.paymentRequestId), r.paymentRequestId, { className: "mono" }); } },
      { label: t("col.amount"), num: true, render: function (r) { return formatMoney(r.amount, r.currency); } },
      { label: t("col.status"), render: function (r) { return badge(r.status); } },
      { label: t("col.result"), render: function (r) { return r.resultCode; } },
    ], items, { name: "refunds", rowAttrs: function (r) { return { "data-refund": r.refundRequestId }; } });
  }

  function refundsPage() {
    return listPage({
      name: "refunds",
      title: "nav.refunds",
      lead: "refunds.lead",
      path: "/refunds",
      controls: function () {
        return [
          h("label", null, t("filter.search"), h("input", { type: "search", name: "q", placeholder: t("refunds.search") })),
          select("status", statusOptions(["PROCESSING", "SUCCEEDED", "FAILED"]), "", t("filter.status")),
        ];
      },
      table: refundsTable,
    });
  }

  function summarize(body) {
    var parts = [];
    ["notifyType", "authorizationNotifyType", "refundStatus"].forEach(function (key) { if (body[key]) parts.push(body[key]); });
    if (body.result && body.result.resultCode) parts.push(body.result.resultStatus + "/" + body.result.resultCode);
    var amount = body.paymentAmount || body.refundAmount;
    if (amount && amount.value) parts.push(amount.value + " " + amount.currency + " (minor units)");
    return parts.join(" · ");
  }

  function paymentPage(id) {
    return api("GET", "/payments/" + encodeURIComponent(id)).then(function (p) {
      var message = h("div", { "data-inquire-result": "" });
      var open = p.status === "AWAITING_BINDING" || p.status === "PROCESSING" ||
        (p.refunds || []).some(function (r) { return r.status === "PROCESSING"; });
      var inquire = !open ? null : h("button", { className: "primary", "data-action": "inquire", text: t("action.inquire"), onclick: function () {
        inquire.disabled = true;
        api("POST", "/payments/" + encodeURIComponent(p.paymentRequestId) + "/inquire").then(function (answer) {
          toast(answer.message);
          render();
        }).catch(function (error) {
          inquire.disabled = false;
          clear(message);
          message.appendChild(notice("critical", error.message));
        });
      } });
      var declarations = h("div", { "data-declarations": p.paymentRequestId });
      api("GET", "/declarations" + query({ paymentRequestId: p.paymentRequestId })).then(function (data) {
        if (!data.items || !data.items.length) return;
        append(declarations, [h("h3", { text: t("payment.declarations") }), declarationsTable(data.items)]);
      }).catch(function () { /* declarations are optional */ });
      return h("div", null,
        link("payments", t("action.back"), { className: "back" }),
        h("section", { className: "card", "data-payment-detail": p.paymentRequestId },
          h("div", { className: "card-head" },
            h("div", null, h("div", { className: "subdued", text: t("payment.title") }), h("div", { className: "amount-big", text: formatMoney(p.amount, p.currency) })),
            badge(p.status), h("span", { className: "spacer" }), inquire),
          message,
          facts([
            [t("col.paymentRequestId"), h("span", { className: "mono", text: p.paymentRequestId })],
            [t("payment.paymentId"), p.paymentId ? h("span", { className: "mono", text: p.paymentId }) : null],
            // The transaction is shown on its order's page: the id opens it once the order is known.
            [t("payment.transactionId"), p.orderId ? orderLink(p.orderId, p.transactionId) : h("span", { className: "mono", text: p.transactionId })],
            [t("payment.orderId"), p.orderId ? orderLink(p.orderId) : h("span", { className: "subdued", text: t("payment.noOrder") })],
            p.orderId || !p.checkoutId ? null : [t("payment.checkoutId"), h("span", { className: "mono", text: p.checkoutId })],
            [t("col.channel"), p.channel],
            [t("col.wallet"), p.walletName],
            [t("payment.customerId"), p.customerId ? customerLink(p.customerId) : null],
            [t("payment.agreement"), p.agreementId ? link("agreements/" + encodeURIComponent(p.agreementId), p.agreementId, { className: "mono" }) : null],
            [t("payment.attempt"), String(p.attempt)],
            [t("col.refunded"), formatMoney(p.refundedAmount, p.currency)],
            [t("payment.resultCode"), p.resultCode],
            [t("payment.resultMessage"), p.resultMessage],
            [t("col.created"), formatTime(p.createdAt)],
            [t("payment.paidAt"), formatTime(p.paidAt)],
            [t("payment.inquiries"), String(p.inquiries)],
            p.nextInquiryAt ? [t("payment.nextInquiry"), formatTime(p.nextInquiryAt)] : null,
          ])),
        h("h3", { text: t("payment.refunds") }), refundsTable(p.refunds || []),
        h("h3", { text: t("history") }), historyTable(p.history || []),
        h("h3", { text: t("payment.notifications") }),
        table([
          { label: t("col.time"), render: function (n) { return formatTime(n.receivedAt); } },
          { label: t("col.kind"), render: function (n) { return n.kind; } },
          { label: t("col.detail"), render: function (n) { return summarize(n.body || {}); } },
          { label: t("col.deliveries"), num: true, render: function (n) { return String(n.deliveries); } },
          { label: t("col.processed"), render: function (n) { return n.lastError ? h("span", { className: "badge critical", text: n.lastError }) : formatTime(n.processedAt); } },
        ], p.notifications || [], { name: "notifications" }),
        h("h3", { text: t("payment.reports") }),
        table([
          { label: t("col.time"), render: function (r) { return formatTime(r.createdAt); } },
          { label: t("col.event"), render: function (r) { return r.eventType; } },
          { label: t("col.pspReference"), render: function (r) { return h("span", { className: "mono", text: r.pspReference }); } },
          { label: t("col.amount"), num: true, render: function (r) { return formatMoney(r.amount, p.currency); } },
          { label: t("col.status"), render: function (r) { return badge(r.status); } },
          { label: t("col.attempts"), num: true, render: function (r) { return String(r.attempts); } },
          { label: t("col.sent"), render: function (r) { return r.lastError ? h("span", { className: "badge critical", text: r.lastError }) : formatTime(r.sentAt); } },
        ], p.reports || [], { name: "reports" }),
        declarations);
    });
  }

  // -- declarations (issue 6's API; "not available" when absent) --------------------------------

  function declarationsTable(items) {
    return table([
      { label: t("col.created"), render: function (d) { return formatTime(d.createdAt); } },
      { label: t("col.declarationRequestId"), render: function (d) { return link("declarations/" + encodeURIComponent(d.id), d.declarationRequestId, { className: "mono" }); } },
      { label: t("col.paymentRequestId"), render: function (d) { return link("payments/" + encodeURIComponent(d.paymentRequestId), d.paymentRequestId, { className: "mono" }); } },
      { label: t("col.customsCode"), render: function (d) { return d.customsCode; } },
      { label: t("col.amount"), num: true, render: function (d) { return formatMoney(d.amount, d.currency); } },
      { label: t("col.suborder"), render: function (d) { return d.splitOrder ? d.suborderId || t("yes") : ""; } },
      { label: t("col.status"), render: function (d) { return badge(d.status); } },
      { label: t("col.updated"), render: function (d) { return formatTime(d.updatedAt); } },
    ], items, { name: "declarations", rowAttrs: function (d) { return { "data-declaration": d.id }; } });
  }

  // A new declaration (every field), or a correction: only what Antom lets change, empty
  // fields left as they are (the buyer's number and name are shown masked, so never prefilled).
  function declarationFields(prefill, isNew) {
    prefill = prefill || {};
    function field(name, key, value, placeholder) {
      return h("label", { className: "field" }, h("span", { text: t(key) }),
        h("input", { type: "text", name: name, value: value || "", placeholder: placeholder || null }));
    }
    var keep = isNew ? null : t("field.unchanged");
    return h("div", { className: "grid2" },
      h("div", null,
        isNew ? field("paymentRequestId", "field.paymentRequestId", prefill.paymentRequestId) : null,
        field("customsCode", "field.customsCode", prefill.customsCode),
        field("merchantCustomsCode", "field.merchantCustomsCode", prefill.merchantCustomsCode),
        field("merchantCustomsName", "field.merchantCustomsName", prefill.merchantCustomsName),
        field("amount", "field.amount", prefill.amount)),
      h("div", null,
        isNew ? h("label", { className: "field" }, h("span", { className: "checks" }, h("label", null, h("input", { type: "checkbox", name: "splitOrder" }), t("field.splitOrder")))) : null,
        field("suborderId", "field.suborderId", prefill.suborderId),
        isNew ? field("certificateType", "field.certificateType", "ID_CARD") : null,
        field("certificateNo", "field.certificateNo", "", keep),
        field("holderName", "field.holderName", "", keep)));
  }

  function declarationBody(form, isNew) {
    var data = new FormData(form);
    function value(name) { var v = data.get(name); return v === null || String(v).trim() === "" ? null : String(v).trim(); }
    var body = {};
    ["customsCode", "merchantCustomsCode", "merchantCustomsName", "amount", "suborderId"].forEach(function (name) {
      if (isNew || value(name) !== null) body[name] = value(name);
    });
    var buyer = {};
    if (isNew) buyer.certificateType = value("certificateType");
    ["certificateNo", "holderName"].forEach(function (name) {
      if (isNew || value(name) !== null) buyer[name] = value(name);
    });
    if (Object.keys(buyer).length) body.buyer = buyer;
    if (isNew) body.splitOrder = data.get("splitOrder") !== null;
    return body;
  }

  function newDeclarationForm() {
    var result = h("div");
    var form = h("form", { "data-declaration-form": "", onsubmit: function (event) {
      event.preventDefault();
      var prid = new FormData(form).get("paymentRequestId") || "";
      clear(result);
      api("POST", "/payments/" + encodeURIComponent(String(prid)) + "/declarations", declarationBody(form, true)).then(function (item) {
        toast(t("declarations.created"));
        go("declarations/" + encodeURIComponent(item.id));
      }).catch(function (error) { result.appendChild(notice("critical", error.message)); });
    } }, declarationFields({}, true), h("div", { className: "actions" }, h("button", { type: "submit", className: "primary", text: t("action.declare") })), result);
    return h("details", { className: "editor card" }, h("summary", { text: t("declarations.new") }), form);
  }

  function declarationsPage() {
    return listPage({
      name: "declarations",
      title: "nav.declarations",
      lead: "declarations.lead",
      path: "/declarations",
      optional: true,
      before: null,
      controls: function () {
        return [
          h("label", null, t("filter.search"), h("input", { type: "search", name: "paymentRequestId", placeholder: t("field.paymentRequestId") })),
          select("status", statusOptions(["PENDING", "IN_PROCESS", "COMPLETED", "REJECTED", "FAILED"]), "", t("filter.status")),
        ];
      },
      table: function (items) { return h("div", null, declarationsTable(items), newDeclarationForm()); },
    });
  }

  function declarationPage(id) {
    return api("GET", "/declarations/" + encodeURIComponent(id)).then(function (d) {
      var result = h("div");
      var form = h("form", { onsubmit: function (event) {
        event.preventDefault();
        clear(result);
        api("POST", "/declarations/" + encodeURIComponent(d.id) + "/redeclare", declarationBody(form, false))
          .then(function () { render(); })
          .catch(function (error) { result.appendChild(notice("critical", error.message)); });
      } }, declarationFields(d, false), h("div", { className: "actions" }, h("button", { type: "submit", text: t("action.redeclare") })), result);
      var antom = d.antom || {};
      return h("div", null,
        link("declarations", t("action.back"), { className: "back" }),
        h("section", { className: "card", "data-declaration-detail": d.id },
          h("div", { className: "card-head" }, h("h3", { text: t("declaration.title") + " " + d.declarationRequestId }), badge(d.status), h("span", { className: "spacer" }),
            h("button", { className: "primary", "data-action": "inquire-declaration", text: t("action.inquire"), onclick: function (event) {
              event.target.disabled = true;
              api("POST", "/declarations/" + encodeURIComponent(d.id) + "/inquire").then(function () { render(); }).catch(function (error) {
                event.target.disabled = false;
                result.appendChild(notice("critical", error.message));
              });
            } })),
          facts([
            [t("col.paymentRequestId"), link("payments/" + encodeURIComponent(d.paymentRequestId), d.paymentRequestId, { className: "mono" })],
            [t("field.customsCode"), d.customsCode],
            [t("col.amount"), formatMoney(d.amount, d.currency)],
            [t("field.splitOrder"), d.splitOrder ? t("yes") : t("no")],
            [t("field.suborderId"), d.suborderId],
            [t("field.merchantCustomsCode"), d.merchantCustomsCode],
            [t("field.merchantCustomsName"), d.merchantCustomsName],
            d.buyer ? [t("field.buyer"), [d.buyer.holderName, d.buyer.certificateType, d.buyer.certificateNo].filter(Boolean).join(" · ")] : null,
            d.resultCode ? [t("payment.resultCode"), d.resultCode + (d.resultMessage ? " — " + d.resultMessage : "")] : null,
            [t("col.created"), formatTime(d.createdAt)],
            [t("col.updated"), formatTime(d.updatedAt)],
          ]),
          h("h3", { text: t("declaration.antom") }),
          facts(Object.keys(antom).map(function (key) { return [key, antom[key] === null ? null : String(antom[key])]; }))),
        h("h3", { text: t("history") }),
        table([
          { label: t("col.time"), render: function (e) { return formatTime(e.createdAt); } },
          { label: t("col.status"), render: function (e) { return badge(e.status); } },
          { label: t("col.detail"), render: function (e) { return e.detail; } },
        ], d.history || [], { name: "history", className: "timeline" }),
        h("details", { className: "editor card" }, h("summary", { text: t("action.redeclare") }), form));
    }).catch(function (error) {
      if (error.code === "HTTP_404") return notice("", t("notAvailable"), t("notAvailableText"));
      throw error;
    });
  }

  // -- reconciliation (issue 6's API) ----------------------------------------------------------------

  function counts(c) {
    c = c || {};
    return [c.matched, c.missingHere, c.missingAtAntom, c.mismatched];
  }

  function reconciliationPage() {
    var head = pageHead("nav.reconciliation", "reconciliation.lead");
    return api("GET", "/reconciliation/days").then(function (data) {
      return h("div", null, head, table([
        { label: t("col.date"), render: function (d) { return link("reconciliation/" + d.date, dayText(d.date)); } },
        { label: t("col.status"), render: function (d) { return badge(d.status); } },
        { label: t("col.matched"), num: true, render: function (d) { return String(counts(d.counts)[0] || 0); } },
        { label: t("col.missingHere"), num: true, render: function (d) { return String(counts(d.counts)[1] || 0); } },
        { label: t("col.missingAtAntom"), num: true, render: function (d) { return String(counts(d.counts)[2] || 0); } },
        { label: t("col.mismatched"), num: true, render: function (d) { return String(counts(d.counts)[3] || 0); } },
        { label: t("col.imported"), render: function (d) { return formatTime(d.importedAt); } },
      ], data.items || [], { name: "days", rowAttrs: function (d) { return { "data-day": d.date }; } }));
    }).catch(function (error) {
      if (error.code === "HTTP_404") return h("div", null, head, notice("", t("notAvailable"), t("notAvailableText")));
      throw error;
    });
  }

  function reconciliationDay(date) {
    var rowsHolder = h("div");
    var kind = "";
    function loadRows(d) {
      clear(rowsHolder);
      rowsHolder.appendChild(table([
        { label: t("col.kind"), render: function (r) { return badge(r.kind); } },
        { label: t("col.transactionId"), render: function (r) { return h("span", { className: "mono", text: r.transactionId }); } },
        { label: t("col.reference"), render: function (r) { return h("span", { className: "mono", text: r.transactionRequestId }); } },
        { label: t("col.type"), render: function (r) { return r.transactionType; } },
        { label: t("col.amount"), num: true, render: function (r) { return formatMoney(r.amount, r.currency); } },
        { label: t("col.ours"), num: true, render: function (r) { return r.ourAmount ? formatMoney(r.ourAmount, r.currency) + (r.ourStatus ? " · " + statusLabel(r.ourStatus) : "") : ""; } },
        { label: t("col.detail"), render: function (r) { return r.detail; } },
      ], d.rows || [], { name: "rows" }));
    }
    return api("GET", "/reconciliation/days/" + encodeURIComponent(date) + query({ limit: 200 })).then(function (d) {
      var kinds = [];
      (d.rows || []).forEach(function (r) { if (kinds.indexOf(r.kind) < 0) kinds.push(r.kind); });
      var kindSelect = h("select", { name: "kind" }, [h("option", { value: "", text: t("filter.all") })].concat(kinds.map(function (k) { return h("option", { value: k, text: statusLabel(k) }); })));
      kindSelect.addEventListener("change", function () {
        kind = kindSelect.value;
        api("GET", "/reconciliation/days/" + encodeURIComponent(date) + query({ kind: kind, limit: 200 })).then(loadRows);
      });
      loadRows(d);
      var c = counts(d.counts);
      return h("div", null,
        link("reconciliation", t("action.back"), { className: "back" }),
        h("section", { className: "card", "data-reconciliation-day": d.date },
          h("div", { className: "card-head" }, h("h3", { text: t("reconciliation.day") + " " + dayText(d.date) }), badge(d.status)),
          facts([[t("col.matched"), String(c[0] || 0)], [t("col.missingHere"), String(c[1] || 0)], [t("col.missingAtAntom"), String(c[2] || 0)], [t("col.mismatched"), String(c[3] || 0)]])),
        (d.currencies || []).length === 0 ? null : table([
          { label: t("col.currency"), render: function (x) { return x.currency; } },
          { label: t("col.gross"), num: true, render: function (x) { return x.gross; } },
          { label: t("col.fees"), num: true, render: function (x) { return x.fees; } },
          { label: t("col.net"), num: true, render: function (x) { return x.net; } },
          { label: t("col.summaryChecked"), render: function (x) { return x.summaryChecked ? "✓" : "✗"; } },
        ], d.currencies || [], { name: "currencies" }),
        h("form", { className: "filters" }, h("label", null, t("filter.kind"), kindSelect)),
        rowsHolder);
    }).catch(function (error) {
      if (error.code === "HTTP_404") return notice("", t("notAvailable"), t("notAvailableText"));
      throw error;
    });
  }

  var PAGES = {
    overview: overviewPage,
    configuration: configPage,
    agreements: function (rest) { return rest.length ? agreementPage(rest[0]) : agreementsPage(); },
    payments: function (rest) { return rest.length ? paymentPage(rest[0]) : paymentsPage(); },
    refunds: refundsPage,
    declarations: function (rest) { return rest.length ? declarationPage(rest[0]) : declarationsPage(); },
    reconciliation: function (rest) { return rest.length ? reconciliationDay(rest[0]) : reconciliationPage(); },
  };

  // -- start ----------------------------------------------------------------------------------

  function boot() {
    root = document.getElementById("app");
    applyTheme();
    applyLocale();
    window.addEventListener("popstate", function () {
      if (!state.token) return;
      dispatch("updateRouting", { newRoute: "/" + route().map(encodeURIComponent).join("/") });
      render();
    });
    if (window.parent === window) {
      root.appendChild(h("div", { className: "waiting", text: t("notEmbedded") }));
      return;
    }
    root.appendChild(h("div", { className: "waiting", "data-waiting": "", text: t("waiting") }));
    dispatch("notifyReady", {});
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
