import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { createApiKeyRepository } from './api-key.repository.js';
import { createAccountRepository } from './account.repository.js';
import { createAttachmentRepository } from './attachment.repository.js';
import { createBillingAccountRepository } from './billing-account.repository.js';
import { createChatroomRepository } from './chatroom.repository.js';
import { createChatroomExportRepository } from './chatroom-export.repository.js';
import { createCheckoutSessionRepository } from './checkout-session.repository.js';
import type { Db } from './db.js';
import { createFileRepository } from './file.repository.js';
import { createIdempotencyRepository } from './idempotency.repository.js';
import { createMessageRepository } from './message.repository.js';
import { createOtpRepository } from './otp.repository.js';
import { createSearchRepository } from './search.repository.js';
import { createSessionRepository } from './session.repository.js';
import { createShareRepository } from './share.repository.js';
import { createStripeEventRepository } from './stripe-event.repository.js';
import { createSubscriptionRepository } from './subscription.repository.js';
import { createUserRepository } from './user.repository.js';

function repositories(db: Db) {
  return {
    users: createUserRepository(db),
    otps: createOtpRepository(db),
    sessions: createSessionRepository(db),
    chatrooms: createChatroomRepository(db),
    messages: createMessageRepository(db),
    idempotency: createIdempotencyRepository(db),
    billingAccounts: createBillingAccountRepository(db),
    subscriptions: createSubscriptionRepository(db),
    checkoutSessions: createCheckoutSessionRepository(db),
    stripeEvents: createStripeEventRepository(db),
    files: createFileRepository(db),
    attachments: createAttachmentRepository(db),
    search: createSearchRepository(db),
    apiKeys: createApiKeyRepository(db),
    accounts: createAccountRepository(db),
    shares: createShareRepository(db),
    chatroomExports: createChatroomExportRepository(db),
  };
}
export type Repositories = ReturnType<typeof repositories>;

/** Every repository on the pool, plus `transaction(fn)` handing the same set bound to one transaction. */
export function createStore(db: Kysely<Database>) {
  return {
    ...repositories(db),
    transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
      return db.transaction().execute((trx) => fn(repositories(trx)));
    },
    /** Liveness of the database for /ready. */
    async ping(): Promise<void> {
      await db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
    },
  };
}
export type Store = ReturnType<typeof createStore>;
