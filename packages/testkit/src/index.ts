export { testDatabaseUrl, testRedisUrl } from './env.js';
export { exclusively, isolate, type Isolated } from './isolation.js';
export {
  buildTestApp,
  craftJwt,
  expectProblem,
  fromTokens,
  post,
  randomMobileNumber,
  signIn,
  type SignedIn,
  type TestApp,
} from './app.js';
export {
  buildBillingTestApp,
  stripeCalls,
  subscribe,
  subscribeAndPay,
  subscriptionStatus,
  tierInDb,
  CANCEL_URL,
  PORTAL_RETURN_URL,
  PRO_PRICE,
  SUCCESS_URL,
  WEBHOOK_SECRET,
  type BillingTestApp,
} from './billing.js';
export {
  startStack,
  timeUntil,
  waitFor,
  type Stack,
  type StackOptions,
  type StackWorker,
  type StartWorker,
} from './stack.js';
export { deltas, readSse, readSseResuming, readSseUntil, shownText, type SseEvent, type SseRead } from './sse.js';
export { http, signInOver, type HttpResult, type RequestOptions } from './http.js';
export { freePort } from './ports.js';
export { startS3Server, type S3TestServer } from './s3.js';
export { elfFixture, filesUnder, fileUpload, multipart, pdfFixture, pngFixture, wavFixture, type Part } from './files.js';
export { countIo, type IoCount, type IoCounter } from './io-counter.js';
export { seedLongChatroom, seedVolume, SEEDED_CONTENT, type RunSql, type VolumeCounts, type VolumeOptions } from './seed-volume.js';
