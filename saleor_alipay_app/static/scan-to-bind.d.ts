// Types of /storefront/scan-to-bind.js (Alipay+ Scan to Bind storefront widget).

export declare const GATEWAY_ID: "saleor.alipay.scan-to-bind";

export type Locale = "en" | "zh-CN";

export interface WidgetOptions {
  /** Saleor's GraphQL endpoint, e.g. "https://shop.example.com/graphql/". */
  saleorApiUrl: string;
  /** The customer's access token (one click, the account page). Guests omit it. */
  token?: string;
  /** "en" or "zh-CN"; by default the browser's language. */
  locale?: Locale | string;
  /** The app's gateway id, if the app was installed under another identifier. */
  gatewayId?: string;
  /** Show the wallet's app link on desktops too (it is always shown on phones). */
  showAppLink?: boolean;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface CheckoutOptions extends WidgetOptions {
  checkoutId: string;
  /** Call checkoutComplete once paid (default true). */
  completeCheckout?: boolean;
  onPaid?(result: { transactionId: string }): void;
  onComplete?(order: { id: string }): void;
  onFailed?(failure: { code: string; message: string }): void;
}

export interface AccountOptions extends WidgetOptions {
  token: string;
  channel: string;
}

export interface WidgetHandle {
  /** Settles once the first view is shown. */
  ready: Promise<void>;
  destroy(): void;
}

/** One message of the app's status stream (`event: status`). */
export type StreamState =
  | { state: "waiting"; qrCodeValue: string; qrCodeSvg: string; expiresAt: string }
  | { state: "waiting"; scanned: true }
  | { state: "expired" }
  | { state: "paid" }
  | { state: "saved" }
  | { state: "failed"; code: string };

export declare class ScanToBindError extends Error {
  code: string;
}

export declare function mountCheckout(root: HTMLElement, options: CheckoutOptions): WidgetHandle;
export declare function mountAccount(root: HTMLElement, options: AccountOptions): WidgetHandle;
/** Follow `data.statusUrl`; returns a function that closes the stream. */
export declare function followStatus(
  statusUrl: string,
  onState: (state: StreamState) => void,
): () => void;
export declare function saleorRequest(
  options: WidgetOptions,
  query: string,
  variables?: Record<string, unknown>,
): Promise<any>;
