import { Client } from 'pg';
import type { Logger } from '@fairway/telemetry';

/** Channels the catalog's triggers notify on (migration 1700000000200). */
export const QUOTA_CHANNEL = 'fairway_quota';
export const TENANT_STATUS_CHANNEL = 'fairway_tenant_status';

/**
 * Follows catalog changes with LISTEN/NOTIFY on a dedicated connection: a quota or tenant status
 * changed anywhere reaches every scheduler replica at once. If the connection drops, it reconnects
 * and calls `onResync` so the caller reloads everything it may have missed.
 */
export class CatalogListener {
  private client: Client | undefined;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly log: Logger,
    private readonly handlers: {
      onQuota: (tenantId: string) => void;
      onTenantStatus: (tenantId: string) => void;
      onResync: () => void;
    },
  ) {}

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.connectionString, application_name: 'fairway-scheduler-listener' });
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      if (msg.channel === QUOTA_CHANNEL) this.handlers.onQuota(msg.payload);
      else if (msg.channel === TENANT_STATUS_CHANNEL) this.handlers.onTenantStatus(msg.payload);
    });
    client.on('error', (err) => {
      this.log.warn({ err }, 'catalog listener connection lost; reconnecting');
      void client.end().catch(() => undefined);
      this.reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${QUOTA_CHANNEL}`);
    await client.query(`LISTEN ${TENANT_STATUS_CHANNEL}`);
    this.client = client;
  }

  private reconnect(): void {
    if (this.closed) return;
    setTimeout(() => {
      this.start().then(
        () => this.handlers.onResync(),
        (err: unknown) => {
          this.log.warn({ err }, 'catalog listener could not reconnect; retrying');
          this.reconnect();
        },
      );
    }, 1_000).unref();
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }
}
