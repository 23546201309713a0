/**
 * The IdMS's HTML (TS 33.180 §5.1.2.3.2 step 3a: "IdMS sends an HTML form to UE prompting the
 * user for their username & password"): the login form of one interaction, and a plain page for
 * errors. Every value is HTML-escaped; the pages load nothing from elsewhere (the answer carries a
 * Content-Security-Policy of `default-src 'none'`, styles inline).
 *
 * The form is `<form id="mcsec-login" method="post" action="/interaction/<uid>/login">` with
 * fields `username` and `password`; a refused login shows `<p id="login-error" role="alert">`.
 * Native clients that fill the form themselves (B.4.2, an embedded browser) rely on these names.
 */

/** The Content-Security-Policy of every IdMS page. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

const html = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:3em auto;max-width:22em;padding:0 1em}' +
  'label{display:block;margin:.8em 0 .2em}input{width:100%;box-sizing:border-box;padding:.4em;font-size:1em}' +
  'button{margin-top:1.2em;padding:.5em 1.2em;font-size:1em}#login-error{color:#b00020}' +
  'ul{padding-left:1.2em;color:#444;font-size:.9em}';

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title><style>${STYLE}</style></head>
<body><h1>${html(title)}</h1>
${body}
</body></html>
`;
}

/** What the login page shows. */
export interface LoginPageInput {
  readonly uid: string;
  readonly client: string;
  readonly scopes: readonly string[];
  readonly username?: string | undefined;
  readonly failed?: boolean | undefined;
}

/** The login form of an interaction. */
export function renderLoginPage(p: LoginPageInput): string {
  const error = p.failed === true ? '<p id="login-error" role="alert">The MC ID or password is not correct.</p>\n' : '';
  const scopes = p.scopes.length === 0 ? '' : `<p>Requested access:</p><ul>${p.scopes.map((s) => `<li>${html(s)}</li>`).join('')}</ul>\n`;
  return page(
    'MC sign-in',
    `<p>Sign in to continue to <strong>${html(p.client)}</strong>.</p>
${error}<form id="mcsec-login" method="post" action="/interaction/${encodeURIComponent(p.uid)}/login" autocomplete="off">
<label for="username">MC ID</label><input id="username" name="username" required autofocus value="${html(p.username ?? '')}" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${encodeURIComponent(p.uid)}/abort"><button type="submit">Cancel</button></form>
${scopes}`,
  );
}

/** A plain page (errors, sign-out); `bodyHtml` must already be escaped. */
export const renderErrorPage = (title: string, bodyHtml: string): string => page(title, bodyHtml);
