import { STATUS_CODES } from 'node:http';
import { js } from './source-text.js';

// Test snippets shared by the scenarios. They are generated into each request's script, so every request reads
// alone in Postman.

export const UUID_RE = '/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/';

export function statusTest(code: number): string {
  const label = `${code} ${STATUS_CODES[code] ?? ''}`.trim();
  return `pm.test('status is ${label}', () => pm.response.to.have.status(${code}));`;
}

/** An error answer: status, problem+json content type, and the stable code. */
export function problemTest(code: number, problemCode: string): string {
  return js`
    ${statusTest(code)}
    pm.test('problem+json with code ${problemCode}', () => {
      pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');
      const problem = pm.response.json();
      pm.expect(problem.status).to.eql(${code});
      pm.expect(problem.code).to.eql('${problemCode}');
      pm.expect(problem.requestId).to.be.a('string');
    });
  `;
}

export const storeTokens = js`
  pm.test('tokens: a Bearer access token and a refresh token', () => {
    pm.expect(body.tokenType).to.eql('Bearer');
    pm.expect(body.accessToken).to.be.a('string').and.not.empty;
    pm.expect(body.refreshToken).to.be.a('string').and.not.empty;
    pm.expect(body.expiresIn).to.be.above(0);
    pm.expect(body.user.mobileNumber).to.eql(pm.variables.get('mobileNumber'));
  });
  if (body.accessToken) pm.collectionVariables.set('accessToken', body.accessToken);
  if (body.refreshToken) pm.collectionVariables.set('refreshToken', body.refreshToken);
`;

export const otpChallengeTest = js`
  pm.test('an OTP challenge; the code is in the body (OTP_DELIVERY=response)', () => {
    pm.expect(Date.parse(body.expiresAt)).to.be.above(Date.now());
    pm.expect(body.resendAfter).to.be.a('string');
    pm.expect(body.otp, 'run the API with OTP_DELIVERY=response to get the code here').to.match(/^\\d{6}$/);
  });
  if (body.otp) pm.collectionVariables.set('otp', body.otp);
`;

export const messageShape = (variable: string) =>
  js`
    pm.expect(${variable}.id).to.match(${UUID_RE});
    pm.expect(${variable}.chatroomId).to.eql(pm.variables.get('chatroomId'));
    pm.expect(['user', 'assistant']).to.include(${variable}.role);
    pm.expect(['queued', 'generating', 'completed', 'failed', 'cancelled']).to.include(${variable}.status);
  `;

/**
 * Billing answers 503 BILLING_NOT_CONFIGURED on a server that takes no payments: that passes unless billingRequired
 * is true; any other answer must pass `test`.
 */
export function unlessBillingOff(test: string): string {
  return js`
    const billingOff = pm.response.code === 503 && (pm.response.json() || {}).code === 'BILLING_NOT_CONFIGURED';
    if (billingOff && pm.variables.get('billingRequired') !== 'true') {
      pm.test('billing is off on this server (503 BILLING_NOT_CONFIGURED): set billingRequired=true to insist', () => {
        pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');
      });
    } else {
      ${test}
    }
  `;
}

/** A billing request's success (`code`, then `checks` on `body`), or billing off as unlessBillingOff allows. */
export function billingTest(code: number, checks: string): string {
  return unlessBillingOff(js`
    ${statusTest(code)}
    const body = pm.response.json();
    ${checks}
  `);
}

/** Runs after every request. */
export const COLLECTION_TEST = js`
  // Every response carries a request id (echoed from X-Request-Id when the client sent one).
  pm.test('[every request] X-Request-Id header', () => pm.expect(pm.response.headers.get('X-Request-Id')).to.be.a('string').and.not.empty);
`;

/** The test of an operation no scenario covers: any status the spec documents for it, and problem+json errors. */
export function genericTest(documentedStatuses: number[]): string {
  return js`
    // No tailored scenario for this route yet (add one in scripts/postman/scenarios.ts): generic checks only.
    pm.test('status is one the spec documents for this route, not a 5xx', () => {
      pm.expect(${JSON.stringify(documentedStatuses)}).to.include(pm.response.code);
      pm.expect(pm.response.code).to.be.below(500);
    });
    pm.test('errors are problem+json', () => {
      if (pm.response.code >= 400) pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');
    });
  `;
}
