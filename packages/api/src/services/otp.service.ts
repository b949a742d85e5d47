import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { AppError, tooManyRequests, type Config, type OtpPurpose, type Repositories, type Store } from '@gemini-chat/shared';
import type { OtpDelivery } from '../lib/otp-delivery.js';

export interface OtpChallenge {
  expiresAt: string;
  resendAfter: string;
  /** Present only when delivery mode is `response` (the offline/dev default). */
  otp?: string;
}

type VerifyOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; error: AppError };

const HOUR_MS = 3_600_000;

/**
 * One live code per number and purpose, stored as an HMAC keyed with a server secret (a leaked table cannot be
 * brute-forced offline over the 10^6 codes). Every operation on a number runs under a per-number advisory lock,
 * so concurrent sends or guesses cannot race past the cooldown, the hourly cap or the attempt limit.
 */
export function createOtpService(store: Store, config: Config['otp'], delivery: OtpDelivery) {
  const hashCode = (mobileNumber: string, purpose: OtpPurpose, code: string) =>
    createHmac('sha256', config.secret).update(`${purpose}:${mobileNumber}:${code}`).digest('hex');

  /**
   * Issues a code for `purpose`. `alongside` runs first in the same transaction, under the number's lock: what it
   * writes commits only if the code is issued, and no code is issued if it throws.
   */
  async function issueAlongside<T>(
    mobileNumber: string,
    purpose: OtpPurpose,
    alongside: (tx: Repositories) => Promise<T>,
  ): Promise<{ otpChallenge: OtpChallenge; written: T }> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + config.ttlSeconds * 1000);
    const resendAfter = new Date(now.getTime() + config.resendCooldownSeconds * 1000);

    const written = await store.transaction(async (tx) => {
      await tx.otps.lockNumber(mobileNumber);
      const result = await alongside(tx);
      const current = await tx.otps.findChallenge(mobileNumber, purpose);
      if (current) {
        const cooldownEnds = current.created_at.getTime() + config.resendCooldownSeconds * 1000;
        if (cooldownEnds > now.getTime()) {
          const wait = Math.ceil((cooldownEnds - now.getTime()) / 1000);
          throw tooManyRequests('OTP_RESEND_TOO_SOON', `Wait ${wait} s before requesting another code.`, wait);
        }
      }
      const sent = await tx.otps.countSendsSince(mobileNumber, new Date(now.getTime() - HOUR_MS));
      if (sent.count >= config.hourlySendLimit) {
        const wait = Math.max(1, Math.ceil(((sent.oldest?.getTime() ?? now.getTime()) + HOUR_MS - now.getTime()) / 1000));
        throw tooManyRequests('OTP_SEND_LIMIT', `At most ${config.hourlySendLimit} codes per hour for one number.`, wait);
      }
      await tx.otps.upsertChallenge(mobileNumber, purpose, hashCode(mobileNumber, purpose, code), expiresAt);
      await tx.otps.recordSend(mobileNumber, purpose);
      await tx.otps.pruneSends(mobileNumber, new Date(now.getTime() - 24 * HOUR_MS));
      return result;
    });

    await delivery.send({ mobileNumber, code, purpose, expiresAt });
    const otpChallenge = {
      expiresAt: expiresAt.toISOString(),
      resendAfter: resendAfter.toISOString(),
      ...(delivery.revealsCodeInResponse ? { otp: code } : {}),
    };
    return { otpChallenge, written };
  }

  return {
    issueAlongside,

    async issue(mobileNumber: string, purpose: OtpPurpose): Promise<OtpChallenge> {
      return (await issueAlongside(mobileNumber, purpose, async () => undefined)).otpChallenge;
    },

    /**
     * Consumes the newest live code among `purposes` if `code` matches; otherwise throws the precise reason.
     * `onVerified` learns which purpose the code had and runs in the same transaction, under the number's lock,
     * so what the proof allows commits together with the code's consumption or not at all.
     */
    async verify<T>(
      mobileNumber: string,
      purposes: OtpPurpose[],
      code: string,
      onVerified: (tx: Repositories, purpose: OtpPurpose) => Promise<T>,
    ): Promise<T> {
      // Wrong guesses must be counted even though the request fails, so the transaction returns the
      // outcome and we throw only after it committed.
      const outcome = await store.transaction(async (tx): Promise<VerifyOutcome<T>> => {
        await tx.otps.lockNumber(mobileNumber);
        const challenge = await tx.otps.findLatestUnconsumedForUpdate(mobileNumber, purposes);
        if (!challenge) {
          return { ok: false, error: new AppError(400, 'OTP_INVALID', 'No active code for this number; request a new one.', { fields: { attemptsRemaining: 0 } }) };
        }
        if (challenge.attempts >= config.maxAttempts) {
          const wait = Math.max(1, Math.ceil((challenge.created_at.getTime() + config.resendCooldownSeconds * 1000 - Date.now()) / 1000));
          return { ok: false, error: tooManyRequests('OTP_LOCKED', 'Too many wrong codes; this code is locked. Request a new one.', wait) };
        }
        if (challenge.expires_at.getTime() <= Date.now()) {
          return { ok: false, error: new AppError(400, 'OTP_EXPIRED', 'This code has expired; request a new one.') };
        }
        const expected = Buffer.from(challenge.code_hash, 'hex');
        const given = Buffer.from(hashCode(mobileNumber, challenge.purpose, code), 'hex');
        if (!timingSafeEqual(expected, given)) {
          const attempts = await tx.otps.incrementAttempts(challenge.id);
          const attemptsRemaining = Math.max(0, config.maxAttempts - attempts);
          return {
            ok: false,
            error: new AppError(400, 'OTP_INVALID', `Wrong code; ${attemptsRemaining} attempt(s) left.`, { fields: { attemptsRemaining } }),
          };
        }
        await tx.otps.consume(challenge.id);
        return { ok: true, value: await onVerified(tx, challenge.purpose) };
      });
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    },
  };
}
export type OtpService = ReturnType<typeof createOtpService>;
