import { createHash, randomBytes } from 'node:crypto';
import { AppError, conflict, notFound, type Config, type OtpPurpose, type Repositories, type Store, type UserRow } from '@gemini-chat/shared';
import type { OtpChallenge, SignupBody, Tokens } from '../schemas/auth.schemas.js';
import type { User } from '../schemas/user.schemas.js';
import type { OtpService } from './otp.service.js';
import type { SessionChanges } from '../lib/session-cache.js';
import { burnPasswordCheck, hashPassword, verifyPassword } from '../lib/password.js';
import { normalizeMobileNumber } from '../lib/phone.js';
import { toUser } from './mappers.js';

/** What the access token carries: who, and which session (so revoking the session kills the token at once). */
export interface AccessClaims {
  sub: string;
  sid: string;
}

export interface ClientContext {
  userAgent: string | null;
  ip: string | null;
}

const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');
const invalidRefresh = () => new AppError(401, 'REFRESH_TOKEN_INVALID', 'The refresh token is invalid, expired or revoked; sign in again.');

// Signup stores a name, email and password before anyone has proven the number, so they may be a stranger's.
// Only the signup code sent together with them vouches for them; any other first proof of the number (a login or
// password-reset code) drops them, or a stranger could sign a number up and keep a password on its owner's account.
const UNPROVEN_SIGNUP_DETAILS = { name: null, email: null, password_hash: null };

