// Text the generator writes into the collection: request scripts and pretty-printed JSON.

/**
 * Script source (a tagged template): a multi-line value is indented like the line it is placed on, then the
 * common indentation is removed, so generated scripts read as they are written in the source.
 */
export function js(strings: TemplateStringsArray, ...values: unknown[]): string {
  let source = strings[0] ?? '';
  values.forEach((value, i) => {
    const indent = source.slice(source.lastIndexOf('\n') + 1).match(/^ */)?.[0] ?? '';
    source += String(value).split('\n').join(`\n${indent}`) + (strings[i + 1] ?? '');
  });
  const lines = source.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent).trimEnd()).join('\n');
}

export const json = (value: unknown) => JSON.stringify(value, null, 2);
