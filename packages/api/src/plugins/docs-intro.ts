import { ROUTELESS_ERROR_CODES } from '@gemini-chat/shared';

// The top of the Swagger UI page (the spec's info.description, Markdown): how to get a token, then a short path to
// try per area. A test checks that every route named here exists.

export const DOCS_INTRO = `
OTP sign-in, chatrooms, Gemini replies produced by a queue worker, a daily quota and a Stripe Pro tier.

## Get a token (two requests)

1. **POST /auth/signup** with a mobile number in E.164 (the example works as it is: \`+14155550100\`). The answer holds
   \`otpChallenge.otp\`, the 6-digit code, **while OTP delivery is \`response\`**: the default outside production
   (\`npm run dev\`, the tests, the offline Docker setup). In production (\`OTP_DELIVERY=log\`) the code is never in a
   response: it goes to the number (today: to the server's log). Already signed up? **POST /auth/send-otp** sends a
   new login code the same way. A code lives 5 minutes.
2. **POST /auth/verify-otp** with the number and the code: copy \`accessToken\` from the answer.
3. Press **Authorize** (top right), paste the token into **bearerAuth**, and every "Try it out" below is signed in.
   The token lives about 15 minutes: **POST /auth/refresh** with the \`refreshToken\` gives a new pair.

## Then try

- **Chatrooms and replies**: POST /chatroom (copy its \`id\`) → POST /chatroom/{id}/message with \`Prefer: wait=30\`:
  the answer is 200 with the finished \`reply\` (202 with a queued one when it takes longer: read it at
  GET /chatroom/{id}/latest, or watch it at GET /chatroom/{id}/messages/{messageId}/stream). A basic account has 5
  prompts a (UTC) day, then 429 \`QUOTA_EXCEEDED\`; GET /user/me shows the usage.
- **Files**: POST /files (pick an image, a PDF, text or audio) → put its \`id\` in \`attachments\` of a message.
- **Search**: GET /search with \`q=Lisbon\` finds your chatroom titles and messages.
- **Shares**: POST /chatroom/{id}/shares → open its \`url\` (GET /s/{shareId}) signed out; DELETE /shares/{id} revokes it.
- **Billing**: GET /subscription/status → POST /subscribe/pro gives a Stripe Checkout \`checkoutUrl\`: open it (offline,
  the bundled fake Stripe's page "pays" in one click) → GET /subscription/status shows Pro once Stripe's webhook arrived.
- **API keys**: POST /user/api-keys → Authorize with the key in **apiKeyAuth** on the routes that list it (chatrooms,
  messages, files, search, models); elsewhere a key is 403 \`API_KEY_NOT_ALLOWED\`.

## Errors

Every error is an RFC 9457 problem document (\`application/problem+json\`) with a stable \`code\` from one closed list
(the \`Problem\` schema). Each operation lists, per status, the codes it can answer with an example of each. Two
are answered before any route is chosen: ${ROUTELESS_ERROR_CODES.map((code) => `\`${code}\``).join(' (no such route) and ')} (a CORS
preflight without \`Origin\` and \`Access-Control-Request-Method\`). Quote \`requestId\` when reporting a problem.
`.trim();
