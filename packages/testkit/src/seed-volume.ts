// Volume for query plans and benchmarks: many users with everything a user accumulates, written with set-based
// SQL (generate_series) so 200,000 messages take seconds. Shared by the query-plan test and `pnpm bench`, which
// run it through different drivers: it only needs a function that runs one statement in the target schema.

export interface VolumeOptions {
  users?: number;
  roomsPerUser?: number;
  /** Messages per chatroom: a single branch of alternating prompts and replies. */
  messagesPerRoom?: number;
  /** Distinguishes the seeded users (their names) when seeding twice into one database. */
  tag?: string;
  /** The seeded users' mobile numbers start with it (then eight digits); distinct per tag. Default +1998. */
  numberPrefix?: string;
}

export interface VolumeCounts {
  users: number;
  chatrooms: number;
  messages: number;
}

export type RunSql = (statement: string) => Promise<unknown>;

// Words w0..w4999 drawn skewed towards the low numbers (random()^3): a few words are in a large share of messages,
// most in a handful, as in real text (the search plans depend on that spread).
const WORD = `'w' || floor(5000 * power(random(), 3))::int`;
const CONTENT = Array.from({ length: 12 }, () => WORD).join(" || ' ' || ");
/** A SQL expression for seeded message text: twelve words w0..w4999, skewed towards the low numbers. */
export const SEEDED_CONTENT = CONTENT;

/** Same id for the same (chatroom, position): parents and prompts of a set-based insert can name each other. */
const messageId = (room: string, k: string) => `md5(${room}::text || ':' || ${k})::uuid`;

/**
 * Seeds `users` users (default 1,000), each with chatrooms of one branch of messages (default 10 × 20: 200,000
 * messages in all, replies carrying token usage, some charged today), files attached to prompts, sessions with
 * refresh tokens, OTP rows, shares, API keys, idempotency keys, checkout and subscription rows for a tenth of them,
 * then ANALYZE, so plans are those of a database in use.
 */
