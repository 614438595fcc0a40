// The problem+json handler moved to @fairway/http, shared with the admin plane; edit it there.
export { problemMiddleware, isJsonRequest, requireJson } from '@fairway/http';
