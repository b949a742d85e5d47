// Stripe's v1 API takes `application/x-www-form-urlencoded` bodies with Rack-style bracket keys
// (`metadata[plan]=pro`, `line_items[0][price]=price_x`, `expand[]=customer`). This turns them back into the
// nested structure the caller passed to the SDK, so handlers and recorded requests read naturally.

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

// Keys that would reach Object.prototype if used as plain property names.
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses a form body or query string (without the leading `?`). Later duplicates of a scalar key win. */
export function parseForm(input: string): FormObject {
  const root: FormObject = {};
  if (!input) return root;
  for (const pair of input.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    const path = splitKey(key);
    if (!path || path.some((segment) => UNSAFE_KEYS.has(segment))) continue;
    assign(root, path, value);
  }
  return arraysFromIndexes(root, null) as FormObject;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text; // a stray `%` is kept literally rather than failing the whole request
  }
}

/** `a[b][0][]` → ['a', 'b', '0', '']; null when the brackets are malformed. */
function splitKey(key: string): string[] | null {
  const open = key.indexOf('[');
  if (open === -1) return key ? [key] : null;
  const head = key.slice(0, open);
  if (!head) return null;
  const segments = [head];
  const rest = key.slice(open);
  const re = /\[([^[\]]*)\]/g;
  let consumed = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    if (m.index !== consumed) return null;
    segments.push(m[1] ?? '');
    consumed = m.index + m[0].length;
  }
  return consumed === rest.length ? segments : null;
}

// Everything is built as objects first; `[]` appends at the next free index.
function assign(target: FormObject, path: string[], value: string): void {
  let node = target;
  for (let i = 0; i < path.length; i++) {
    let segment = path[i] ?? '';
    if (segment === '') segment = String(Object.keys(node).length);
    if (i === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (typeof next === 'object' && !Array.isArray(next)) {
      node = next;
    } else {
      const created: FormObject = {};
      node[segment] = created;
      node = created;
    }
  }
}

// `{ "0": …, "1": … }` becomes an array, as Stripe reads `line_items[0][price]`. Metadata stays a map even
// when its keys happen to be digits, because metadata keys are free-form strings.
function arraysFromIndexes(value: FormValue, parentKey: string | null): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const key of keys) converted[key] = arraysFromIndexes(value[key] as FormValue, key);
  const isList = parentKey !== 'metadata' && keys.length > 0 && keys.every((key, i) => key === String(i));
  return isList ? keys.map((key) => converted[key] as FormValue) : converted;
}