export async function seedVolume(run: RunSql, options: VolumeOptions = {}): Promise<VolumeCounts> {
  const users = options.users ?? 1000;
  const rooms = options.roomsPerUser ?? 10;
  const perRoom = options.messagesPerRoom ?? 20;
  const tag = (options.tag ?? 'v').replace(/[^a-z0-9]/gi, '');
  const seeded = `u.name like 'Seeded ${tag} %'`;
  const numberPrefix = options.numberPrefix ?? '+1998';
  if (!/^\+\d{1,5}$/.test(numberPrefix)) throw new Error(`not a number prefix: ${numberPrefix}`);

  // Foreign-key checks off for the bulk load (the rows are consistent by construction): they are most of the cost
  // of 200,000 self-referencing message rows. Needs a superuser, as the test and bench databases have.
  await run('set session_replication_role = replica');
  await run(`
    insert into users (mobile_number, name, mobile_verified_at, storage_used_bytes, tier, created_at)
    select '${numberPrefix}' || lpad(i::text, 8, '0'), 'Seeded ${tag} ' || i,
           now() - interval '100 days', 2048, case when i % 10 = 0 then 'pro' else 'basic' end, now() - interval '100 days'
    from generate_series(1, ${users}) i`);
  await run(`
    insert into chatroom (user_id, title, title_source, system_prompt, created_at, updated_at, last_activity_at)
    select u.id, 'Seeded room ' || r, 'user', case when r % 3 = 0 then 'Be brief.' end,
           now() - interval '90 days', now() - (r || ' hours')::interval, now() - (r || ' hours')::interval
    from users u, generate_series(1, ${rooms}) r where ${seeded}`);
  // One branch per chatroom: odd positions are prompts, even ones their replies; each message's parent is the one
  // before it. Replies are charged to the day they were written; the newest exchange of every room is today's.
  await run(`
    insert into message (id, chatroom_id, user_id, role, status, content, parent_id, reply_to_id, input_tokens,
                         output_tokens, thinking_tokens, model, quota_day, created_at, updated_at, completed_at)
    select ${messageId('c.id', 'k')}, c.id, c.user_id,
           case when k % 2 = 1 then 'user' else 'assistant' end, 'completed', ${CONTENT},
           case when k > 1 then ${messageId('c.id', 'k - 1')} end,
           case when k % 2 = 0 then ${messageId('c.id', 'k - 1')} end,
           case when k % 2 = 0 then 40 + k end, case when k % 2 = 0 then 200 + k end, case when k % 2 = 0 then 0 end,
           case when k % 2 = 0 then 'gemini-2.5-flash' end,
           case when k % 2 = 0 then (t.at at time zone 'UTC')::date end,
           t.at, t.at, t.at
    from chatroom c join users u on u.id = c.user_id and ${seeded},
         generate_series(1, ${perRoom}) k,
         lateral (select now() - ((${perRoom} - k) * interval '4 days') / ${perRoom} - interval '1 minute' as at) t
    order by c.id, k`);
  await run(`
    update chatroom c set current_message_id = ${messageId('c.id', String(perRoom))}
    from users u where u.id = c.user_id and ${seeded}`);
  await run(`
    insert into file (user_id, name, mime_type, size_bytes, sha256, storage_key, created_at)
    select u.id, 'notes-' || f || '.txt', 'text/plain', 1024, md5(u.id::text || f), 'seeded/' || u.id || '/' || f,
           now() - (f || ' days')::interval
    from users u, generate_series(1, 2) f where ${seeded}`);
  // The user's files attached to every prompt of two of the user's rooms.
  await run(`
    insert into message_attachment (message_id, position, file_id)
    select ${messageId('c.id', 'k')}, f.n - 1, f.id
    from (select id, user_id, row_number() over (partition by user_id order by id) as n from file) f
    join users u on u.id = f.user_id and ${seeded}
    join chatroom c on c.user_id = f.user_id and c.title in ('Seeded room 1', 'Seeded room 2'),
    generate_series(1, ${perRoom}, 2) k`);
  await run(`
    insert into session (user_id, created_at, last_refreshed_at, expires_at, revoked_at, revoke_reason)
    select u.id, now() - (s || ' days')::interval, now() - (s || ' days')::interval, now() + interval '20 days',
           case when s = 3 then now() - interval '1 day' end, case when s = 3 then 'logout' end
    from users u, generate_series(1, 3) s where ${seeded}`);
  await run(`
    insert into refresh_token (session_id, token_hash, expires_at, used_at)
    select s.id, md5(s.id::text || r), now() + interval '20 days', case when r = 1 then now() - interval '1 day' end
    from session s join users u on u.id = s.user_id and ${seeded}, generate_series(1, 2) r`);
  await run(`
    insert into otp_challenge (mobile_number, purpose, code_hash, attempts, expires_at, consumed_at)
    select u.mobile_number, 'login', md5(u.id::text), 0, now() - interval '1 day', now() - interval '1 day'
    from users u where ${seeded}`);
  await run(`
    insert into otp_send (mobile_number, purpose, sent_at)
    select u.mobile_number, 'login', now() - (n || ' hours')::interval from users u, generate_series(1, 5) n where ${seeded}`);
  await run(`
    insert into share (user_id, chatroom_id, title, messages, message_count)
    select c.user_id, c.id, c.title, '[]'::jsonb, 0
    from chatroom c join users u on u.id = c.user_id and ${seeded} where c.title in ('Seeded room 1', 'Seeded room 2')`);
  await run(`
    insert into api_key (user_id, name, prefix, key_hash, created_at)
    select u.id, 'key ' || k, 'gck_' || left(md5(u.id::text || k), 6), md5('key' || u.id::text || k), now() - (k || ' days')::interval
    from users u, generate_series(1, 2) k where ${seeded}`);
  await run(`
    insert into idempotency_key (user_id, key, request_hash, response_status, response_body, created_at)
    select u.id, 'seeded-' || k, md5(u.id::text || k), 202, '{}'::jsonb, now() - (k || ' hours')::interval
    from users u, generate_series(1, 5) k where ${seeded}`);
  // Every user went to Checkout twice and is a Stripe customer with an ended subscription; a tenth are Pro now.
  await run(`
    update users u set stripe_customer_id = 'cus_seeded_' || md5(u.id::text) where ${seeded}`);
  await run(`
    insert into checkout_session (stripe_checkout_session_id, user_id, price_id, url, status, expires_at)
    select 'cs_seeded_' || md5(u.id::text || n), u.id, 'price_pro', 'https://checkout.invalid/' || u.id, 'complete', now() - interval '1 day'
    from users u, generate_series(1, 2) n where ${seeded}`);
  await run(`
    insert into subscription (stripe_subscription_id, user_id, stripe_customer_id, status, price_id,
                              current_period_start, current_period_end, sync_version, ended_at)
    select 'sub_seeded_' || md5(u.id::text || n), u.id, u.stripe_customer_id, case when n = 2 then 'active' else 'canceled' end,
           'price_pro', now() - interval '10 days', now() + interval '20 days', 1, case when n = 1 then now() - interval '30 days' end
    from users u, generate_series(1, case when u.tier = 'pro' then 2 else 1 end) n where ${seeded}`);
  await run(`
    insert into stripe_event (id, type, created)
    select 'evt_seeded_' || md5(u.id::text || n), 'customer.subscription.updated', now() - interval '10 days'
    from users u, generate_series(1, 3) n where ${seeded}`);
  await run(`
    insert into user_token_usage (user_id, day, input_tokens, output_tokens)
    select m.user_id, m.quota_day, sum(m.input_tokens), sum(m.output_tokens)
    from message m join users u on u.id = m.user_id and ${seeded}
    where m.role = 'assistant' and m.quota_day is not null group by m.user_id, m.quota_day`);
  await run('reset session_replication_role');
  await run('analyze users, chatroom, message, file, message_attachment, session, refresh_token, otp_challenge, otp_send, share, api_key, idempotency_key, checkout_session, subscription, stripe_event, user_token_usage');
  return { users, chatrooms: users * rooms, messages: users * rooms * perRoom };
}

