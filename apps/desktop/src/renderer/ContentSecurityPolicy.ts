/**
 * The renderer's Content Security Policy: its own scripts and styles only, no network at all.
 * index.html carries the same policy in a meta tag (minus frame-ancestors, which browsers honour
 * only as a header); main sends it as a response header. Imported by main, not by the page.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")
