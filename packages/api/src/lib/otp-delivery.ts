import type { OtpPurpose } from '@gemini-chat/shared';

export interface OtpMessage {
  mobileNumber: string;
  code: string;
  purpose: OtpPurpose;
  expiresAt: Date;
}

/** Where codes go. `response` is the brief's mocked delivery: the code is returned in the API body. */
export interface OtpDelivery {
  readonly revealsCodeInResponse: boolean;
  send(message: OtpMessage): Promise<void>;
}

export function createOtpDelivery(
  mode: 'response' | 'log',
  logger: { info(obj: object, msg: string): void },
): OtpDelivery {
  if (mode === 'response') {
    return { revealsCodeInResponse: true, send: async () => {} };
  }
  // `log` stands in for an SMS provider: an operator reads the code from the logs.
  return {
    revealsCodeInResponse: false,
    send: async ({ mobileNumber, code, purpose, expiresAt }) => {
      logger.info({ otpDelivery: { mobileNumber, code, purpose, expiresAt: expiresAt.toISOString() } }, 'OTP issued');
    },
  };
}
