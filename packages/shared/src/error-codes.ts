// Every `code` the API can answer, and every code a failed reply can end with: one closed list each. AppError takes
// only a catalogued code (a typo does not compile), the OpenAPI spec states `Problem.code` and a failed Message's
// `error.code` as enums built from these lists, and the spec's per-route examples are built from `example`.

export interface ErrorCodeEntry {
  /** The HTTP status the code is always answered with. */
  status: number;
  /** One line: what it means and what the client should do. */
  meaning: string;
  /** A realistic `detail` for the spec's examples. */
  example: string;
}

const entry = (status: number, meaning: string, example: string): ErrorCodeEntry => ({ status, meaning, example });

export const ERROR_CODES = {
  // Any request: refused before or around the route.
  BAD_REQUEST: entry(400, 'The request is not valid HTTP, or its URL is not valid percent-encoded UTF-8.', 'The URL path is not valid percent-encoded UTF-8.'),
  VALIDATION_FAILED: entry(400, 'A parameter, header or body field breaks the schema; `errors` lists each one.', 'The request is invalid: body.mobileNumber is required.'),
  REQUEST_TIMEOUT: entry(408, 'The request did not arrive in time; the connection is closed.', 'The request did not arrive in time.'),
  HEADERS_TOO_LARGE: entry(431, 'The request line and headers are over 16 kB together; the connection is closed.', 'The request line and headers are over 16 kB together.'),
  ROUTE_NOT_FOUND: entry(404, 'No route has this method and path.', 'No route GET /chatrooms.'),
  INVALID_PREFLIGHT: entry(400, 'A CORS preflight (OPTIONS) without Origin and Access-Control-Request-Method.', 'A CORS preflight needs the Origin and Access-Control-Request-Method headers.'),
  RATE_LIMITED: entry(429, 'Too many requests from this address, number or API key; wait Retry-After seconds.', 'Too many authentication requests from this address; slow down.'),
  INTERNAL_ERROR: entry(500, 'Something failed on the server; quote requestId when reporting it.', 'Something went wrong on our side. Quote the requestId when reporting it.'),
  SERVICE_UNAVAILABLE: entry(503, 'A backing service (database, cache, queue, Stripe) is briefly unavailable; retry after Retry-After.', 'A backing service is temporarily unavailable; retry shortly.'),
  // Bodies.
  INVALID_JSON: entry(400, 'The body is empty or not valid JSON.', 'Body is not valid JSON but content-type is set to \'application/json\''),
  PAYLOAD_TOO_LARGE: entry(413, 'The body is over the size limit of the route.', 'Request body is too large'),
  UNSUPPORTED_MEDIA_TYPE: entry(415, 'The body is not in a media type the route accepts (JSON, or multipart for uploads), or an upload is not a kind of file accepted.', 'Unsupported Media Type: text/plain'),
  // Credentials.
  UNAUTHORIZED: entry(401, 'No access token, or one that is malformed or not ours.', 'Missing Authorization: Bearer <accessToken> header.'),
  TOKEN_EXPIRED: entry(401, 'The access token has expired; get a new one at POST /auth/refresh.', 'The access token has expired; refresh it at POST /auth/refresh.'),
  SESSION_REVOKED: entry(401, 'The session behind the token was signed out or revoked; sign in again.', 'This session has been signed out or revoked; sign in again.'),
  INVALID_API_KEY: entry(401, 'The API key is malformed, unknown, expired or revoked.', 'The API key is invalid, expired or revoked.'),
  API_KEY_NOT_ALLOWED: entry(403, 'An API key on a route that accepts only an access token.', 'API keys cannot be used on this route; sign in and use an access token.'),
  // Sign-in.
  MOBILE_NUMBER_TAKEN: entry(409, 'An account with this mobile number exists already; sign in with POST /auth/send-otp.', 'This mobile number is already registered; sign in instead.'),
  OTP_INVALID: entry(400, 'Wrong or no active code; `attemptsRemaining` says how many tries are left.', 'Wrong code; 4 attempt(s) left.'),
  OTP_EXPIRED: entry(400, 'The code has expired; request a new one.', 'This code has expired; request a new one.'),
  OTP_LOCKED: entry(429, 'Too many wrong tries: the code is dead; request a new one.', 'Too many wrong codes; this code is locked. Request a new one.'),
  OTP_RESEND_TOO_SOON: entry(429, 'A code was sent moments ago; wait Retry-After seconds before asking again.', 'Wait 27 s before requesting another code.'),
  OTP_SEND_LIMIT: entry(429, 'The hourly number of codes for this number is used up.', 'At most 5 codes per hour for one number.'),
  INVALID_CREDENTIALS: entry(401, 'Mobile number or password is wrong (or the account has no password).', 'Mobile number or password is incorrect.'),
  REFRESH_TOKEN_INVALID: entry(401, 'The refresh token is unknown, expired or revoked; sign in again.', 'The refresh token is invalid, expired or revoked; sign in again.'),
  REFRESH_TOKEN_REUSED: entry(401, 'A refresh token was used twice: the whole session is revoked; sign in again.', 'This refresh token was already used; the session has been revoked. Sign in again.'),
  CURRENT_PASSWORD_REQUIRED: entry(400, 'Changing an existing password needs `currentPassword`.', 'currentPassword is required to change an existing password.'),
  CURRENT_PASSWORD_INCORRECT: entry(400, '`currentPassword` is wrong.', 'currentPassword is incorrect.'),
  USER_NOT_FOUND: entry(404, 'No account has this mobile number, or the signed-in account is gone.', 'User not found.'),
  // API keys.
  API_KEY_NOT_FOUND: entry(404, 'No API key of this user has this id.', 'API key not found.'),
  API_KEY_LIMIT_REACHED: entry(409, 'The user has as many active API keys as allowed; revoke one first.', 'At most 10 API keys at once; delete one first.'),
  // Chatrooms and messages.
  CHATROOM_NOT_FOUND: entry(404, 'No chatroom of this user has this id (someone else\'s is not found either).', 'Chatroom not found.'),
  MESSAGE_NOT_FOUND: entry(404, 'No message of this chatroom has this id, or the chatroom has no reply yet.', 'Message not found.'),
  INVALID_CURSOR: entry(400, '`cursor` is not a value this API returned for this list.', 'cursor is not a value this API returned.'),
  CHATROOM_BUSY: entry(409, 'A reply of this chatroom is still being generated; wait for it or cancel it.', 'A reply in this chatroom is still being generated; wait for it or cancel it.'),
  NOT_A_REPLY: entry(400, 'The message is a prompt where a reply is needed (to stream, cancel, regenerate or fork).', 'Only assistant replies can be streamed.'),
  PARENT_NOT_A_REPLY: entry(400, '`parentId` is not a reply of this chatroom.', 'parentId must be a reply of this chatroom (or null to start a new first prompt).'),
  REPLY_ALREADY_FINISHED: entry(409, 'The reply is completed, failed or cancelled already.', 'This reply already ended (completed).'),
  REPLY_NOT_FINISHED: entry(409, 'The reply is still queued or generating.', 'This reply is still being generated; fork once it has finished.'),
  ATTACHMENT_NOT_SUPPORTED: entry(400, 'The chatroom\'s model cannot read an attached file\'s type; choose a model that can (GET /models).', 'The model gemini-2.5-flash-lite cannot read audio/mpeg files; choose a model that can (GET /models).'),
  QUOTA_EXCEEDED: entry(429, 'The daily prompt quota of the user\'s tier is used up; it resets at midnight UTC (Retry-After).', 'Daily limit of 5 prompts reached; it resets at 2026-12-08T00:00:00.000Z.'),
  IDEMPOTENCY_KEY_IN_USE: entry(409, 'A request with this Idempotency-Key is still running; retry shortly.', 'A request with this Idempotency-Key is still being processed; retry shortly.'),
  IDEMPOTENCY_KEY_REUSED: entry(422, 'The Idempotency-Key was used before with a different request; use a new key.', 'This Idempotency-Key was used with a different request; use a new key.'),
  MODEL_UNKNOWN: entry(400, 'No model GET /models offers has this id.', 'There is no model "gemini-9-ultra"; GET /models lists them.'),
  MODEL_NOT_ALLOWED: entry(403, 'The user\'s tier may not use this model; upgrade to Pro or choose another.', 'The basic tier may not use gemini-2.5-pro; GET /models lists the models you may use.'),
  // Export and import.
  IMPORT_FORMAT_UNKNOWN: entry(400, 'The import is neither a chatroom export nor a ChatGPT conversations.json.', 'Send a chatroom export (an object with "format": "gemini-chat.chatroom") or a ChatGPT conversations.json (an array of conversations).'),
  IMPORT_INVALID: entry(400, 'The import has the right format but breaks a rule (e.g. a message whose parent is missing).', 'The import is invalid: body.messages.1.parentId names no earlier message of the file.'),
  // Search.
  SEARCH_QUERY_EMPTY: entry(400, '`q` has no words to search for.', 'q has no words to search for (only spaces, punctuation or operators).'),
  SEARCH_QUERY_ONLY_EXCLUDES: entry(400, '`q` only leaves words out (-word); add one to find.', 'q needs at least one word to find, not only words to leave out (-word).'),
  // Shares.
  SHARE_NOT_FOUND: entry(404, 'No live share has this id (never existed, or deleted).', 'Share not found.'),
  NOTHING_TO_SHARE: entry(409, 'The chatroom has no finished reply on its current branch to share.', 'The current branch has no finished message to share yet.'),
  // Files.
  FILE_NOT_FOUND: entry(404, 'No file of this user has this id.', 'File not found.'),
  FILE_TOO_LARGE: entry(413, 'The upload is over the per-file size limit.', 'Files may be at most 20971520 bytes.'),
  FILE_TYPE_MISMATCH: entry(415, 'The declared type or file name extension disagrees with the file\'s bytes.', 'The file\'s Content-Type says image/png but its bytes are application/pdf.'),
  EMPTY_FILE: entry(400, 'The uploaded file has no bytes.', 'The file is empty.'),
  PDF_TOO_MANY_PAGES: entry(422, 'The PDF has more pages than a prompt may carry.', 'The PDF has more than 100 pages (at least 101).'),
  STORAGE_QUOTA_EXCEEDED: entry(409, 'The user\'s files would exceed their storage allowance; delete some first.', 'This file would take your stored files over your plan\'s storage; delete some files first.'),
  MULTIPART_INVALID: entry(400, 'The multipart/form-data body is malformed, cut short or has too many parts.', 'The multipart body is malformed (Unexpected end of form).'),
  FILE_PART_MISSING: entry(400, 'The multipart body has no part named `file`.', 'Send the file as one multipart part named `file`.'),
  TOO_MANY_FILES: entry(400, 'More than one file part in one upload.', 'Send exactly one file per upload.'),
  RANGE_NOT_SATISFIABLE: entry(416, 'The Range header asks for bytes outside the file.', 'The file has 5120 bytes; the range asked for lies outside them.'),
  // Billing.
  BILLING_NOT_CONFIGURED: entry(503, 'This server has no Stripe configuration, so payments are off.', 'Payments are not available on this server.'),
  ALREADY_SUBSCRIBED: entry(409, 'The user is on Pro already; manage it at POST /subscription/portal.', 'You already have Pro. Manage the plan through POST /subscription/portal.'),
  NO_BILLING_ACCOUNT: entry(409, 'The user has never paid, so there is no Stripe customer to manage.', 'There is no billing account yet: subscribe first with POST /subscribe/pro.'),
  WEBHOOK_SIGNATURE_INVALID: entry(400, 'The Stripe-Signature header does not match the body (or is missing or stale).', 'The Stripe-Signature header is missing, stale, or does not match the body.'),
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/** Codes answered before any route is chosen: no operation of the spec can list them, so the spec's intro does. */
export const ROUTELESS_ERROR_CODES = ['ROUTE_NOT_FOUND', 'INVALID_PREFLIGHT'] as const satisfies readonly ErrorCode[];

export interface ReplyFailureEntry {
  /** One line: what went wrong and whether regenerating may help. */
  meaning: string;
  /** A realistic `message` for the spec's examples. */
  example: string;
}

/** The `error.code` a failed reply (a Message with status `failed`) can carry, as the worker writes it. */
export const REPLY_FAILURE_CODES = {
  MODEL_TIMEOUT: { meaning: 'The model did not answer in time, on every attempt.', example: 'The model took too long to answer.' },
  MODEL_RATE_LIMITED: { meaning: 'The model provider kept refusing for load or quota.', example: 'The model is busy; try again later.' },
  MODEL_UNAVAILABLE: { meaning: 'The model provider was unavailable on every attempt.', example: 'The model is unavailable right now.' },
  MODEL_ERROR: { meaning: 'The model provider failed with a server error on every attempt.', example: 'The model failed to answer.' },
  MODEL_AUTH_FAILED: { meaning: 'The server is not authorised to use the model (its own configuration).', example: 'The service is not authorised to use the model.' },
  MODEL_REJECTED_REQUEST: { meaning: 'The model refused the request as invalid (e.g. too long a conversation).', example: 'The model rejected the request.' },
  MODEL_CONNECTION_FAILED: { meaning: 'The connection to the model kept failing.', example: 'The connection to the model failed.' },
  MODEL_STREAM_INCOMPLETE: { meaning: 'The model\'s answer stream kept ending early.', example: 'The model stream ended early.' },
  PROMPT_BLOCKED: { meaning: 'The model\'s safety filters blocked the prompt; rephrase it.', example: 'The prompt was blocked by the model\'s safety filters.' },
  RESPONSE_BLOCKED: { meaning: 'The model stopped its answer for safety or recitation; what it wrote so far is kept.', example: 'The reply was stopped by the model\'s safety filters.' },
  ATTACHMENT_UNAVAILABLE: { meaning: 'The model could not read an attachment.', example: 'An attachment could not be read by the model.' },
  ATTACHMENT_PROCESSING_TIMEOUT: { meaning: 'Preparing an attachment for the model took too long.', example: 'Preparing an attachment took too long.' },
  ATTACHMENT_PROCESSING_FAILED: { meaning: 'An attachment could not be prepared for the model (e.g. it was deleted).', example: 'An attachment could not be prepared.' },
  WORKER_STOPPED: { meaning: 'The worker stopped while generating, on every attempt.', example: 'The worker stopped.' },
  GENERATION_FAILED: { meaning: 'The reply was given up on after its job could not run.', example: 'The reply could not be generated.' },
  SERVICE_UNAVAILABLE: { meaning: 'A backing service was briefly unavailable on every attempt.', example: 'A backing service was briefly unavailable.' },
  INTERNAL_ERROR: { meaning: 'An unexpected failure on the server.', example: 'The reply could not be generated.' },
} as const satisfies Record<string, ReplyFailureEntry>;

export type ReplyFailureCode = keyof typeof REPLY_FAILURE_CODES;

export const isReplyFailureCode = (code: string): code is ReplyFailureCode => Object.hasOwn(REPLY_FAILURE_CODES, code);

/** A stored failure code as the API states it: the column is plain text, so anything unknown reads as INTERNAL_ERROR. */
export const asReplyFailureCode = (code: string): ReplyFailureCode => (isReplyFailureCode(code) ? code : 'INTERNAL_ERROR');
