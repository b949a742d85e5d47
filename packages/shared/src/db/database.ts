import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Row types for Kysely. They stay inside `shared` (repositories map nothing; services map rows to wire shapes).
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type Tier = 'basic' | 'pro';
export type OtpPurpose = 'login' | 'signup' | 'password_reset' | 'delete_account';
export type TitleSource = 'default' | 'user' | 'auto';
export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'queued' | 'generating' | 'completed' | 'failed' | 'cancelled';
/** A reply in one of these states is still being produced (and keeps its chatroom busy). */
export const PENDING_STATUSES = ['queued', 'generating'] as const satisfies readonly MessageStatus[];
export const isPending = (status: MessageStatus): boolean => (PENDING_STATUSES as readonly MessageStatus[]).includes(status);

/** How a reply is generated: a chatroom's defaults, a send's overrides, and what a reply used (all optional). */
export interface ReplySettings {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  /** `off`, a level, or a token budget. */
  thinking?: 'off' | 'low' | 'high' | number;
  showThoughts?: boolean;
  googleSearch?: boolean;
}

/** A source of a grounded reply and the part of its text it supports (JS string indexes: UTF-16 code units). */
export interface Citation {
  uri: string;
  title: string;
  startIndex: number;
  endIndex: number;
}

export interface UsersTable {
  id: Generated<string>;
  mobile_number: string;
  name: string | null;
  email: string | null;
  password_hash: string | null;
  tier: ColumnType<Tier, Tier | undefined, Tier>;
  mobile_verified_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Billing: the user's Stripe customer, created once on the first checkout. */
  stripe_customer_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Billing: when a time-limited pro tier (scheduled cancellation, past_due grace) falls back to basic. */
  tier_expires_at: NullableTimestamp;
  /** Bytes of the user's stored, not deleted files (int8 arrives as a string). */
  storage_used_bytes: ColumnType<string, string | number | bigint | undefined, string | number | bigint>;
  /** Set when the account was deleted; the row itself goes once the deletion job has removed the user's files. */
  deleted_at: NullableTimestamp;
}

