// The fake Gemini's model catalog, through the real @google/genai SDK: models.list (paged), models.get, and
// Google's 404 for generation on a model it does not serve.
import { GoogleGenAI, type Model } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_CATALOG, DEFAULT_MODELS, startFakeGemini, type WireModel } from '../src/gemini/index.js';
import { apiErrorOf, bodyOf, KEY, rejectionOf, useFakeGemini } from './gemini-sdk-helpers.js';


const gemini = useFakeGemini();

const getJson = async (path: string) => {
  const res = await fetch(`${gemini.fake.url}${path}`, { headers: { 'x-goog-api-key': KEY } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('models.list and models.get', () => {
  it('lists a flash model with thinking, a lite model without, a pro model and the aliases, page by page', async () => {
    const listed: Model[] = [];
    for await (const model of await gemini.ai.models.list({ config: { pageSize: 3 } })) listed.push(model);

    expect(listed.map((m) => m.name)).toEqual(DEFAULT_MODELS.map((id) => `models/${id}`));
    expect(gemini.fake.requests.map((r) => r.query)).toEqual([
      { pageSize: '3' },
      ...Array.from({ length: Math.ceil(DEFAULT_MODELS.length / 3) - 1 }, () => ({ pageSize: '3', pageToken: expect.any(String) as string })),
    ]);
    const byName = new Map(listed.map((m) => [m.name, m]));
    expect(byName.get('models/gemini-3.8-flash')).toMatchObject({
      displayName: 'Gemini 3.8 Flash',
      thinking: true,
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
      temperature: 1,
      maxTemperature: 2,
      topP: 0.95,
      topK: 64,
    });
    // The SDK renames supportedGenerationMethods.
    expect(byName.get('models/gemini-3.8-flash')?.supportedActions).toContain('generateContent');
    expect(byName.get('models/gemini-2.0-flash')?.thinking).toBeUndefined();
    expect(byName.get('models/gemini-3.1-pro-preview')?.thinking).toBe(true);
    expect(byName.has('models/gemini-flash-latest')).toBe(true);
  });

  it('answers the REST shape: pageSize defaults to 50, baseModelId and supportedGenerationMethods, no thinking:false', async () => {
    const all = await getJson('/v1beta/models');
    expect(all.status).toBe(200);
    expect(all.body.nextPageToken).toBeUndefined();
    const models = all.body.models as WireModel[];
    expect(models).toHaveLength(DEFAULT_MODEL_CATALOG.length);
    expect(models[0]).toEqual({
      name: 'models/gemini-3.8-flash',
      baseModelId: 'gemini-3.8-flash',
      version: '001',
      displayName: 'Gemini 3.8 Flash',
      description: expect.any(String) as string,
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
      supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
      temperature: 1,
      topP: 0.95,
      topK: 64,
      maxTemperature: 2,
      thinking: true,
    });
    expect(Object.keys(models.find((m) => m.name === 'models/gemini-2.0-flash')!)).not.toContain('thinking');

    const first = await getJson('/v1/models?pageSize=2');
    expect((first.body.models as WireModel[]).map((m) => m.name)).toEqual(['models/gemini-3.8-flash', 'models/gemini-3.7-flash']);
    const second = await getJson(`/v1/models?pageSize=2&pageToken=${String(first.body.nextPageToken)}`);
    expect((second.body.models as WireModel[])[0]?.name).toBe(`models/${DEFAULT_MODELS[2]}`);
  });

  it('gets one model, an alias pointing at its base model, and 404 NOT_FOUND for an unknown id', async () => {
    const latest = await gemini.ai.models.get({ model: 'gemini-flash-latest' });
    expect(latest).toMatchObject({ name: 'models/gemini-flash-latest', thinking: true });
    expect((await getJson('/v1beta/models/gemini-flash-latest')).body.baseModelId).toBe('gemini-3.8-flash');
    expect((await gemini.ai.models.get({ model: 'models/gemini-2.0-flash' })).thinking).toBeUndefined();

    const error = await apiErrorOf(gemini.ai.models.get({ model: 'gemini-0.9-nano' }));
    expect(error.status).toBe(404);
    expect(bodyOf(error).error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
  });
});

describe('generation on an unknown model', () => {
  it("answers Google's 404 NOT_FOUND body, unary and streamed, and serves every listed model and alias", async () => {
    const unary = await apiErrorOf(gemini.ai.models.generateContent({ model: 'gemini-1.0-pro', contents: 'hi' }));
    expect(unary.status).toBe(404);
    expect(bodyOf(unary).error).toEqual({
      code: 404,
      status: 'NOT_FOUND',
      message:
        'models/gemini-1.0-pro is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
    });
    const streamed = await rejectionOf(gemini.ai.models.generateContentStream({ model: 'gemini-1.0-pro', contents: 'hi' }));
    expect(streamed).toMatchObject({ status: 404 });

    for (const model of DEFAULT_MODELS) {
      expect((await gemini.ai.models.generateContent({ model, contents: 'hi' })).modelVersion).toBe(model);
    }
    expect(gemini.fake.requests.at(-1)).toMatchObject({ model: DEFAULT_MODELS.at(-1), status: 200 });
  });

  it('serves any id when rejectUnknownModels is false, and lists the models it was given', async () => {
    const lenient = await startFakeGemini({ rejectUnknownModels: false, models: ['gemini-3.8-flash', 'my-tuned-model'] });
    try {
      const client = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: lenient.url } });
      expect((await client.models.generateContent({ model: 'anything-goes', contents: 'hi' })).text).toContain('You said: "hi"');
      const names: string[] = [];
      for await (const model of await client.models.list()) names.push(model.name ?? '');
      expect(names).toEqual(['models/gemini-3.8-flash', 'models/my-tuned-model']);
    } finally {
      await lenient.close();
    }
  });
});
