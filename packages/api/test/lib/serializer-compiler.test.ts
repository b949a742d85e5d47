import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildSerializerPerSchema } from '../../src/lib/serializer-compiler.js';

const Item = { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } }, required: ['id'] };
const route = (schema: object, httpStatus = '200') => ({ schema, method: 'GET', url: '/x', httpStatus });

describe('buildSerializerPerSchema', () => {
  it('builds one serializer per schema object, whatever the route, status or content type', () => {
    const compile = buildSerializerPerSchema({}, {});
    const first = compile(route(Item));
    expect(compile({ ...route(Item, '404'), url: '/y', method: 'HEAD' })).toBe(first);
    // An equal but distinct object is a schema of its own.
    expect(compile(route({ ...Item }))).not.toBe(first);
    // Each factory (Fastify makes one per set of shared schemas) has its own.
    expect(buildSerializerPerSchema({}, {})(route(Item))).not.toBe(first);
  });

  it('serializes as fast-json-stringify does: only the schema\'s properties, in their types', async () => {
    const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: buildSerializerPerSchema } } });
    const schema = { response: { 200: Item, 404: Item } };
    app.get('/a', { schema }, async () => ({ id: 'a', n: '7', secret: 'x' }));
    app.get('/b', { schema }, async (_request, reply) => reply.code(404).send({ id: 'b', extra: true }));
    expect((await app.inject('/a')).body).toBe('{"id":"a","n":7}');
    expect((await app.inject('/b')).body).toBe('{"id":"b"}');
    expect((await app.inject({ method: 'HEAD', url: '/a' })).headers['content-length']).toBe('16');
    await app.close();
  });
});