export function createAuthService(deps: {
  store: Store;
  otp: OtpService;
  config: Config;
  /** Told after every committed revocation, so no API process keeps trusting a revoked session. */
  sessions: SessionChanges;
  signAccessToken: (claims: AccessClaims) => string;
}) {
  const { store, otp, config, sessions, signAccessToken } = deps;
  const normalize = (input: string) => normalizeMobileNumber(input, config.otp.defaultRegion);
  const refreshTtlMs = config.auth.refreshTokenTtlDays * 86_400_000;

  async function requireUser(mobileNumber: string): Promise<UserRow> {
    const user = await store.users.findByMobileNumber(mobileNumber);
    if (!user) throw notFound('user');
    return user;
  }

  /** Records that an OTP of `purpose` just proved the number, and returns the user as that leaves them. */
  async function proveNumber(tx: Repositories, userId: string, purpose: OtpPurpose): Promise<UserRow> {
    const firstProof = await tx.users.markMobileVerified(userId, purpose === 'signup' ? {} : UNPROVEN_SIGNUP_DETAILS);
    const user = firstProof ?? (await tx.users.findById(userId));
    if (!user) throw notFound('user');
    return user;
  }

  /** Starts a session (one sign-in) and returns its first token pair. */
  async function startSession(tx: Repositories, user: UserRow, client: ClientContext): Promise<Tokens> {
    const expiresAt = new Date(Date.now() + refreshTtlMs);
    const session = await tx.sessions.create({ userId: user.id, expiresAt, userAgent: client.userAgent, ip: client.ip });
    return issueTokens(tx, user, session.id, expiresAt);
  }

  async function issueTokens(tx: Repositories, user: UserRow | User, sessionId: string, expiresAt: Date): Promise<Tokens> {
    const refreshToken = randomBytes(32).toString('base64url');
    await tx.sessions.insertRefreshToken(sessionId, hashRefreshToken(refreshToken), expiresAt);
    return {
      accessToken: signAccessToken({ sub: user.id, sid: sessionId }),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: config.auth.accessTokenTtlSeconds,
      user: 'mobile_number' in user ? toUser(user) : user,
    };
  }

  return {
    async signup(body: SignupBody): Promise<{ user: User; otpChallenge: OtpChallenge }> {
      const mobileNumber = normalize(body.mobileNumber);
      const passwordHash = body.password ? await hashPassword(body.password) : null;
      // The account and its signup code commit together or not at all: the details are kept only if this very
      // code proves the number, so neither may exist without the other.
      // A registered number is refused even while unverified. Replacing its details would let a stranger swap in
      // theirs, with a fresh signup code, while the owner waits for one. The owner is not locked out: a login OTP
      // signs them in and drops whatever was given here.
      const { otpChallenge, written: user } = await otp.issueAlongside(mobileNumber, 'signup', async (tx) => {
        const inserted = await tx.users.insert({
          mobile_number: mobileNumber,
          name: body.name ?? null,
          email: body.email?.toLowerCase() ?? null,
          password_hash: passwordHash,
        });
        if (!inserted) throw conflict('MOBILE_NUMBER_TAKEN', 'This mobile number is already registered; sign in instead.');
        return inserted;
      });
      return { user: toUser(user), otpChallenge };
    },

    /** A login code, or a code that confirms deleting the account (only of a verified account: DELETE /user/me). */
    async sendOtp(input: string, purpose: 'login' | 'delete_account' = 'login'): Promise<OtpChallenge> {
      const user = await requireUser(normalize(input));
      if (purpose === 'delete_account' && !user.mobile_verified_at) throw notFound('user');
      return otp.issue(user.mobile_number, purpose);
    },

    async sendPasswordResetOtp(input: string): Promise<OtpChallenge> {
      const user = await requireUser(normalize(input));
      return otp.issue(user.mobile_number, 'password_reset');
    },

    async verifyOtp(input: string, code: string, client: ClientContext): Promise<Tokens> {
      const user = await requireUser(normalize(input));
      // A signup code and a login code both prove the number; a password-reset code does not sign in.
      return otp.verify(user.mobile_number, ['login', 'signup'], code, async (tx, purpose) =>
        startSession(tx, await proveNumber(tx, user.id, purpose), client),
      );
    },

    async login(input: string, password: string, client: ClientContext): Promise<Tokens> {
      const mobileNumber = normalize(input);
      const user = await store.users.findByMobileNumber(mobileNumber);
      const invalid = new AppError(401, 'INVALID_CREDENTIALS', 'Mobile number or password is incorrect.');
      // A password on an unverified number was set by whoever signed it up, not necessarily its owner, so it
      // signs nobody in. It fails like a wrong password, after the same hashing work, so the answer does not
      // tell a guesser whether the password was right or whether the number is verified.
      if (!user?.password_hash || !user.mobile_verified_at) {
        await burnPasswordCheck(password);
        throw invalid;
      }
      if (!(await verifyPassword(user.password_hash, password))) throw invalid;
      return store.transaction((tx) => startSession(tx, user, client));
    },

    /** Rotates a refresh token. Presenting one that was already used revokes its whole session (token theft). */
    async refresh(refreshToken: string): Promise<Tokens> {
      const outcome = await store.transaction(async (tx) => {
        const found = await tx.sessions.findRefreshToken(hashRefreshToken(refreshToken));
        const now = Date.now();
        if (!found || found.sessionRevokedAt || found.sessionExpiresAt.getTime() <= now || found.expiresAt.getTime() <= now) {
          return { error: invalidRefresh() };
        }
        if (found.usedAt || !(await tx.sessions.markRefreshTokenUsed(found.id))) {
          await tx.sessions.revoke(found.sessionId, 'refresh_token_reuse');
          return {
            revoked: { userId: found.userId, sessionId: found.sessionId },
            error: new AppError(401, 'REFRESH_TOKEN_REUSED', 'This refresh token was already used; the session has been revoked. Sign in again.'),
          };
        }
        const user = await tx.users.findById(found.userId);
        if (!user) return { error: invalidRefresh() };
        const expiresAt = new Date(now + refreshTtlMs);
        await tx.sessions.touch(found.sessionId, expiresAt);
        return { tokens: await issueTokens(tx, user, found.sessionId, expiresAt) };
      });
      // Thrown after commit: the revocation on reuse must stick even though the request fails.
      if ('revoked' in outcome && outcome.revoked) await sessions.sessionRevoked(outcome.revoked.userId, outcome.revoked.sessionId);
      if ('error' in outcome) throw outcome.error;
      return outcome.tokens;
    },

    async logout(refreshToken: string): Promise<void> {
      const found = await store.sessions.findRefreshToken(hashRefreshToken(refreshToken));
      if (!found) return;
      await store.sessions.revoke(found.sessionId, 'logout');
      await sessions.sessionRevoked(found.userId, found.sessionId);
    },

    async resetPassword(input: string, code: string, newPassword: string): Promise<void> {
      const user = await requireUser(normalize(input));
      // Hashed only once the code matched (a wrong guess costs no hashing), and still inside the verification's
      // transaction, so the new password, the proof of the number and the revocations commit with the code's
      // consumption or not at all.
      await otp.verify(user.mobile_number, ['password_reset'], code, async (tx, purpose) => {
        const passwordHash = await hashPassword(newPassword);
        await proveNumber(tx, user.id, purpose);
        await tx.users.update(user.id, { password_hash: passwordHash });
        await tx.sessions.revokeAllForUser(user.id, 'password_reset');
      });
      await sessions.userChanged(user.id);
    },

    /** Sets a new password, revokes every session (this one included) and starts a fresh one. */
    async changePassword(
      userId: string,
      input: { currentPassword?: string; newPassword: string },
      client: ClientContext,
    ): Promise<Tokens> {
      const user = await store.users.findById(userId);
      if (!user) throw notFound('user');
      if (user.password_hash) {
        if (!input.currentPassword) {
          throw new AppError(400, 'CURRENT_PASSWORD_REQUIRED', 'currentPassword is required to change an existing password.', {
            errors: [{ in: 'body', field: 'currentPassword', message: 'is required' }],
          });
        }
        if (!(await verifyPassword(user.password_hash, input.currentPassword))) {
          throw new AppError(400, 'CURRENT_PASSWORD_INCORRECT', 'currentPassword is incorrect.', {
            errors: [{ in: 'body', field: 'currentPassword', message: 'is incorrect' }],
          });
        }
      }
      const passwordHash = await hashPassword(input.newPassword);
      const tokens = await store.transaction(async (tx) => {
        const updated = await tx.users.update(user.id, { password_hash: passwordHash });
        await tx.sessions.revokeAllForUser(user.id, 'password_change');
        return startSession(tx, updated ?? user, client);
      });
      await sessions.userChanged(user.id);
      return tokens;
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
