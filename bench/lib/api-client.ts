// The few API calls the bench makes to seed its data, through the public HTTP API (never the database).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export async function call<T>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; expect?: number[] } = {},
): Promise<{ status: number; body: T; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  const expect = options.expect ?? [200, 201, 202, 204];
  if (!expect.includes(res.status)) throw new ApiError(res.status, text, `${method} ${path}`);
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text, headers: res.headers };
}

let numberSeq = Math.floor(Math.random() * 700) * 10_000;

/** A fresh valid US number per call (E.164, accepted without DEFAULT_PHONE_REGION). */
export function nextMobileNumber(): string {
  numberSeq++;
  const exchange = 200 + Math.floor(numberSeq / 10_000) % 800;
  const line = numberSeq % 10_000;
  return `+1415${exchange}${String(line).padStart(4, '0')}`;
}

export interface BenchUser {
  mobileNumber: string;
  token: string;
  userId: string;
}

/** Signs a new user up and verifies the OTP (returned in the response: OTP_DELIVERY=response). */
export async function signUp(base: string, name: string): Promise<BenchUser> {
  const mobileNumber = nextMobileNumber();
  const signup = await call<{ otpChallenge: { otp?: string }; user?: { id: string } }>(base, 'POST', '/auth/signup', {
    body: { mobileNumber, name },
  });
  const otp = signup.body.otpChallenge.otp;
  if (!otp) throw new Error('signup returned no OTP: is OTP_DELIVERY=response?');
  const tokens = await call<{ accessToken: string }>(base, 'POST', '/auth/verify-otp', { body: { mobileNumber, otp } });
  const me = await call<{ id: string }>(base, 'GET', '/user/me', { token: tokens.body.accessToken });
  return { mobileNumber, token: tokens.body.accessToken, userId: me.body.id };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once; results in order. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** Creates `count` chatrooms with user titles (so no automatic-title jobs join the measured queue). */
export async function createChatrooms(base: string, user: BenchUser, count: number, label: string, concurrency = 16): Promise<string[]> {
  return pool(count, concurrency, async (i) => {
    const res = await call<{ id: string }>(base, 'POST', '/chatroom', {
      token: user.token,
      body: { title: `${label} ${i + 1}`, systemPrompt: 'Be brief.' },
    });
    return res.body.id;
  });
}

export interface SendResult {
  reply: { id: string; status: string; content: string };
  links: { stream: string };
}

/** Sends a prompt and holds the request until the reply is final (Prefer: wait). */
export async function sendAndWait(base: string, user: BenchUser, chatroomId: string, content: string): Promise<SendResult> {
  const res = await call<SendResult>(base, 'POST', `/chatroom/${chatroomId}/message`, {
    token: user.token,
    body: { content },
    headers: { prefer: 'wait=30' },
  });
  return res.body;
}
