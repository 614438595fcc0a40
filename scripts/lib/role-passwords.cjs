// The database roles' passwords of a deployment, read from the connection URLs the services use
// (OWNER_URL, APP_URL, SCHEDULER_URL: the Secret fairway-database, or .fairway/compose/*.env), so a
// password lives in one place and the role is given exactly the password its clients present.
// Plain CommonJS with no dependencies: the deployment init and the unit tests both load it.
'use strict';

/** Each role, the variable holding its URL, and its name (libs/db/src/roles.ts). */
const ROLE_URLS = [
  { variable: 'OWNER_URL', key: 'fairway_owner' },
  { variable: 'APP_URL', key: 'fairway_app' },
  { variable: 'SCHEDULER_URL', key: 'fairway_scheduler' },
];

/** The fewest characters a role password may have (`openssl rand -base64 32` gives 44). */
const MIN_PASSWORD_LENGTH = 16;

/** Why `password` may not be `role`'s password, or undefined when it may. */
function weakPasswordReason(role, password) {
  if (password.length < MIN_PASSWORD_LENGTH) return `is ${password.length} characters; use at least ${MIN_PASSWORD_LENGTH} (openssl rand -base64 32)`;
  const lower = password.toLowerCase();
  if (lower === role || lower.includes(role)) return "contains the role's name";
  const word = ['change-me', 'changeme', 'password', 'postgres', 'secret', 'example', 'placeholder'].find((w) => lower.includes(w));
  if (word) return `looks like a placeholder (it contains '${word}')`;
  return undefined;
}

/**
 * The password of each role from `env` (OWNER_URL, APP_URL, SCHEDULER_URL). Throws an Error naming
 * the variable when one is missing, is not a URL, names another role, or has a weak password.
 * @param {Record<string, string | undefined>} env
 * @returns {Record<'fairway_owner' | 'fairway_app' | 'fairway_scheduler', string>}
 */
function rolePasswords(env) {
  const passwords = {};
  for (const { variable, key } of ROLE_URLS) {
    const value = env[variable];
    if (!value) throw new Error(`${variable} is not set: the ${key} role's connection URL, with its password`);
    let url;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`${variable} is not a URL`);
    }
    const user = decodeURIComponent(url.username);
    if (user !== key) throw new Error(`${variable} must connect as ${key} (it names '${user}')`);
    const password = decodeURIComponent(url.password);
    const weak = weakPasswordReason(key, password);
    if (weak) throw new Error(`the password in ${variable} ${weak}`);
    passwords[key] = password;
  }
  return passwords;
}

module.exports = { rolePasswords, weakPasswordReason, ROLE_URLS, MIN_PASSWORD_LENGTH };
