// Which parameters each `/v1` endpoint accepts. `implemented` ones change what the fake does; `ignored` ones
// are accepted and have no effect here; `unsupported` ones are refused with a message naming the endpoint, so
// a caller learns the fake lacks them rather than suspecting a typo.
import type { ParamSpec } from './params.js';

export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'expand'];

const CUSTOMER_WRITE_IGNORED = [
  'address',
  'business_name',
  'individual_name',
  'invoice_prefix',
  'invoice_settings',
  'next_invoice_sequence',
  'preferred_locales',
  'shipping',
  'tax',
  'tax_exempt',
  'validate',
];
export const CUSTOMER_CREATE: ParamSpec = {
  implemented: ['email', 'name', 'phone', 'description', 'metadata', 'expand'],
  ignored: [...CUSTOMER_WRITE_IGNORED, 'tax_id_data'],
  unsupported: ['balance', 'cash_balance', 'payment_method', 'source', 'test_clock'],
};
export const CUSTOMER_UPDATE: ParamSpec = {
  implemented: ['email', 'name', 'phone', 'description', 'metadata', 'expand'],
  ignored: CUSTOMER_WRITE_IGNORED,
  unsupported: ['balance', 'cash_balance', 'default_source', 'source'],
};
export const CUSTOMER_LIST: ParamSpec = { implemented: [...LIST_PARAMS, 'email'], ignored: ['created'], unsupported: ['test_clock'] };

export const CHECKOUT_CREATE: ParamSpec = {
  implemented: [
    'mode',
    'line_items',
    'customer',
    'customer_email',
    'client_reference_id',
    'metadata',
    'subscription_data',
    'success_url',
    'cancel_url',
    'expires_at',
    'locale',
    'ui_mode',
    'expand',
  ],
  // Presentation and tax/address collection: they change the payment page, not the subscription.
  ignored: [
    'adaptive_pricing',
    'allow_promotion_codes',
    'allowed_payment_method_types',
    'automatic_tax',
    'billing_address_collection',
    'branding_settings',
    'consent_collection',
    'currency',
    'custom_fields',
    'custom_text',
    'customer_update',
    'excluded_payment_method_types',
    'integration_identifier',
    'name_collection',
    'origin_context',
    'payment_method_collection',
    'payment_method_configuration',
    'payment_method_options',
    'payment_method_types',
    'phone_number_collection',
    'saved_payment_method_options',
    'shipping_address_collection',
    'submit_type',
    'tax_id_collection',
    'wallet_options',
  ],
  unsupported: [
    'after_expiration',
    'customer_account',
    'customer_creation',
    'discounts',
    'invoice_creation',
    'managed_payments',
    'optional_items',
    'payment_intent_data',
    'payment_method_data',
    'permissions',
    'redirect_on_completion',
    'return_url',
    'setup_intent_data',
    'shipping_options',
  ],
};
export const CHECKOUT_LINE_ITEM: ParamSpec = {
  implemented: ['price', 'quantity'],
  ignored: ['adjustable_quantity', 'metadata', 'tax_rates', 'dynamic_tax_rates'],
  unsupported: ['price_data'],
};
export const CHECKOUT_SUBSCRIPTION_DATA: ParamSpec = {
  implemented: ['metadata', 'description', 'trial_period_days', 'trial_end'],
  ignored: ['default_tax_rates', 'invoice_settings', 'proration_behavior', 'trial_settings', 'billing_mode'],
  unsupported: [
    'application_fee_percent',
    'billing_cycle_anchor',
    'billing_cycle_anchor_config',
    'on_behalf_of',
    'pending_invoice_item_interval',
    'transfer_data',
  ],
};
export const RETRIEVE: ParamSpec = { implemented: ['expand'] };

export const SUBSCRIPTION_LIST: ParamSpec = {
  implemented: [...LIST_PARAMS, 'customer', 'price', 'status'],
  ignored: ['automatic_tax', 'collection_method', 'created', 'current_period_end', 'current_period_start'],
  unsupported: ['customer_account', 'plan', 'test_clock'],
};
export const SUBSCRIPTION_UPDATE: ParamSpec = {
  implemented: ['cancel_at_period_end', 'cancel_at', 'cancellation_details', 'metadata', 'description', 'expand'],
  ignored: ['proration_behavior', 'proration_date', 'payment_behavior', 'off_session', 'default_payment_method', 'default_source'],
  unsupported: [
    'add_invoice_items',
    'application_fee_percent',
    'automatic_tax',
    'billing_cycle_anchor',
    'billing_schedules',
    'billing_thresholds',
    'collection_method',
    'days_until_due',
    'default_tax_rates',
    'discounts',
    'invoice_settings',
    'items',
    'on_behalf_of',
    'pause_collection',
    'payment_settings',
    'pending_invoice_item_interval',
    'transfer_data',
    'trial_end',
    'trial_from_plan',
    'trial_settings',
  ],
};
export const SUBSCRIPTION_CANCEL: ParamSpec = {
  implemented: ['cancellation_details', 'expand'],
  ignored: ['invoice_now', 'prorate'],
};
export const CANCELLATION_DETAILS: ParamSpec = { implemented: ['comment', 'feedback'] };
export const CANCELLATION_FEEDBACK = [
  'customer_service',
  'low_quality',
  'missing_features',
  'other',
  'switched_service',
  'too_complex',
  'too_expensive',
  'unused',
];
export const PORTAL_CREATE: ParamSpec = {
  implemented: ['customer', 'return_url', 'locale', 'configuration', 'expand'],
  // A deep link (e.g. straight to "cancel") lands on the same fake portal page.
  ignored: ['flow_data'],
  unsupported: ['customer_account', 'on_behalf_of'],
};
export const PRICE_LIST: ParamSpec = {
  implemented: [...LIST_PARAMS, 'active', 'currency', 'lookup_keys', 'product', 'type'],
  ignored: ['created', 'recurring'],
};
export const EVENT_LIST: ParamSpec = { implemented: [...LIST_PARAMS, 'type', 'types'], ignored: ['created'], unsupported: ['delivery_success'] };
