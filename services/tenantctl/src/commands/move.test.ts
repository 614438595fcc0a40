import { CliError, ExitCode } from '../exit-codes';
import { moveProgressLine, moveRefused, moveSummary, type MoveAnswer } from './move';

const base: MoveAnswer = {
  id: 'm-1',
  tenantId: 'acme',
  state: 'running',
  phase: 'copy',
  source: { model: 'pooled' },
  target: { model: 'database', server: 'local' },
  copied: 250,
  sourceRows: 1000,
  caughtUp: 0,
  catchUpPasses: 0,
  switched: false,
  fenceMs: null,
  verified: null,
  phaseMs: {},
  graceUntil: null,
  error: null,
};

describe('tenantctl tenants move output', () => {
  it('draws a bar of records copied during the copy', () => {
    expect(moveProgressLine(base)).toBe(`copy     [########......................]  25% 250/1000 records`);
  });

  it('names the fence and the grace once switched', () => {
    const grace = {
      ...base,
      phase: 'grace',
      switched: true,
      fenceMs: 36,
      verified: { rows: 1010, digest: 'd', changedAfterSwitch: 3 },
      graceUntil: '2026-12-07T02:00:00.000Z',
    };
    expect(moveProgressLine(grace)).toBe('grace    switched (fence 36 ms, 1010 rows verified); old copy kept until 2026-12-07T02:00:00.000Z');
  });

  it('summarises a finished move with its figures, and a rolled-back one with its reason', () => {
    const done = {
      ...base,
      state: 'done' as const,
      phase: 'finished',
      switched: true,
      copied: 1000,
      caughtUp: 12,
      fenceMs: 36,
      verified: { rows: 1010, digest: 'abc', changedAfterSwitch: 0 },
      phaseMs: { copy: 1500 },
    };
    expect(moveSummary(done)).toMatch(
      /^move m-1 of acme \(pooled -> database\): done, old copy removed; 1000 records copied, 12 changes caught up, write fence 36 ms, 1010 rows verified \(digest abc\); copy /,
    );
    expect(moveSummary(base)).toMatch(/^move m-1 of acme \(pooled -> database\): running, phase copy; 250 records copied/);
    expect(moveSummary({ ...base, state: 'rolled-back', error: 'verification failed' })).toBe(
      'move m-1 of acme (pooled -> database) was rolled back: verification failed; the tenant stays pooled',
    );
  });

  it('adds the command that follows the running move to a 409 for a tenant already moving, and leaves other failures as they are', () => {
    const moving = new CliError(
      "POST /tenants/acme/moves: 409 TENANT_MOVE_CONFLICT: tenant 'acme' is already moving (move m-1)",
      ExitCode.failure,
      'TENANT_MOVE_CONFLICT',
    );
    const said = moveRefused(moving, 'acme') as CliError;
    expect(said.message).toBe(`${moving.message}\nfollow the running move with: tenantctl tenants move-status acme`);
    expect(said).toMatchObject({ exitCode: ExitCode.failure, code: 'TENANT_MOVE_CONFLICT' });
    const there = new CliError("POST /tenants/acme/moves: 409 TENANT_MOVE_CONFLICT: tenant 'acme' is already in the schema model", 1, 'TENANT_MOVE_CONFLICT');
    expect((moveRefused(there, 'acme') as CliError).message).toBe(there.message);
    const other = new CliError('POST /tenants/acme/moves: 404 NOT_FOUND: no tenant', ExitCode.notFound, 'NOT_FOUND');
    expect(moveRefused(other, 'acme')).toBe(other);
  });
});
