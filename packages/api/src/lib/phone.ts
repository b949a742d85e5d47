import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { AppError } from '@gemini-chat/shared';

/** Normalises a mobile number to E.164 ("+14155550100"), or throws a 400 naming the field. */
export function normalizeMobileNumber(input: string, defaultRegion?: string): string {
  const parsed = parsePhoneNumberFromString(input, defaultRegion as CountryCode | undefined);
  if (!parsed || !parsed.isValid()) {
    throw new AppError(400, 'VALIDATION_FAILED', 'mobileNumber is not a valid phone number; use E.164, e.g. +14155550100.', {
      errors: [{ in: 'body', field: 'mobileNumber', message: 'is not a valid phone number (use E.164, e.g. +14155550100)' }],
    });
  }
  return parsed.number;
}

/** Same as normalizeMobileNumber but never throws: for rate-limit keys, where bad input must still be counted. */
export function mobileNumberKey(input: unknown, defaultRegion?: string): string {
  if (typeof input !== 'string') return 'invalid';
  return parsePhoneNumberFromString(input, defaultRegion as CountryCode | undefined)?.number ?? input.replace(/\D/g, '').slice(0, 20);
}
