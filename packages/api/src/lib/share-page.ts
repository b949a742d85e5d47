import { createHash } from 'node:crypto';
import escapeHtml from 'escape-html';
import type { PublicShare } from '../schemas/share.schemas.js';

// The page a browser gets for a share link. Everything in it that came from a user (title, messages) is escaped
// and shown as preformatted text: Markdown is not turned into HTML, so there is no markup a message can inject.
// The page has no script at all, and its Content-Security-Policy allows nothing but this one inline stylesheet
// (by hash), so even a mistake in escaping could not run code or load anything.

const STYLE = [
  'body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f1f1f;background:#fafafa}',
  'main{max-width:48rem;margin:0 auto;padding:1.5rem 1rem 3rem}',
  'h1{font-size:1.5rem;margin:0 0 .25rem}',
  '.meta{color:#5f6368;font-size:.875rem;margin:0 0 1.5rem}',
  'article{border-radius:.75rem;padding:.75rem 1rem;margin:0 0 1rem;background:#fff;border:1px solid #e0e0e0}',
  'article.user{background:#e8f0fe;border-color:#d2e3fc}',
  'h2{font-size:.8125rem;text-transform:uppercase;letter-spacing:.04em;color:#5f6368;margin:0 0 .25rem}',
  '.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font:inherit}',
].join('');

const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** Headers of every answer of the public route (JSON, HTML and 404 alike). */
export const SHARE_HEADERS = {
  // A revoked share must stop showing at once: nothing may keep a copy.
  'cache-control': 'no-store',
  'x-robots-tag': 'noindex, nofollow',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  vary: 'Accept',
} as const;

/** Added to the HTML page: nothing may run, load, submit or frame it. */
export const SHARE_PAGE_HEADERS = {
  'content-security-policy': `default-src 'none'; style-src ${STYLE_HASH}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
} as const;

const ROLE_LABELS = { user: 'Prompt', assistant: 'Reply' } as const;

function page(title: string, body: string): string {
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><main>${body}</main></body></html>\n`
  );
}

const readableTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

export function renderSharePage(share: PublicShare): string {
  const messages = share.messages
    .map(
      (m) =>
        `<article class="${m.role === 'user' ? 'user' : 'assistant'}"><h2>${ROLE_LABELS[m.role]}</h2>` +
        `<pre class="text">${escapeHtml(m.content)}</pre></article>`,
    )
    .join('');
  return page(
    share.title,
    `<h1>${escapeHtml(share.title)}</h1>` +
      `<p class="meta">Shared conversation · <time datetime="${escapeHtml(share.createdAt)}">${escapeHtml(readableTime(share.createdAt))}</time></p>` +
      messages,
  );
}
