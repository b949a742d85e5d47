import { applyScenario, descriptionText } from './apply-scenario.js';
import { convert } from './converter.js';
import { FINISH_FOLDER, FINISH_FOLDER_DESCRIPTION, FOLDER_ORDER } from './folders.js';
import type { Spec } from './openapi.types.js';
import { operationIndex, routeOf, type OperationInfo } from './operation-index.js';
import type { PmCollection, PmEnvironment, PmItem, PmRequest } from './postman.types.js';
import { SCENARIOS } from './scenarios.js';
import { makeExample, type ExampleBuilder } from './schema-example.js';
import { stableId } from './stable-id.js';
import { COLLECTION_TEST } from './test-snippets.js';
import { DEFAULT_BASE_URL, VARIABLES } from './variables.js';

export interface BuiltCollection {
  collection: PmCollection;
  environment: PmEnvironment;
  /** Operations no scenario covers (they get the generic test), as "METHOD /path (opKey)". */
  unscripted: string[];
  /** Scenarios whose operation is not in the spec (skipped). */
  missing: string[];
}

/** A converted request item and the folder it goes in. */
interface Source {
  item: PmItem;
  folder: string;
}

/** The runnable collection for a spec: a request per scenario, then one for each operation no scenario covers. */
export async function buildCollection(spec: Spec): Promise<BuiltCollection> {
  const converted = await convert(spec);
  const index = operationIndex(spec);
  const { folders, unscripted, missing } = placeRequests(requestSources(converted, index), index, makeExample(spec));

  const collection: PmCollection = {
    info: {
      _postman_id: stableId('collection'),
      name: spec.info.title,
      description: { content: collectionDescription(converted), type: 'text/markdown' },
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    item: orderedFolders(converted, folders),
    event: [{ listen: 'test', script: { id: stableId('collection:test'), type: 'text/javascript', exec: COLLECTION_TEST.split('\n') } }],
    variable: VARIABLES.map((v) => ({ key: v.key, value: v.value, type: 'string', description: v.description })),
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{accessToken}}', type: 'string' }] },
  };
  const environment: PmEnvironment = {
    id: stableId('environment:local'),
    name: `${spec.info.title} (local)`,
    values: [{ key: 'baseUrl', value: DEFAULT_BASE_URL, type: 'default', enabled: true }],
    _postman_variable_scope: 'environment',
  };
  return { collection, environment, unscripted, missing };
}

/** The converter's request items, by operation. */
function requestSources(converted: PmCollection, index: Map<string, OperationInfo>): Map<string, Source> {
  const sources = new Map<string, Source>();
  for (const { item, folder } of flatten(converted.item, undefined)) {
    const info = index.get(routeOf(item.request as PmRequest));
    if (!info) throw new Error(`converted request ${routeOf(item.request as PmRequest)} matches no operation in openapi.json`);
    sources.set(info.opKey, { item, folder: folder ?? info.operation.tags?.[0] ?? 'Other' });
  }
  return sources;
}

/** Every request item of the converted collection (folders flattened), with the folder it came from. */
function flatten(items: PmItem[], folder: string | undefined, out: Array<{ item: PmItem; folder: string | undefined }> = []) {
  for (const item of items) {
    if (item.request) out.push({ item, folder });
    else if (item.item) flatten(item.item, item.name, out);
  }
  return out;
}

/** The requests of each folder in run order: the scenarios first, then every operation no scenario covers. */
function placeRequests(sources: Map<string, Source>, index: Map<string, OperationInfo>, example: ExampleBuilder) {
  const infoByKey = new Map([...index.values()].map((info) => [info.opKey, info]));
  const folders = new Map<string, PmItem[]>();
  const folderOf = (name: string) => {
    let items = folders.get(name);
    if (!items) folders.set(name, (items = []));
    return items;
  };
  const missing: string[] = [];
  const covered = new Set<string>();
  for (const scenario of SCENARIOS) {
    const source = sources.get(scenario.op);
    const info = infoByKey.get(scenario.op);
    if (!source || !info) {
      missing.push(scenario.key ?? scenario.op);
      continue;
    }
    covered.add(scenario.op);
    const item = structuredClone(source.item);
    applyScenario(item, info, scenario, example);
    folderOf(scenario.folder ?? source.folder).push(item);
  }
  const unscripted: string[] = [];
  const lateDeletes: PmItem[] = [];
  for (const [opKey, source] of sources) {
    if (covered.has(opKey)) continue;
    const info = infoByKey.get(opKey) as OperationInfo;
    unscripted.push(`${info.method} ${info.path} (${opKey})`);
    const item = structuredClone(source.item);
    applyScenario(item, info, undefined, example);
    // A DELETE nobody wrote a scenario for could remove what later requests need (the account, say): run it last.
    if (info.method === 'DELETE') lateDeletes.push(item);
    else folderOf(source.folder).push(item);
  }
  if (lateDeletes.length > 0) folderOf(FINISH_FOLDER).push(...lateDeletes);
  return { folders, unscripted, missing };
}

/** The folders in run order (FOLDER_ORDER, other tags, the finish folder), with the spec's tag descriptions. */
function orderedFolders(converted: PmCollection, folders: Map<string, PmItem[]>): PmItem[] {
  const descriptions = new Map(
    converted.item.filter((i) => i.item).map((i) => [i.name, descriptionText(i.description as PmRequest['description'])]),
  );
  descriptions.set(FINISH_FOLDER, FINISH_FOLDER_DESCRIPTION);
  const order = [
    ...FOLDER_ORDER.filter((name) => folders.has(name)),
    ...[...folders.keys()].filter((name) => !FOLDER_ORDER.includes(name) && name !== FINISH_FOLDER),
    ...(folders.has(FINISH_FOLDER) ? [FINISH_FOLDER] : []),
  ];
  return order.map((name) => ({
    id: stableId(`folder:${name}`),
    name,
    description: { content: descriptions.get(name) ?? '', type: 'text/plain' },
    item: folders.get(name) ?? [],
  }));
}

function collectionDescription(converted: PmCollection): string {
  return [
    descriptionText(converted.info.description as PmRequest['description']),
    'Generated from `openapi.json` by `scripts/gen-postman.ts`: do not edit by hand, regenerate.',
    'Run the whole collection in order (Postman\'s Collection Runner or `newman`): **Auth** signs up a fresh number, ' +
      'reads the OTP from the response (the API must run with `OTP_DELIVERY=response`, the default outside production) ' +
      'and stores the tokens in collection variables; every other request uses them through the collection\'s bearer ' +
      'auth (`{{accessToken}}`). The last folder deletes what the run created, resets the password, logs out and ' +
      'finally deletes the account.',
    'Set `baseUrl` (default `' + DEFAULT_BASE_URL + '`). Keep the other variables out of environments: an environment ' +
      'value would shadow the collection variables the scripts write.',
  ]
    .filter(Boolean)
    .join('\n\n');
}
