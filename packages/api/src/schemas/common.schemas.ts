import { STATUS_CODES } from 'node:http';
import { Type, type Static, type TSchema } from 'typebox';
import { ERROR_CODES, REPLY_FAILURE_CODES, type ErrorCode, type ReplyFailureCode } from '@gemini-chat/shared';
import { problemTypeOf } from '../lib/problem-type.js';

// Shared wire shapes. A schema with an $id becomes a named component in openapi.json (see swagger.plugin.ts).

export const FieldErrorSchema = Type.Object(
  {
    in: Type.Union([Type.Literal('body'), Type.Literal('query'), Type.Literal('params'), Type.Literal('headers')]),
    field: Type.String({ description: 'Dotted path of the offending field ("" for the whole part).' }),
    message: Type.String(),
  },
  { 'x-component-name': 'FieldError', additionalProperties: false },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI identifying the problem type.' }),
    title: Type.String({ description: 'Short summary: the HTTP status text.' }),
    status: Type.Integer(),
    detail: Type.String({ description: 'Human-readable explanation of this occurrence.' }),
    code: Type.Unsafe<ErrorCode>({
      type: 'string',
      enum: Object.keys(ERROR_CODES),
      description: 'Stable UPPER_SNAKE identifier clients switch on: one of a closed list (each operation states the ones it answers).',
      examples: ['VALIDATION_FAILED'],
    }),
    requestId: Type.String(),
    traceId: Type.Optional(Type.String({ description: 'OpenTelemetry trace id of this request, when tracing is on and this request was sampled.' })),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
    attemptsRemaining: Type.Optional(Type.Integer({ description: 'OTP_INVALID: wrong tries left for this code.' })),
    retryAfterSeconds: Type.Optional(Type.Integer({ description: 'Also sent as the Retry-After header.' })),
  },
  { 'x-component-name': 'Problem', additionalProperties: false, description: 'RFC 9457 problem details.' },
);
export type Problem = Static<typeof ProblemSchema>;

/**
 * A success response with a name in the docs ("The created chatroom") instead of Swagger's "Default Response".
 * @fastify/swagger reads and then drops the marker, so the named component stays as it is.
 */
export const described = <T extends TSchema>(description: string, schema: T): T => ({ ...schema, 'x-response-description': description });

// Error responses are stated by code, not by status: a route lists the codes it can answer (with the sets below for
// what every route, every protected route and every JSON body can answer), and `errorCodes` groups them by status
// with a description listing them and one example problem document per code.