/**
 * Grows an existing chatroom to `messages` more messages: one branch continuing from nothing (a new root), its
 * newest message made the chatroom's current one, so GET /chatroom/:id shows the end of a very long conversation.
 */
export async function seedLongChatroom(run: RunSql, chatroomId: string, messages: number): Promise<void> {
  if (!/^[0-9a-f-]{36}$/i.test(chatroomId)) throw new Error(`not a chatroom id: ${chatroomId}`);
  const room = `'${chatroomId}'::uuid`;
  const id = (k: string) => `md5(${room}::text || ':long:' || ${k})::uuid`;
  await run(`
    insert into message (id, chatroom_id, user_id, role, status, content, parent_id, reply_to_id, input_tokens,
                         output_tokens, thinking_tokens, model, created_at, updated_at, completed_at)
    select ${id('k')}, c.id, c.user_id, case when k % 2 = 1 then 'user' else 'assistant' end, 'completed', ${CONTENT},
           case when k > 1 then ${id('k - 1')} end, case when k % 2 = 0 then ${id('k - 1')} end,
           case when k % 2 = 0 then 50 end, case when k % 2 = 0 then 200 end, case when k % 2 = 0 then 0 end,
           case when k % 2 = 0 then 'gemini-2.5-flash' end, t.at, t.at, t.at
    from chatroom c, generate_series(1, ${messages}) k,
         lateral (select now() - (${messages} - k) * interval '1 minute' as at) t
    where c.id = ${room}
    order by k`);
  await run(`update chatroom set current_message_id = ${id(String(messages))} where id = ${room}`);
  await run('analyze message');
}
