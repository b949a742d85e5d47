import { Type, type Static, type TSchema } from 'typebox';

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
    code: Type.String({ description: 'Stable UPPER_SNAKE identifier clients switch on.', examples: ['VALIDATION_FAILED'] }),
    requestId: Type.String(),
    traceId: Type.Optional(Type.String({ description: 'OpenTelemetry trace id of this request, when tracing is on.' })),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
    attemptsRemaining: Type.Optional(Type.Integer({ description: 'OTP_INVALID: wrong tries left for this code.' })),
    retryAfterSeconds: Type.Optional(Type.Integer({ description: 'Also sent as the Retry-After header.' })),
  },
  { 'x-component-name': 'Problem', additionalProperties: false, description: 'RFC 9457 problem details.' },
);
export type Problem = Static<typeof ProblemSchema>;

/** Response schemas for the given error statuses, all the problem shape. */
/** A problem response as the spec states it: RFC 9457's own media type, not plain JSON. */
const problemResponse = (status: number) => ({
  description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem details (RFC 9457).',
  content: { 'application/problem+json': { schema: ProblemSchema } },
});
type ProblemResponse = ReturnType<typeof problemResponse>;

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (VALIDATION_FAILED with `errors`, a rule such as OTP_INVALID, or BAD_REQUEST for malformed HTTP or URL).',
  401: 'Missing, invalid or expired credentials (UNAUTHORIZED, TOKEN_EXPIRED, SESSION_REVOKED, ...).',
  403: 'Not allowed.',
  404: 'Not found — also for someone else\'s resource.',
  409: 'Conflicts with the current state (e.g. CHATROOM_BUSY, MOBILE_NUMBER_TAKEN).',
  413: 'Body too large (PAYLOAD_TOO_LARGE).',
  415: 'Body not sent as `application/json` (UNSUPPORTED_MEDIA_TYPE).',
  422: 'Idempotency-Key reused with a different request.',
  429: 'Too many requests (RATE_LIMITED, QUOTA_EXCEEDED, OTP_*): see Retry-After.',
  431: 'Request line and headers over 16 kB together (HEADERS_TOO_LARGE); the connection is closed.',
  500: 'Unexpected error (INTERNAL_ERROR); quote requestId.',
  503: 'A dependency is unavailable (SERVICE_UNAVAILABLE); see Retry-After.',
};

export function problems<const S extends number>(...statuses: S[]): Record<S, ProblemResponse> {
  return Object.fromEntries(statuses.map((s) => [s, problemResponse(s)])) as Record<S, ProblemResponse>;
}

/** Any request can be refused before it reaches a route: malformed HTTP or URL (400), headers over 16 kB (431). */
export const transportProblems = problems(400, 431);
/** Every API route can answer these: malformed/invalid request, rate or dependency trouble. */
export const commonProblems = { ...transportProblems, ...problems(429, 500, 503) };
/** ... and protected routes add 401. */
export const protectedProblems = { ...commonProblems, ...problems(401) };
/** ... and routes that take a JSON body: the body parser's answers, before the route runs. */
export const bodyProblems = problems(413, 415);

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

export const NoContentSchema = Type.Null({ description: 'No content' });
