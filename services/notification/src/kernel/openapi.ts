/**
 * The OpenAPI `security` of every authenticated route: a bearer access token
 * (or inbox token) from auth, or an API key (`Bearer hk_…`). Which of them a
 * route admits is its scope's business (`authenticated` / `adminScope`).
 */
export const AUTHENTICATED_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];