export interface OtpChallengeTable {
  id: Generated<string>;
  mobile_number: string;
  purpose: OtpPurpose;
  code_hash: string;
  attempts: ColumnType<number, number | undefined, number>;
  expires_at: Timestamp;
  consumed_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface OtpSendTable {
  id: Generated<string>;
  mobile_number: string;
  purpose: OtpPurpose;
  sent_at: Timestamp;
}

export interface SessionTable {
  id: Generated<string>;
  user_id: string;
  created_at: Timestamp;
  last_refreshed_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoke_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

export interface RefreshTokenTable {
  id: Generated<string>;
  session_id: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface ChatroomTable {
  id: Generated<string>;
  user_id: string;
  title: string;
  title_source: ColumnType<TitleSource, TitleSource | undefined, TitleSource>;
  system_prompt: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_activity_at: Timestamp;
  /** The leaf of the branch the user looks at (null while the chatroom is empty). */
  current_message_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The model its replies use; null: the default of the user's tier at the time of each send. */
  model: ColumnType<string | null, string | null | undefined, string | null>;
  /** Generation settings (see ReplySettings); `{}` for the defaults. */
  settings: ColumnType<ReplySettings, string | undefined, string>;
}

export interface MessageTable {
  id: Generated<string>;
  /** Insertion order inside a chatroom; internal (never an API id), used for ordering and cursors. */
  seq: ColumnType<string, never, never>;
  chatroom_id: string;
  user_id: string;
  role: MessageRole;
  status: MessageStatus;
  content: ColumnType<string, string | undefined, string>;
  reply_to_id: string | null;
  /** The message this one follows: a prompt's is the reply before it (null for a first prompt), a reply's its prompt. */
  parent_id: ColumnType<string | null, string | null | undefined, string | null>;
  error_code: string | null;
  error_message: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  model: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: NullableTimestamp;
  worker_token: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  /** 'YYYY-MM-DD' (UTC) of the quota unit this reply consumed. */
  quota_day: ColumnType<string | null, string | null | undefined, string | null>;
  refunded_at: NullableTimestamp;
  /** The refund recorded in refunded_at has not reached the Redis counter yet. */
  quota_refund_pending: ColumnType<boolean, boolean | undefined, boolean>;
  /** A reply's resolved settings (chatroom's, then the send's overrides), as the worker uses them; null before they existed. */
  settings: ColumnType<ReplySettings | null, string | null | undefined, string | null>;
  /** Thought summaries of a reply produced with showThoughts, apart from its text. */
  thoughts: ColumnType<string | null, string | null | undefined, string | null>;
  /** Google Search citations of a grounded reply (indexes into content, in UTF-16 code units). */
  citations: ColumnType<Citation[] | null, string | null | undefined, string | null>;
  /** Thinking tokens of the reply (a part of output_tokens). */
  thinking_tokens: ColumnType<number | null, number | null | undefined, number | null>;
}

/** An uploaded file; its bytes live in object storage under storage_key. */
export interface FileTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  mime_type: string;
  /** int8 arrives as a string. */
  size_bytes: ColumnType<string, string | number | bigint, string | number | bigint>;
  /** Hex sha256 of the bytes. */
  sha256: string;
  storage_key: string;
  page_count: number | null;
  created_at: Timestamp;
  /** Deleted files keep their row (messages show them as deleted); their bytes are gone. */
  deleted_at: NullableTimestamp;
  gemini_file_name: ColumnType<string | null, string | null | undefined, string | null>;
  gemini_file_uri: ColumnType<string | null, string | null | undefined, string | null>;
  gemini_file_expires_at: NullableTimestamp;
  token_count: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A file attached to a prompt, in the order given. */
export interface MessageAttachmentTable {
  message_id: string;
  position: number;
  file_id: string;
}

export interface IdempotencyKeyTable {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: ColumnType<unknown, string, string>;
  created_at: Timestamp;
}

/** Stripe's current state of one subscription, as last retrieved from Stripe. */
export interface SubscriptionTable {
  id: Generated<string>;
  stripe_subscription_id: string;
  user_id: string;
  stripe_customer_id: string;
  /** Stripe's status verbatim: active, trialing, past_due, canceled, unpaid, incomplete, incomplete_expired, paused. */
  status: string;
  price_id: string | null;
  current_period_start: NullableTimestamp;
  current_period_end: NullableTimestamp;
  cancel_at_period_end: boolean;
  cancel_at: NullableTimestamp;
  canceled_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  past_due_since: NullableTimestamp;
  /** Ticket (billing_sync_seq) taken before the retrieve this row came from; int8 arrives as a string. */
  sync_version: ColumnType<string, string | bigint, string | bigint>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type CheckoutSessionStatus = 'open' | 'complete' | 'expired';

export interface CheckoutSessionTable {
  stripe_checkout_session_id: string;
  user_id: string;
  price_id: string;
  url: string;
  status: ColumnType<CheckoutSessionStatus, CheckoutSessionStatus | undefined, CheckoutSessionStatus>;
  expires_at: Timestamp;
  created_at: Timestamp;
}

/** A user's current Checkout attempt for one price: concurrent POST /subscribe/pro calls agree through it. */
export interface CheckoutAttemptTable {
  user_id: string;
  price_id: string;
  /** What the Stripe idempotency key of the attempt's session is made from; redrawn for a new attempt. */
  attempt_id: Generated<string>;
  /** The session created under attempt_id, once recorded. */
  stripe_checkout_session_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
}

export interface StripeEventTable {
  id: string;
  type: string;
  created: Timestamp;
  processed_at: Timestamp;
}

export interface ApiKeyTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  /** The key's first characters, for display; not enough to use it. */
  prefix: string;
  /** Hex SHA-256 of the key; the key itself is never stored. */
  key_hash: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  expires_at: NullableTimestamp;
}

/** One message of a share's frozen copy of a branch. */
export interface SharedMessage {
  role: MessageRole;
  content: string;
  /** ISO 8601 in UTC with milliseconds, as the API writes every time. */
  createdAt: string;
}

/** A share link: a frozen copy of a chatroom's branch, readable by anyone who has its id. */
export interface ShareTable {
  id: Generated<string>;
  user_id: string;
  chatroom_id: string;
  title: string;
  messages: ColumnType<SharedMessage[], string, never>;
  message_count: number;
  created_at: Timestamp;
}

/** Tokens of the replies charged to a user's quota day, kept with each reply's usage. */
export interface UserTokenUsageTable {
  user_id: string;
  /** 'YYYY-MM-DD' (UTC), the replies' quota day. */
  day: string;
  input_tokens: ColumnType<string, number | undefined, number>;
  output_tokens: ColumnType<string, number | undefined, number>;
}

export interface Database {
  users: UsersTable;
  otp_challenge: OtpChallengeTable;
  otp_send: OtpSendTable;
  session: SessionTable;
  refresh_token: RefreshTokenTable;
  chatroom: ChatroomTable;
  message: MessageTable;
  idempotency_key: IdempotencyKeyTable;
  subscription: SubscriptionTable;
  checkout_session: CheckoutSessionTable;
  checkout_attempt: CheckoutAttemptTable;
  stripe_event: StripeEventTable;
  file: FileTable;
  message_attachment: MessageAttachmentTable;
  api_key: ApiKeyTable;
  share: ShareTable;
  user_token_usage: UserTokenUsageTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type OtpChallengeRow = Selectable<OtpChallengeTable>;
export type SessionRow = Selectable<SessionTable>;
export type RefreshTokenRow = Selectable<RefreshTokenTable>;
export type ChatroomRow = Selectable<ChatroomTable>;
export type MessageRow = Selectable<MessageTable>;
/** A message's place among the messages with the same parent (creation order, 1-based). */
export interface SiblingInfo {
  sibling_index: number;
  sibling_count: number;
  previous_sibling_id: string | null;
  next_sibling_id: string | null;
}
export type MessageWithSiblings = MessageRow & SiblingInfo;
export type SubscriptionRow = Selectable<SubscriptionTable>;
export type FileRow = Selectable<FileTable>;
export type CheckoutSessionRow = Selectable<CheckoutSessionTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type ShareRow = Selectable<ShareTable>;
