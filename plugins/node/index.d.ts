// Types of the npm package `cashback` (index.js; docs/node.md). Checked by
// `tsc --strict` in tests/scripts/node.sh (test/types.ts).

export interface ClientOptions {
  /** A config file (key = value lines). */
  config?: string;
  /** A connection string "cashback:merchant_id=...;...". */
  connection?: string;
  /** The name of an environment variable holding a connection string. */
  connectionEnv?: string;
  /** CASHBACK_CONFIG, CASHBACK_CONNECTION, CASHBACK_<KEY> (the default). */
  env?: boolean;
  /** Start the background sender thread. */
  sender?: boolean;
  /** The final flush when the process or worker ends, ms (default 2000). */
  exitFlushMs?: number;
}

export interface ExpressCookieOptions {
  maxAge: number;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: string;
  domain?: string;
}

export interface ClickCookie {
  name: string;
  value: string;
  /** Seconds. */
  maxAge: number;
  path: string;
  /** "" for none. */
  domain: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: string;
  /** The same for Express's res.cookie() (maxAge in milliseconds). */
  readonly expressOptions: ExpressCookieOptions;
}

export interface Click {
  token: string;
  source: string;
  /** Unix seconds. */
  capturedAt: number;
  /** Store this with the order. */
  handle: string;
}

/** An exact decimal string, or an integer (never a number with a fraction). */
export type Amount = string | number | bigint;

export interface Item {
  sku: string;
  quantity: number | string | bigint;
  unitPrice: Amount;
  name?: string | null;
  category?: string | null;
}

export interface Order {
  orderId?: string | number | bigint | null;
  currency?: string | null;
  amount?: Amount | null;
  amountMinor?: Amount | null;
  click?: string | Click | null;
  clickToken?: string | null;
  voucher?: string | null;
  vouchers?: string[] | null;
  items?: Array<Item | string> | null;
  customer?: 'new' | 'returning' | 'unknown' | string | null;
  orderTime?: Date | string | number | null;
  utcOffset?: number | string | null;
  refundId?: string | null;
  reason?: string | null;
  test?: boolean | string | null;
  meta?: Record<string, string | number | bigint> | null;
}

export class Client {
  constructor(opts?: ClientOptions);
  readonly merchantId: string;
  readonly cookieName: string;
  capture(target: string): ClickCookie | null;
  click(value: string | null | undefined): Click | null;
  clickFromHeader(cookieHeader: string | null | undefined): Click | null;
  /** A report header's value (docs/events.md text); resolves to the id. */
  reportText(text: string, click?: string | Click | null): Promise<string>;
  /** Resolves to the event id (32 hex digits) once stored. */
  sale(order: Order): Promise<string>;
  refund(order: Order): Promise<string>;
  cancel(order: Order): Promise<string>;
  confirm(order: Order): Promise<string>;
  flush(timeoutMs?: number): Promise<void>;
  startSender(): void;
  close(timeoutMs?: number): Promise<void>;
}

export class CashbackError extends Error {
  /** The SDK's status number (docs/errors.md). */
  readonly status: number;
  /** Its name, e.g. "CASHBACK_E_AMOUNT". */
  readonly code: string;
  readonly detail: string;
}
export class ConfigError extends CashbackError {}
export class ClickError extends CashbackError {}
export class EventError extends CashbackError {
  /** The JavaScript key at fault, e.g. "amount", "items[1]". */
  readonly key: string;
  /** The event field of docs/events.md. */
  readonly field: string;
}
export class NotStoredError extends CashbackError {}
export class SendError extends CashbackError {}

export interface RequestCashback {
  /** This request's verified click, or null. */
  click: Click | null;
  /** A sale that names no click gets this request's. */
  sale(order: Order): Promise<string>;
  refund(order: Order): Promise<string>;
  cancel(order: Order): Promise<string>;
  confirm(order: Order): Promise<string>;
}

export interface MiddlewareOptions {
  onError?: (err: Error, req: unknown) => void;
}

/** Connect-style middleware (Express): capture, then req.cashback. */
export function express(client: Client, opts?: MiddlewareOptions): (
  req: { url?: string; originalUrl?: string; headers: { cookie?: string };
         cashback?: RequestCashback },
  res: { getHeader(name: string): unknown; setHeader(name: string, value: string | string[]): unknown },
  next: (err?: unknown) => void) => void;

export interface KoaOptions extends MiddlewareOptions {
  /** 'pass' (default): the page goes out; 'fail': 503 when not stored. */
  failure?: 'pass' | 'fail';
}

/** Koa middleware: capture, ctx.state.cashback, X-Cashback-Event reported. */
export function koa(client: Client, opts?: KoaOptions): (ctx: any, next: () => Promise<unknown>) => Promise<void>;

export const STATUS: Readonly<Record<string, number>>;
export const version: string;
