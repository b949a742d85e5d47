import { STATUS_CODES } from 'node:http';
import type { OperationInfo } from './operation-index.js';
import type { PmEvent, PmItem, PmRequest, PmResponse } from './postman.types.js';
import type { Scenario } from './scenarios.js';
import type { ExampleBuilder } from './schema-example.js';
import { json } from './source-text.js';
import { stableId } from './stable-id.js';
import { genericTest } from './test-snippets.js';
import { PATH_VARIABLES, PREFIX_PATH_VARIABLES } from './variables.js';

// Turns one converted request into a request of the run: what it sends, the examples saved with it and its
// scripts. Without a scenario (an operation nobody wrote one for) it still sends a schema-built body and gets the
// generic test. The steps run in this order because the saved examples copy the finished request.

export function applyScenario(item: PmItem, info: OperationInfo, scenario: Scenario | undefined, example: ExampleBuilder): void {
  const request = item.request as PmRequest;
  const key = scenario?.key ?? info.opKey;
  item.id = stableId(`request:${key}`);
  if (scenario?.name) item.name = scenario.name;
  request.name = item.name;
  fillRequest(request, info, scenario, example);
  item.response = savedResponses(item.response ?? [], request, info, scenario, key, example);
  item.event = scriptEvents(info, scenario, key);
}

export function descriptionText(description: PmRequest['description']): string {
  if (!description) return '';
  return typeof description === 'string' ? description : description.content;
}

function fillRequest(request: PmRequest, info: OperationInfo, scenario: Scenario | undefined, example: ExampleBuilder): void {
  // Path variables from the run's state; query parameters and headers enabled as the scenario says.
  for (const variable of request.url.variable ?? []) {
    const own = Object.entries(PREFIX_PATH_VARIABLES).find(([prefix]) => info.path.startsWith(prefix))?.[1][variable.key];
    const fill = own ?? PATH_VARIABLES[variable.key];
    if (fill && (own || info.path.startsWith('/chatroom') || variable.key !== 'id')) variable.value = fill;
  }
  for (const [name, value] of Object.entries(scenario?.query ?? {})) {
    const param = request.url.query?.find((q) => q.key === name);
    if (param) Object.assign(param, { value, disabled: false });
    else (request.url.query ??= []).push({ key: name, value });
  }
  const headers = (request.header ??= []);
  for (const [name, value] of Object.entries(scenario?.headers ?? {})) {
    const header = headers.find((h) => h.key.toLowerCase() === name.toLowerCase());
    if (header) Object.assign(header, { value, disabled: false });
    else headers.push({ key: name, value });
  }
  // Bodies: the scenario's, or one built from the schema for routes without a scenario.
  const bodySchema = info.operation.requestBody?.content?.['application/json']?.schema;
  const body = scenario?.body ?? (bodySchema ? example(bodySchema, 'body') : undefined);
  if (scenario?.formdata) request.body = { mode: 'formdata', formdata: scenario.formdata.map((part) => ({ ...part, type: 'file' })) };
  else if (scenario?.rawBody !== undefined) request.body = { mode: 'raw', raw: scenario.rawBody, options: { raw: { language: 'json' } } };
  else if (body !== undefined) request.body = { mode: 'raw', raw: json(body), options: { raw: { language: 'json' } } };
  else delete request.body;
  if (!request.body) request.header = headers.filter((h) => h.key.toLowerCase() !== 'content-type');
  // Public routes send no token; protected ones inherit the collection's bearer auth.
  if (info.isPublic) request.auth = { type: 'noauth' };
  else if (scenario?.bearer) request.auth = { type: 'bearer', bearer: [{ key: 'token', value: scenario.bearer, type: 'string' }] };
  else delete request.auth;
  request.url.raw = `{{baseUrl}}/${(request.url.path ?? []).join('/')}`;

  const notes = [descriptionText(request.description), scenario?.note ? `**In this collection:** ${scenario.note}` : '']
    .filter(Boolean)
    .join('\n\n');
  request.description = { content: notes, type: 'text/markdown' };
}

/** The saved examples: the success answers and the one this request expects, with bodies built from the schemas. */
function savedResponses(
  converted: PmResponse[],
  request: PmRequest,
  info: OperationInfo,
  scenario: Scenario | undefined,
  key: string,
  example: ExampleBuilder,
): PmResponse[] {
  const responses = info.operation.responses ?? {};
  return (
    converted
      // An extra request made to show one answer (a 404, a 401...) keeps only that one.
      .filter((r) => (scenario?.key ? r.code === scenario.expect : (r.code >= 200 && r.code < 400) || r.code === scenario?.expect))
      .filter((r, index, all) => all.findIndex((o) => o.code === r.code) === index)
      .map((response) => {
        const spec = responses[String(response.code)];
        const [contentType, media] = Object.entries(spec?.content ?? {})[0] ?? [];
        const schemaBody = media?.schema ? example(media.schema, `${key}:${response.code}`) : undefined;
        // A problem example shows the problem this request expects, shaped as the API sends it.
        const problem = response.code === scenario?.expect ? scenario.problem : undefined;
        const body = problem ? problemBody(response.code, problem) : schemaBody;
        return {
          id: stableId(`response:${key}:${response.code}`),
          name: `${response.code} ${STATUS_CODES[response.code] ?? ''}`.trim(),
          originalRequest: { ...structuredClone(request), name: undefined, description: undefined },
          status: STATUS_CODES[response.code] ?? '',
          code: response.code,
          header: contentType ? [{ key: 'Content-Type', value: contentType }] : [],
          body: body === undefined ? '' : typeof body === 'string' ? body : json(body),
          cookie: [],
          _postman_previewlanguage: contentType?.includes('json') ? 'json' : 'text',
        } satisfies PmResponse;
      })
  );
}

function problemBody(status: number, problem: NonNullable<Scenario['problem']>) {
  return {
    type: `urn:gemini-chat:problem:${problem.code.toLowerCase().replace(/_/g, '-')}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: problem.detail,
    code: problem.code,
    requestId: 'req-1',
  };
}

function scriptEvents(info: OperationInfo, scenario: Scenario | undefined, key: string): PmEvent[] {
  const documented = Object.keys(info.operation.responses ?? {}).map(Number).filter(Number.isInteger);
  const test = scenario ? scenario.test : genericTest(documented);
  return [
    ...(scenario?.prerequest
      ? [{ listen: 'prerequest' as const, script: { id: stableId(`prerequest:${key}`), type: 'text/javascript', exec: scenario.prerequest.split('\n') } }]
      : []),
    { listen: 'test', script: { id: stableId(`test:${key}`), type: 'text/javascript', exec: test.split('\n') } },
  ];
}
