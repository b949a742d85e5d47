// The collection's folders: one per spec tag, in the order the run needs them.

export const FINISH_FOLDER = 'Finish (destructive, runs last)';

export const FINISH_FOLDER_DESCRIPTION =
  'Requests that end what the run built, so they come last: delete the chatroom, reset the password (revokes every session), sign in again, log out, then delete the account.';

/** Tag folders in run order; tags not listed here follow in the spec's order, then the finish folder. */
export const FOLDER_ORDER = ['Auth', 'User', 'Models', 'Chatrooms', 'Messages', 'Billing', 'Operations'];
