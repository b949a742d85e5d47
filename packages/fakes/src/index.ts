export * from './gemini/index.js';
export * from './stripe/index.js';
