import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// Conversations become trees: every message names its parent (a prompt the reply it follows, null for a first
// prompt; a reply its prompt), and a chatroom names the leaf of the branch its user looks at.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('message')
    .addColumn('parent_id', 'uuid', (c) => c.references('message.id').onDelete('cascade'))
    .execute();
  // No foreign key: messages go only with their chatroom, and a key both ways would make that delete fight itself.
  await db.schema.alterTable('chatroom').addColumn('current_message_id', 'uuid').execute();

  // Today's data is one branch per chatroom. A reply's parent is its prompt (regenerated replies thereby become
  // siblings); a prompt follows the newest completed reply to the prompt before it (what the model saw as that
  // turn), else that prompt's newest reply.
  await sql`update message set parent_id = reply_to_id where role = 'assistant'`.execute(db);
  await sql`
    update message p
    set parent_id = (
      select r.id
      from message r
      where r.role = 'assistant'
        and r.seq < p.seq
        and r.reply_to_id = (
          select q.id from message q
          where q.chatroom_id = p.chatroom_id and q.role = 'user' and q.seq < p.seq
          order by q.seq desc
          limit 1
        )
      order by (r.status = 'completed') desc, r.seq desc
      limit 1
    )
    where p.role = 'user'
  `.execute(db);
  // The newest message of a chatroom is always a leaf (a child is newer than its parent): today's view.
  await sql`
    update chatroom c
    set current_message_id = (select m.id from message m where m.chatroom_id = c.id order by m.seq desc limit 1)
  `.execute(db);

  await db.schema
    .alterTable('message')
    .addCheckConstraint('message_reply_has_parent', sql`role = 'user' or parent_id is not null`)
    .execute();
  // Children of a message in creation order: siblings, and the walk down to the newest leaf.
  await db.schema.createIndex('message_parent_seq_idx').on('message').columns(['parent_id', 'seq']).execute();
  // First prompts of a chatroom (siblings with no parent).
  await db.schema
    .createIndex('message_root_seq_idx')
    .on('message')
    .columns(['chatroom_id', 'seq'])
    .where(sql.ref('parent_id'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('message_root_seq_idx').ifExists().execute();
  await db.schema.dropIndex('message_parent_seq_idx').ifExists().execute();
  await db.schema.alterTable('message').dropConstraint('message_reply_has_parent').ifExists().execute();
  await db.schema.alterTable('chatroom').dropColumn('current_message_id').execute();
  await db.schema.alterTable('message').dropColumn('parent_id').execute();
}
