// The signed-in user's tokens, kept for this tab only (sessionStorage): closing
// the tab signs out. The access token is refreshed once on a 401.
export interface Tokens {
  accessToken: string;
  refreshToken: string;
}
export interface Me {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  emailVerified: boolean;
}

const KEY = 'herald.session';
const listeners = new Set<() => void>();

export const session = {
  get tokens(): Tokens | null {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  },
  set(tokens: Tokens | null): void {
    if (tokens) sessionStorage.setItem(KEY, JSON.stringify(tokens));
    else sessionStorage.removeItem(KEY);
    listeners.forEach((listener) => listener());
  },
  me: null as Me | null,
  /** called when the tokens change (a refresh hands the inbox its new token) */
  onChange(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
