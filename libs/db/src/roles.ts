/**
 * The database roles Fairway uses. Least privilege: only the owner owns tables; the application
 * role is filtered by row-level security and cannot bypass it; the scheduler role sees every
 * tenant's jobs through an explicit policy on that one table.
 */
export const DbRole = {
  /** Owns the tables; runs migrations and provisioning (control plane, setup). */
  owner: 'fairway_owner',
  /** Tenant-scoped access from the edge and the workers, always under RLS. */
  app: 'fairway_app',
  /** The scheduler: reads and updates every tenant's job queue, nothing else. */
  scheduler: 'fairway_scheduler',
} as const;

export type DbRoleName = (typeof DbRole)[keyof typeof DbRole];

/** The connection URL for `role`, built from an admin URL (same host, port and database). */
export function roleUrl(adminUrl: string, role: DbRoleName, password: string = role): string {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}
