import type { Command } from 'commander';
import { keyValues, text } from '../render';
import type { CommandContext } from './context';

/** `keys issue|revoke`: a tenant's API keys. */
export function keysCommands(program: Command, { sub, client, print }: CommandContext): void {
  const keys = sub(program, 'keys', 'issue and revoke API keys');
  sub(keys, 'issue', 'issue an API key for a tenant (shown once)')
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, _o, cmd: Command) => {
      const key = await client(cmd).request<{ id: string; prefix: string; key: string }>('POST', `/tenants/${encodeURIComponent(id)}/api-keys`);
      print(
        cmd,
        key,
        () =>
          `${keyValues([
            ['key id', key.id],
            ['prefix', key.prefix],
            ['key', key.key],
          ])}\n\nStore the key now: it is not shown again.`,
      );
    });
  sub(keys, 'revoke', 'revoke an API key')
    .argument('<tenant>', 'tenant id')
    .argument('<key-id>', 'the key id printed by `keys issue`')
    .action(async (id: string, keyId: string, _o, cmd: Command) => {
      const revoked = await client(cmd).request<Record<string, unknown>>('DELETE', `/tenants/${encodeURIComponent(id)}/api-keys/${encodeURIComponent(keyId)}`);
      print(cmd, revoked, () => `revoked key ${keyId} of ${id}${revoked?.['revokedAt'] ? ` at ${text(revoked['revokedAt'])}` : ''}`);
    });
}
