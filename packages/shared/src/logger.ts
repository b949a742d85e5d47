/**
 * What every module needs of a logger: pino's (and Fastify's) structured calls. Modules take this instead of a
 * concrete logger, so each process passes its own and tests pass a silent one.
 */
export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
