// Where tests find Postgres and Redis. Override with TEST_DATABASE_URL / TEST_REDIS_URL.
export const testDatabaseUrl = () => process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gemini_chat_test';
export const testRedisUrl = () => process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
