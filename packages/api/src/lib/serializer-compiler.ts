import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/**
 * Fastify's response serializers (fast-json-stringify), built once per schema object instead of once per route,
 * status and content type. Every error status of every route answers the one shared Problem schema, and a GET
 * route's HEAD twin has the GET's schemas: compiled per use, those copies (each with a validator of its own) held
 * ~21 MB of the idle API's ~68 MB heap, 18.6 MB of it Problem serializers alone. A serializer depends only on the
 * schema and the factory's shared schemas and options, so one per schema object serializes exactly the same.
 */
export const buildSerializerPerSchema: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options);
  const bySchema = new WeakMap<object, ReturnType<typeof compile>>();
  return (route) => {
    const schema = route.schema as object;
    let serializer = bySchema.get(schema);
    if (!serializer) {
      serializer = compile(route);
      bySchema.set(schema, serializer);
    }
    return serializer;
  };
};
