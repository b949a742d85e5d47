import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Stripe-looking ids (`cus_…`, `sub_…`, `cs_test_…`): the prefix is what integrations and logs key on, so it
 * must be right; the tail only has to be unique and base62 like Stripe's.
 */
export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let tail = '';
  for (const byte of bytes) tail += ALPHABET[byte % ALPHABET.length];
  return `${prefix}${tail}`;
}

export const ID_PREFIX = {
  customer: 'cus_',
  product: 'prod_',
  checkoutSession: 'cs_test_',
  checkoutLineItem: 'li_',
  subscription: 'sub_',
  subscriptionItem: 'si_',
  invoice: 'in_',
  invoiceLine: 'il_',
  event: 'evt_',
  portalSession: 'bps_',
  portalConfiguration: 'bpc_',
  request: 'req_',
} as const;
