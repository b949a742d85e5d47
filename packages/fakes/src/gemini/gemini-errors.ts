import type { ApiVersion, GoogleRpcErrorBody } from './wire.types.js';

// Google's RPC error bodies as the Gemini API sends them: `{"error":{code,message,status,details?}}`,
// pretty-printed with two spaces (as the real service does), `Content-Type: application/json; charset=UTF-8`,
// and no Retry-After header: the retry hint lives only in a google.rpc.RetryInfo detail.

const RPC_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function rpcStatusFor(code: number): string {
  return RPC_STATUS[code] ?? (code >= 500 ? 'UNKNOWN' : 'FAILED_PRECONDITION');
}

export interface ErrorContext {
  model?: string | undefined;
  apiVersion?: ApiVersion | undefined;
}

export const DEFAULT_RETRY_DELAY_SECONDS = 1;

// Durations in google.rpc.RetryInfo are protobuf Duration JSON: seconds with an "s" suffix ("47s", "0.5s").
export function formatRetryDelay(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}

function defaultMessage(code: number, ctx: ErrorContext, retryDelaySeconds: number): string {
  switch (code) {
    case 400:
      return 'Request contains an invalid argument.';
    case 403:
      return 'The caller does not have permission';
    case 404:
      // The real text, which says generateContent even when streamGenerateContent was called.
      return `models/${ctx.model ?? 'unknown'} is not found for API version ${ctx.apiVersion ?? 'v1beta'}, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`;
    case 429:
      return `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. Please retry in ${formatRetryDelay(retryDelaySeconds)}.`;
    case 500:
      return 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting';
    case 503:
      return 'The model is overloaded. Please try again later.';
    case 504:
      return 'Deadline expired before operation could complete.';
    default:
      return `The request failed with status ${code}.`;
  }
}

// The details a real 429 carries (QuotaFailure, Help, RetryInfo), so retry code can be tested against them.
function quotaDetails(ctx: ErrorContext, retryDelaySeconds: number): Record<string, unknown>[] {
  return [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          quotaDimensions: { location: 'global', model: ctx.model ?? 'unknown' },
        },
      ],
    },
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
    },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: formatRetryDelay(retryDelaySeconds) },
  ];
}

export interface GoogleErrorOptions extends ErrorContext {
  message?: string | undefined;
  // The RPC status when the HTTP code alone does not say it (e.g. 400 FAILED_PRECONDITION, 409 ALREADY_EXISTS).
  status?: string | undefined;
  retryDelaySeconds?: number | undefined;
  details?: Record<string, unknown>[] | undefined;
}

export function googleError(code: number, options: GoogleErrorOptions = {}): GoogleRpcErrorBody {
  const retryDelaySeconds = options.retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS;
  const details = options.details ?? (code === 429 ? quotaDetails(options, retryDelaySeconds) : undefined);
  return {
    error: {
      code,
      message: options.message ?? defaultMessage(code, options, retryDelaySeconds),
      status: options.status ?? rpcStatusFor(code),
      ...(details ? { details } : {}),
    },
  };
}

// What Google answers when no key was presented at all (403), versus a key it does not accept (400).
export const missingApiKeyError = (): GoogleRpcErrorBody =>
  googleError(403, {
    message:
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  });

export const invalidApiKeyError = (): GoogleRpcErrorBody =>
  googleError(400, {
    message: 'API key not valid. Please pass a valid API key.',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
      { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
    ],
  });

export const unknownRouteError = (): GoogleRpcErrorBody =>
  googleError(404, { message: 'Requested entity was not found.' });

// Google's answer for a Files API id that does not exist, was deleted or has expired, on files.get/delete and on
// a generation whose fileData names it.
export const fileNotFoundError = (id: string): GoogleRpcErrorBody =>
  googleError(403, { message: `You do not have permission to access the File ${id} or it may not exist.` });
