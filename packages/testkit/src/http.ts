// A small HTTP client over real sockets (fetch), for apps that listen on loopback ports: it records the status,
// the time taken and the body, and never waits for ever (a hang is a finding, reported as status 0).
import { randomMobileNumber, signedIn, type SignedIn } from './app.js';

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
  /** Set when the request failed at the transport level (refused, reset, timed out). */
  error?: string;
  json(): unknown;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as JSON unless it is a string (then as is). */
  body?: unknown;
  timeoutMs?: number;
}

export async function http(base: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, ms: performance.now() - started, json: () => JSON.parse(text) };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { status: 0, headers: new Headers(), text: '', ms: performance.now() - started, error: message, json: () => undefined };
  }
}

/** Signs up and verifies the signup OTP over HTTP, as a client would. */
export async function signInOver(base: string): Promise<SignedIn> {
  const mobileNumber = randomMobileNumber();
  const signup = await http(base, 'POST', '/auth/signup', { body: { mobileNumber } });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${signup.text} ${signup.error ?? ''}`);
  const otp = (signup.json() as { otpChallenge: { otp: string } }).otpChallenge.otp;
  const verified = await http(base, 'POST', '/auth/verify-otp', { body: { mobileNumber, otp } });
  if (verified.status !== 200) throw new Error(`verify failed: ${verified.status} ${verified.text}`);
  return signedIn(mobileNumber, verified.json() as Parameters<typeof signedIn>[1]);
}
