// The bench's data volume: the same set-based seed as the query-plan test (packages/testkit/src/seed-volume.ts),
// run over a pg client of the bench's own, so every scenario measures a database in use, not an empty one.
import { createRequire } from 'node:module';
import { seedLongChatroom, seedVolume, type VolumeCounts, type VolumeOptions } from '@gemini-chat/testkit/seed-volume';

const requireFromApi = createRequire(new URL('../../packages/api/package.json', import.meta.url));

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}

async function withPg<T>(databaseUrl: string, work: (run: (statement: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const { Client } = requireFromApi('pg') as { Client: new (options: object) => PgClient };
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    return await work((statement) => pg.query(statement));
  } finally {
    await pg.end();
  }
}

/** 1,000 users with 200,000 messages and the rest of what users accumulate (options: more or less). */
export async function seedBenchVolume(databaseUrl: string, options: VolumeOptions = {}): Promise<VolumeCounts & { seconds: number }> {
  const started = Date.now();
  const counts = await withPg(databaseUrl, (run) => seedVolume(run, options));
  return { ...counts, seconds: (Date.now() - started) / 1000 };
}

/** Makes an existing chatroom `messages` messages longer (its current branch ends with the last of them). */
export function growChatroom(databaseUrl: string, chatroomId: string, messages: number): Promise<void> {
  return withPg(databaseUrl, (run) => seedLongChatroom(run, chatroomId, messages));
}
