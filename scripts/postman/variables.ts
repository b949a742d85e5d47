import type { PmVariable } from './postman.types.js';

// The collection's variables: what the scenarios' scripts read and write as the run goes.

export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';

export const VARIABLES: PmVariable[] = [
  { key: 'baseUrl', value: DEFAULT_BASE_URL, description: 'The API, without a trailing slash.' },
  { key: 'mobileNumber', value: '', description: 'Set by "Register a mobile number" (a fresh number per run).' },
  { key: 'otp', value: '', description: 'The latest OTP from a response body (OTP_DELIVERY=response).' },
  { key: 'accessToken', value: '', description: 'Bearer token of the collection auth; set by every sign-in.' },
  { key: 'refreshToken', value: '', description: 'Set by every sign-in and refresh.' },
  { key: 'password', value: 'correct-horse-battery-1', description: 'The first password the run sets.' },
  { key: 'newPassword', value: 'correct-horse-battery-2', description: 'The password the reset sets.' },
  { key: 'chatroomId', value: '', description: 'Set by "Create a chatroom".' },
  { key: 'chatroomListEtag', value: '', description: 'ETag of the chatroom list, for If-None-Match.' },
  { key: 'messageId', value: '', description: 'The prompt stored by "Send a prompt".' },
  { key: 'replyId', value: '', description: 'The reply of the latest send or regenerate.' },
  { key: 'editedMessageId', value: '', description: 'The edited first prompt stored by "Edit the first prompt".' },
  { key: 'editReplyId', value: '', description: 'The reply to the edited prompt.' },
  { key: 'shareId', value: '', description: 'The share link made by "Share the current branch of a chatroom".' },
  { key: 'apiKey', value: '', description: 'The API key made by "Create an API key" (shown once).' },
  { key: 'apiKeyId', value: '', description: 'Its id, for the revoke.' },
  { key: 'fileId', value: '', description: 'The file uploaded by "Upload a file".' },
  { key: 'fileSha256', value: '', description: 'Its SHA-256, as the upload reported it (the download ETag).' },
  { key: 'exportedChatroom', value: '', description: 'The chatroom export (JSON text) that the import sends back.' },
  {
    key: 'billingRequired',
    value: 'false',
    description: 'true: billing requests must succeed; otherwise 503 BILLING_NOT_CONFIGURED (no Stripe configured) is accepted.',
  },
];

/** Path parameters by name: the variable each one is filled from. */
export const PATH_VARIABLES: Record<string, string> = { id: '{{chatroomId}}', messageId: '{{replyId}}', shareId: '{{shareId}}' };

/** Path parameters of the routes under a prefix whose `id` is not a chatroom's. */
export const PREFIX_PATH_VARIABLES: Record<string, Record<string, string>> = {
  '/shares/': { id: '{{shareId}}' },
  '/files/': { id: '{{fileId}}' },
  '/user/api-keys/': { id: '{{apiKeyId}}' },
};
