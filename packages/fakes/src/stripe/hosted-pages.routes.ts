// The pages Stripe hosts for the customer: Checkout (session `url`), the Billing Portal (portal session
// `url`) and a bare hosted invoice. Plain HTML forms, so a person in a browser and a test with fetch can
// both click "Pay". Webhooks caused by a click are delivered before the redirect (for up to 5 s), so the
// page the customer lands on already sees the new state; real Stripe gives no such promise, and the
// out-of-order controls exist to test that.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BillingState, PriceRecord, StripeEvent } from './billing-state.js';
import type { BillingService } from './billing.service.js';
import { compileRoutes, escapeHtml, html, redirect, type Reply, type Route } from './http-kit.js';
import type { WebhookDispatcher } from './webhook-dispatcher.js';

export interface PageRequest {
  /** Form fields of a POST (unused by these pages, but read so the connection is drained). */
  body: string;
}

export interface HostedPagesDeps {
  billing: BillingService;
  state: BillingState;
  dispatcher: WebhookDispatcher;
}

const SESSION_PLACEHOLDER = '{CHECKOUT_SESSION_ID}';
const PAGE_DELIVERY_WAIT_MS = 5000;

export function createHostedPageRoutes({ billing, state, dispatcher }: HostedPagesDeps) {
  // Waits for the webhooks, but not for long: with the app down and retries on, the customer is still sent on.
  const deliver = async (events: StripeEvent[]) => {
    const timer = new AbortController();
    const giveUp = sleep(PAGE_DELIVERY_WAIT_MS, undefined, { signal: timer.signal }).catch(() => undefined);
    await Promise.race([dispatcher.dispatch(events), giveUp]);
    timer.abort();
  };

  const productName = (price: PriceRecord) => state.products.get(price.productId)?.name ?? price.productId;

  function notFoundPage(what: string): Reply {
    return html(404, page('Not found', `<p>No such ${escapeHtml(what)}.</p>`));
  }


  const routes: Route<PageRequest>[] = [
    {
      method: 'GET',
      path: '/c/pay/:id',
      handle: (_ctx, { id = '' }) => {
        const session = state.checkoutSessions.get(id);
        if (!session) return notFoundPage('Checkout Session');
        if (session.status === 'expired') return html(410, page('Session expired', '<p>This Checkout Session has expired.</p>'));
        if (session.status === 'complete') {
          return html(200, page('Already paid', '<p>This Checkout Session is complete.</p>'));
        }
        const customer = session.customerId ? state.customers.get(session.customerId) : undefined;
        const email = customer?.email ?? session.customerEmail;
        const trialDays = session.trialPeriodDays ?? (session.trialEnd ? Math.ceil((session.trialEnd - session.created) / 86_400) : null);
        const rows = session.lineItems
          .map((item) => {
            const price = billing.price(item.priceId);
            return `<tr><td data-testid="product">${escapeHtml(productName(price))}</td><td>× ${item.quantity}</td><td data-testid="price">${escapeHtml(formatPrice(price))}</td></tr>`;
          })
          .join('');
        const action = `/c/pay/${encodeURIComponent(session.id)}`;
        return html(
          200,
          page(
            'Checkout',
            `<p class="test">Test mode: the fake Stripe server takes no real payment.</p>
<table>${rows}</table>
${trialDays ? `<p data-testid="trial">${trialDays} days free, then billed per period.</p>` : ''}
${email ? `<p>Email: <span data-testid="email">${escapeHtml(email)}</span></p>` : ''}
<form method="post" action="${action}/pay"><button type="submit" name="action" value="pay" data-testid="pay">Pay</button></form>
<form method="post" action="${action}/cancel"><button type="submit" name="action" value="cancel" data-testid="cancel">Cancel</button></form>`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path: '/c/pay/:id/pay',
      handle: async (_ctx, { id = '' }) => {
        const session = state.checkoutSessions.get(id);
        if (!session) return notFoundPage('Checkout Session');
        if (session.status === 'expired') return html(410, page('Session expired', '<p>This Checkout Session has expired.</p>'));
        // A second click after paying lands on the success page again instead of paying twice.
        if (session.status === 'open') await deliver(billing.completeCheckout(id).events);
        if (!session.successUrl) return html(200, page('Thank you', '<p data-testid="paid">Payment complete.</p>'));
        return redirect(session.successUrl.split(SESSION_PLACEHOLDER).join(session.id));
      },
    },
    {
      method: 'POST',
      path: '/c/pay/:id/cancel',
      handle: (_ctx, { id = '' }) => {
        const session = state.checkoutSessions.get(id);
        if (!session) return notFoundPage('Checkout Session');
        // Leaving Checkout does not expire the session; the customer may come back to it.
        if (!session.cancelUrl) return html(200, page('Cancelled', '<p>You left Checkout.</p>'));
        return redirect(session.cancelUrl);
      },
    },
    {
      method: 'GET',
      path: '/p/session/:id',
      handle: (_ctx, { id = '' }) => {
        const portal = state.portalSessions.get(id);
        if (!portal) return notFoundPage('portal session');
        const customer = state.customers.get(portal.customerId);
        const subs = [...state.subscriptions.values()].filter((sub) => sub.customerId === portal.customerId);
        const base = `/p/session/${encodeURIComponent(portal.id)}/subscriptions`;
        const rows = subs
          .map((sub) => {
            const first = sub.items[0];
            const price = first ? billing.price(first.priceId) : undefined;
            const when =
              sub.status === 'canceled'
                ? `ended ${date(sub.endedAt)}`
                : sub.cancelAt !== null
                  ? `cancels ${date(sub.cancelAt)}`
                  : `renews ${date(sub.currentPeriodEnd)}`;
            const button =
              sub.status === 'canceled'
                ? ''
                : sub.cancelAt !== null
                  ? `<form method="post" action="${base}/${encodeURIComponent(sub.id)}/renew"><button type="submit" data-testid="renew">Renew plan</button></form>`
                  : `<form method="post" action="${base}/${encodeURIComponent(sub.id)}/cancel"><button type="submit" data-testid="cancel-plan">Cancel plan</button></form>`;
            return `<li data-testid="subscription" data-id="${escapeHtml(sub.id)}">${escapeHtml(price ? `${productName(price)} (${formatPrice(price)})` : sub.id)}: <span data-testid="status">${escapeHtml(sub.status)}</span>, ${escapeHtml(when)} ${button}</li>`;
          })
          .join('');
        const back = portal.returnUrl ? `<p><a href="${escapeHtml(portal.returnUrl)}" data-testid="return">Return</a></p>` : '';
        return html(
          200,
          page(
            'Billing portal',
            `<p class="test">Test mode: fake Stripe Billing Portal.</p>
<p>Customer: ${escapeHtml(customer?.email ?? portal.customerId)}</p>
<ul>${rows || '<li>No subscriptions.</li>'}</ul>${back}`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path: '/p/session/:id/subscriptions/:subscriptionId/:action',
      handle: async (_ctx, { id = '', subscriptionId = '', action = '' }) => {
        const portal = state.portalSessions.get(id);
        if (!portal) return notFoundPage('portal session');
        const sub = state.subscriptions.get(subscriptionId);
        if (!sub || sub.customerId !== portal.customerId || (action !== 'cancel' && action !== 'renew')) {
          return notFoundPage('subscription');
        }
        // The portal's default cancellation is at the end of the period, like Stripe's.
        const { events } = billing.updateSubscription(subscriptionId, { cancelAtPeriodEnd: action === 'cancel' }, null);
        await deliver(events);
        return redirect(`/p/session/${encodeURIComponent(portal.id)}`);
      },
    },
    {
      method: 'GET',
      path: '/i/:id',
      handle: (_ctx, { id = '' }) => {
        const invoice = state.invoices.get(id);
        if (!invoice) return notFoundPage('invoice');
        const amount = new Intl.NumberFormat('en-US', { style: 'currency', currency: invoice.currency.toUpperCase() }).format(
          invoice.total / 100,
        );
        return html(
          200,
          page(
            `Invoice ${invoice.number}`,
            `<p>Amount: ${escapeHtml(amount)}</p><p>Status: <span data-testid="status">${escapeHtml(invoice.status)}</span></p>`,
          ),
        );
      },
    },
  ];
  return compileRoutes(routes);
}

function formatPrice(price: PriceRecord): string {
  const amount = new Intl.NumberFormat('en-US', { style: 'currency', currency: price.currency.toUpperCase() }).format(
    price.unitAmount / 100,
  );
  const every = price.intervalCount === 1 ? price.interval : `${price.intervalCount} ${price.interval}s`;
  return `${amount} / ${every}`;
}

function date(seconds: number | null): string {
  return seconds === null ? '-' : new Date(seconds * 1000).toISOString().slice(0, 10);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Fake Stripe</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
.test{background:#fff3cd;padding:.5rem}form{display:inline-block;margin:.5rem .5rem 0 0}button{padding:.5rem 1.25rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}
