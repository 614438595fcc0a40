/**
 * Who may call: bearer tokens (HS256 only when enabled, RS256/ES256 through a JWKS), the rules a
 * production signing secret must meet, and the API key format the admin plane issues and the edge
 * checks.
 */
export { TokenVerifier, type TokenVerifierOptions, type VerifiedClaims, type JwksSource } from './token-verifier';
export { loadJwtSettings, TENANT_TOKENS, OPERATOR_TOKENS, type JwtSettings, type JwtAudienceDefaults } from './jwt-settings';
export { weakSecretReason, weakDatabaseUrlReason, estimatedEntropyBits, PUBLISHED_SECRETS, MIN_SECRET_BYTES, NEW_SECRET_COMMAND } from './secret-policy';
export { parseApiKey, hashSecret, generateApiKey, issueApiKey, revokeApiKey, type IssuedApiKey, type ApiKeyDescription } from './api-keys';
