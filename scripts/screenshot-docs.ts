// Renders the Swagger UI page (/docs) in headless Chromium and writes docs/swagger-ui.png: the introduction (how to
// get a token, what to try) and the sign-up operation opened, as a reader first sees them.
//
//   pnpm exec tsx scripts/screenshot-docs.ts            # serves the docs itself: no Postgres, Redis or `npm run dev`
//   CHROMIUM_PATH=/path/to/chrome pnpm exec tsx scripts/screenshot-docs.ts
//
// The app is built as for emitting openapi.json (routes and spec, no connections) on an ephemeral port; every
// request the page makes to another host is refused, so nothing leaves the machine.
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { loadConfig } from '@gemini-chat/shared';
import { buildApp } from '../packages/api/src/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TARGET = fileURLToPath(new URL('../docs/swagger-ui.png', import.meta.url));
const OPENED = ['#operations-Auth-signup'];
// Tall enough for the introduction and the opened operation's description, body example and first error codes.
const VIEWPORT = { width: 1280, height: 2400 };

const config = loadConfig({ NODE_ENV: 'development', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' });
const app = await buildApp({ config, logger: false, specOnly: true });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  await page.route('**/*', (route) => (new URL(route.request().url()).origin === base ? route.continue() : route.abort()));
  await page.goto(`${base}/docs`);
  await page.locator('.swagger-ui .info .title').waitFor();
  for (const id of OPENED) {
    await page.locator(`${id} .opblock-summary`).first().click();
    await page.locator(`${id} .opblock-body`).waitFor();
  }
  await page.mouse.wheel(0, -100_000); // back to the top after the clicks
  await page.screenshot({ path: TARGET });
  console.log(`wrote ${TARGET} (${VIEWPORT.width}×${VIEWPORT.height})`);
} finally {
  await browser.close();
  await app.close();
}
