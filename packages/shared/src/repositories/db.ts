import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.js';

/** Repositories run on the pool or inside a transaction alike. */
export type Db = Kysely<Database> | Transaction<Database>;
