/** The OpenAPI `security` of every authenticated route: an access token from auth, or an API key. */
export const AUTHENTICATED_SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];