/** Any request, refused before the route runs or failing around it. */
export const COMMON_CODES = ['BAD_REQUEST', 'REQUEST_TIMEOUT', 'HEADERS_TOO_LARGE', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE'] as const satisfies readonly ErrorCode[];
/** A route without authentication: only an API key is refused (no route takes one unless it says so). */
export const PUBLIC_CODES = [...COMMON_CODES, 'API_KEY_NOT_ALLOWED'] as const satisfies readonly ErrorCode[];
const TOKEN_FAILURES = ['UNAUTHORIZED', 'TOKEN_EXPIRED', 'SESSION_REVOKED'] as const satisfies readonly ErrorCode[];
/** A route that takes only an access token. */
export const TOKEN_CODES = [...COMMON_CODES, ...TOKEN_FAILURES, 'API_KEY_NOT_ALLOWED'] as const satisfies readonly ErrorCode[];
/** A route that takes an access token or an API key (each key has a per-minute budget of its own). */
export const TOKEN_OR_KEY_CODES = [...COMMON_CODES, ...TOKEN_FAILURES, 'INVALID_API_KEY', 'RATE_LIMITED'] as const satisfies readonly ErrorCode[];
/** A route with a JSON body: the body parser's answers and the body's validation. */
export const JSON_BODY_CODES = ['INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED'] as const satisfies readonly ErrorCode[];

/** Members beyond the core a realistic problem of this code carries. */
const EXAMPLE_MEMBERS: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  VALIDATION_FAILED: { errors: [{ in: 'body', field: 'mobileNumber', message: 'is required' }] },
  IMPORT_INVALID: { errors: [{ in: 'body', field: 'messages.1.parentId', message: 'names no earlier message of the file' }] },
  IMPORT_FORMAT_UNKNOWN: { errors: [{ in: 'body', field: '', message: 'is neither a chatroom export nor a ChatGPT conversations.json' }] },
  INVALID_CURSOR: { errors: [{ in: 'query', field: 'cursor', message: 'is not a value this API returned' }] },
  SEARCH_QUERY_EMPTY: { errors: [{ in: 'query', field: 'q', message: 'q has no words to search for (only spaces, punctuation or operators).' }] },
  SEARCH_QUERY_ONLY_EXCLUDES: { errors: [{ in: 'query', field: 'q', message: 'q needs at least one word to find, not only words to leave out (-word).' }] },
  CURRENT_PASSWORD_REQUIRED: { errors: [{ in: 'body', field: 'currentPassword', message: 'is required' }] },
  CURRENT_PASSWORD_INCORRECT: { errors: [{ in: 'body', field: 'currentPassword', message: 'is incorrect' }] },
  OTP_INVALID: { attemptsRemaining: 4 },
  RATE_LIMITED: { retryAfterSeconds: 42 },
  QUOTA_EXCEEDED: { retryAfterSeconds: 30_600 },
  OTP_LOCKED: { retryAfterSeconds: 240 },
  OTP_RESEND_TOO_SOON: { retryAfterSeconds: 27 },
  OTP_SEND_LIMIT: { retryAfterSeconds: 1_800 },
  SERVICE_UNAVAILABLE: { retryAfterSeconds: 5 },
};

/** The example problem document of a code, as the errors plugin would send it. */
export function exampleProblem(code: ErrorCode): Problem {
  const { status, example } = ERROR_CODES[code];
  return {
    type: problemTypeOf(code),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: example,
    code,
    requestId: '5f0c6a52-1b7e-4a43-9d0e-8f2f3c1d9a77',
    ...EXAMPLE_MEMBERS[code],
  };
}

type ProblemResponse = {
  description: string;
  content: { 'application/problem+json': { schema: typeof ProblemSchema; examples: Record<string, { summary: string; value: Problem }> } };
};

/** The error responses of a route, by status, from the codes it can answer (single codes or the sets above). */
export function errorCodes(...codes: (ErrorCode | readonly ErrorCode[])[]): Record<number, ProblemResponse> {
  const byStatus = new Map<number, Set<ErrorCode>>();
  for (const code of codes.flat()) {
    const { status } = ERROR_CODES[code];
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  }
  const responses: Record<number, ProblemResponse> = {};
  for (const [status, set] of [...byStatus].sort(([a], [b]) => a - b)) {
    const listed = [...set].sort();
    responses[status] = {
      description: listed.map((code) => `\`${code}\`: ${ERROR_CODES[code].meaning}`).join('\n\n'),
      content: {
        'application/problem+json': {
          schema: ProblemSchema,
          examples: Object.fromEntries(listed.map((code) => [code, { summary: ERROR_CODES[code].meaning, value: exampleProblem(code) }])),
        },
      },
    };
  }
  return responses;
}

export const Uuid = (description?: string) => Type.String({ format: 'uuid', ...(description ? { description } : {}) });
export const Timestamp = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const PageQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size (max 100).' })),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'nextCursor of the previous page.' })),
  },
  { additionalProperties: false },
);

/** The code a failed reply ends with (`error.code` of a Message whose status is failed): a closed list. */
export const ReplyFailureCodeSchema = Type.Unsafe<ReplyFailureCode>({
  type: 'string',
  enum: Object.keys(REPLY_FAILURE_CODES),
  description:
    'Why the reply failed. ' +
    Object.entries(REPLY_FAILURE_CODES)
      .map(([code, { meaning }]) => `${code}: ${meaning}`)
      .join(' '),
});

export const NoContentSchema = Type.Null({ description: 'No content' });
