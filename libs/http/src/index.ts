/** What every Fairway HTTP server (the public edge, the admin plane) shares. */
export { problemMiddleware, isJsonRequest, requireJson } from './problem-middleware';
