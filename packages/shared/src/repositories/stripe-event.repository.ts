import type { Db } from './db.js';

export function createStripeEventRepository(db: Db) {
  return {
    async exists(id: string): Promise<boolean> {
      return (await db.selectFrom('stripe_event').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
    },

    /**
     * Records an event as handled; false when it already was. Inside a transaction, a concurrent delivery of the
     * same event waits here until the first one commits, then finds it recorded: one effect per event.
     */
    async record(event: { id: string; type: string; created: Date }): Promise<boolean> {
      const row = await db
        .insertInto('stripe_event')
        .values({ id: event.id, type: event.type, created: event.created })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
export type StripeEventRepository = ReturnType<typeof createStripeEventRepository>;
