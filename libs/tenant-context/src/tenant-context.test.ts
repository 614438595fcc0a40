import { currentTenant, requireTenant, runWithTenant, tenantContext, type TenantId } from './index';

describe('tenant context', () => {
  it('is visible across awaits inside its scope and gone outside it', async () => {
    const ctx = tenantContext('acme' as TenantId, 'jwt');
    await runWithTenant(ctx, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      expect(currentTenant()?.tenantId).toBe('acme');
    });
    expect(currentTenant()).toBeUndefined();
  });

  it('is immutable', () => {
    const ctx = tenantContext('acme' as TenantId, 'jwt');
    expect(() => {
      (ctx as { tenantId: string }).tenantId = 'globex';
    }).toThrow(TypeError);
  });

  it('keeps concurrent scopes apart', async () => {
    const seen = await Promise.all(
      ['acme', 'globex', 'initech'].map((id) =>
        runWithTenant(tenantContext(id as TenantId, 'kafka'), async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return requireTenant().tenantId;
        }),
      ),
    );
    expect(seen).toEqual(['acme', 'globex', 'initech']);
  });

  it('requireTenant says what to do outside a scope', () => {
    expect(() => requireTenant('a jobs query')).toThrow(/a jobs query needs a tenant context.*runWithTenant/);
  });
});
