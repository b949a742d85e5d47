/** The two tokens a signed-in client holds. */
export interface TokenPair {
  /** Short-lived JWT sent as `Authorization: Bearer`. */
  accessToken: string;
  /** Single-use token exchanged at POST /auth/refresh for a new pair. */
  refreshToken: string;
}

/**
 * Where the client keeps its tokens: memory by default; implement it over `localStorage`, a keychain, a cookie
 * jar... `set(null)` means signed out (after `logout()`, or when a refresh is refused).
 */
export interface TokenStore {
  get(): TokenPair | null | Promise<TokenPair | null>;
  set(tokens: TokenPair | null): void | Promise<void>;
}

/** Keeps the tokens in this object only: gone when the process or page goes. */
export function memoryTokenStore(initial: TokenPair | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}
