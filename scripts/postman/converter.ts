import { createRequire } from 'node:module';
import type { Spec } from './openapi.types.js';
import type { PmCollection } from './postman.types.js';

// The maintained converter (openapi-to-postmanv2) builds the folders, URLs, parameters and descriptions from the
// spec; everything after that is the generator's.

interface ConversionResult {
  result: boolean;
  reason?: string;
  output?: Array<{ type: string; data: PmCollection }>;
}
interface Converter {
  convert(
    input: { type: 'json'; data: unknown },
    options: Record<string, unknown>,
    callback: (err: Error | null, result: ConversionResult) => void,
  ): void;
}

/** The converter fakes values with Math.random: seed it so nothing it produces varies between runs. */
function seedMathRandom(seed: number): () => void {
  const original = Math.random;
  let state = seed >>> 0;
  Math.random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    Math.random = original;
  };
}

/** The spec as a Postman collection; the same spec gives the same collection on every run. */
export async function convert(spec: Spec): Promise<PmCollection> {
  const require = createRequire(import.meta.url);
  const restore = seedMathRandom(0x5eed);
  try {
    const converter = require('openapi-to-postmanv2') as Converter;
    const result = await new Promise<ConversionResult>((resolve, reject) =>
      converter.convert(
        { type: 'json', data: structuredClone(spec) },
        {
          folderStrategy: 'Tags',
          parametersResolution: 'Example',
          requestNameSource: 'Fallback',
          alwaysInheritAuthentication: true,
          includeAuthInfoInExample: false,
          enableOptionalParameters: false,
          indentCharacter: ' ',
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
    const collection = result.output?.find((o) => o.type === 'collection')?.data;
    if (!result.result || !collection) throw new Error(`openapi-to-postmanv2 failed: ${result.reason ?? 'no collection'}`);
    return collection;
  } finally {
    restore();
  }
}
