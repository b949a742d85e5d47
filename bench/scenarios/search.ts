import { createRequire } from 'node:module';
import { call } from '../lib/api-client.js';
import { distribution } from '../lib/stats.js';
import { SEEDED_CONTENT } from '@gemini-chat/testkit/seed-volume';
import { seedBenchVolume } from '../lib/volume.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

const requireFromApi = createRequire(new URL('../../packages/api/package.json', import.meta.url));
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}

const TARGET_MESSAGES = 100_000;
// 90 more users with 20 chatrooms of 500 messages: 900,000 more messages, on top of the bench's base volume.
const OTHERS = { tag: 'search', numberPrefix: '+1997', users: 90, roomsPerUser: 20, messagesPerRoom: 500 };
const OTHER_MESSAGES = OTHERS.users * OTHERS.roomsPerUser * OTHERS.messagesPerRoom;
const REQUESTS = 400;

// The seeded text (shared with the base volume): words w0..w4999 drawn skewed towards the low numbers, so w1 is
// in a large share of messages and w4000 in a handful; the queries below cover both ends.
const content = SEEDED_CONTENT;
const QUERIES = ['w4000', 'w2500', 'w900', 'w300', 'w40', '"w5 w6"', 'w700 OR w3000', 'w50 -w1', 'w12 w13', 'w1'];

/**
 * GET /search on 100,000 messages of one user among 1,200,000 in all (seeded in SQL with generate_series), one
 * request at a time over HTTP with varied queries; the plan of the commonest and a rare query with EXPLAIN ANALYZE.
 */
export async function search(ctx: BenchContext): Promise<ScenarioRow> {
  const { Client } = requireFromApi('pg') as { Client: new (options: object) => PgClient };
  const pg = new Client({ connectionString: ctx.options.databaseUrl });
  await pg.connect();
  try {
    const user = ctx.seed.reader;
    const seedStart = Date.now();
    await seedBenchVolume(ctx.options.databaseUrl, OTHERS);
    await pg.query(`
      insert into chatroom (user_id, title)
      select $1, 'Bench room ' || r || ' w' || (r * 37 % 5000) from generate_series(1, 20) r`, [user.userId]);
    // Prompts straight into completed state, spread over the last 90 days; the target user's in its 20 rooms.
    await pg.query(`
      insert into message (chatroom_id, user_id, role, status, content, created_at)
      select (array_agg(c.id))[1 + i % 20], $1, 'user', 'completed', ${content}, now() - random() * interval '90 days'
      from generate_series(1, ${TARGET_MESSAGES}) i, chatroom c where c.user_id = $1 group by i`, [user.userId]);
    await pg.query('vacuum analyze message');
    await pg.query('vacuum analyze chatroom');
    const seedSeconds = (Date.now() - seedStart) / 1000;
    const counts = (await pg.query(`select count(*)::int as all, count(*) filter (where user_id = $1)::int as mine from message`, [user.userId])).rows[0];
    console.log(`  seeded in ${seedSeconds.toFixed(1)} s: ${JSON.stringify(counts)}`);

    for (const q of QUERIES) await call(ctx.api, 'GET', `/search?q=${encodeURIComponent(q)}`, { token: user.token }); // warm-up
    const latencies: number[] = [];
    const perQuery: Record<string, number[]> = {};
    let errors = 0;
    const started = Date.now();
    for (let i = 0; i < REQUESTS; i++) {
      const q = QUERIES[i % QUERIES.length]!;
      const t0 = performance.now();
      const res = await fetch(`${ctx.api}/search?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${user.token}` } });
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      if (res.status !== 200) errors++;
      latencies.push(ms);
      (perQuery[q] ??= []).push(ms);
    }
    const elapsed = (Date.now() - started) / 1000;
    const dist = distribution(latencies);
    const sorted = [...latencies].sort((a, b) => a - b);
    const p95 = sorted[Math.ceil(0.95 * sorted.length) - 1]!;

    const plans: Record<string, string> = {};
    for (const q of ['w1', 'w2500']) {
      const tsq = `websearch_to_tsquery('simple', '${q}')`;
      const { rows } = await pg.query(`explain (analyze, buffers, costs off)
        select * from (
          select c.id, c.created_at, ts_rank(c.search_tsv, ${tsq}) as rank from chatroom c
          where c.user_id = $1 and c.search_tsv @@ ${tsq}
          union all
          select m.id, m.created_at, ts_rank(m.search_tsv, ${tsq}) from message m join chatroom c on c.id = m.chatroom_id
          where m.user_id = $1 and m.status = 'completed' and m.search_tsv @@ ${tsq}
        ) hits order by rank desc, created_at desc, id desc limit 21`, [user.userId]);
      plans[q] = rows.map((r) => String(r['QUERY PLAN'])).join('\n');
      console.log(`  plan for q=${q}:\n${plans[q]}`);
    }
    const hits = Object.fromEntries(
      await Promise.all(
        QUERIES.map(async (q) => [q, Number((await pg.query(`select count(*)::int as n from message where user_id = $1 and status = 'completed' and search_tsv @@ websearch_to_tsquery('simple', $2)`, [user.userId, q])).rows[0]?.n)] as const),
      ),
    );
    const perQueryP95 = Object.fromEntries(
      Object.entries(perQuery).map(([q, v]) => [q, Number(v.sort((a, b) => a - b)[Math.ceil(0.95 * v.length) - 1]!.toFixed(1))]),
    );
    const total = Number((counts as { all?: number } | undefined)?.all ?? TARGET_MESSAGES + OTHER_MESSAGES);
    return row('search', 'GET /search', `${TARGET_MESSAGES.toLocaleString('en')} of the user's messages among ${total.toLocaleString('en')}`, {
      rps: REQUESTS / elapsed,
      p50Ms: dist.p50,
      p99Ms: dist.p99,
      errors,
      requestsServed: REQUESTS + QUERIES.length,
      notes: [`p95 ${p95.toFixed(1)} ms (target ≤ 50 ms)`, `seeded in ${seedSeconds.toFixed(0)} s`],
      details: { p95Ms: p95, perQueryP95Ms: perQueryP95, matchingMessages: hits, plans, seedSeconds },
    });
  } finally {
    await pg.end();
  }
}
