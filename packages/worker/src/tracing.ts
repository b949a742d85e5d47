// The worker's preload: `node --import ./dist/tracing.js dist/main.js` (tsx --import in dev). Starts tracing only
// when the OTEL_* variables ask for it; see docs/observability.md.
import { preloadTracing } from '@gemini-chat/shared/telemetry';

await preloadTracing('gemini-chat-worker');
