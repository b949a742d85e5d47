import type { Migration } from 'kysely';
import * as foundation from './2026-11-26T0800-foundation.js';
import * as messaging from './2026-11-26T0900-messaging.js';
import * as billing from './2026-11-26T1000-billing.js';
import * as checkoutAttempt from './2026-11-27T0900-checkout-attempt.js';
import * as quotaLedger from './2026-11-27T1000-quota-ledger.js';
import * as messageTree from './2026-12-01T0900-message-tree.js';
import * as modelSettings from './2026-12-07T0900-model-settings.js';
import * as files from './2026-12-07T1000-files.js';
import * as search from './2026-12-07T1100-search.js';
import * as shares from './2026-12-07T1200-shares.js';
import * as accountDeletion from './2026-12-07T1300-account-deletion.js';
import * as apiKeys from './2026-12-07T1400-api-keys.js';
import * as queryPlans from './2026-12-08T0900-query-plans.js';
import * as userChangeNotifications from './2026-12-08T1000-user-change-notifications.js';

// Listed explicitly (not read from disk) so migrations run the same from source, from a bundle and in tests.
// Names sort in the order they must run.
export const migrations: Record<string, Migration> = {
  '2026-11-26T0800-foundation': foundation,
  '2026-11-26T0900-messaging': messaging,
  '2026-11-26T1000-billing': billing,
  '2026-11-27T0900-checkout-attempt': checkoutAttempt,
  '2026-11-27T1000-quota-ledger': quotaLedger,
  '2026-12-01T0900-message-tree': messageTree,
  '2026-12-07T0900-model-settings': modelSettings,
  '2026-12-07T1000-files': files,
  '2026-12-07T1100-search': search,
  '2026-12-07T1200-shares': shares,
  '2026-12-07T1300-account-deletion': accountDeletion,
  '2026-12-07T1400-api-keys': apiKeys,
  '2026-12-08T0900-query-plans': queryPlans,
  '2026-12-08T1000-user-change-notifications': userChangeNotifications,
};
