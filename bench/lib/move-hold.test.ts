import type { MovePhase } from '@fairway/tenant-move';
import { MoveHold } from './move-hold';

describe('MoveHold', () => {
  it('lets the runner through while not paused', () => {
    const held: MovePhase[] = [];
    const hold = new MoveHold((phase) => held.push(phase));
    expect(hold.hold('copy')).toBeUndefined();
    expect(held).toEqual([]);
  });

  it('keeps the runner at its next hold point until resumed, and says so once per pause', async () => {
    const held: MovePhase[] = [];
    const hold = new MoveHold((phase) => held.push(phase));
    hold.pause();
    hold.pause();
    const waiting = hold.hold('verify');
    expect(waiting).toBeInstanceOf(Promise);
    expect(held).toEqual(['verify']);
    let through = false;
    const passed = (waiting as Promise<void>).then(() => (through = true));
    await Promise.resolve();
    expect(through).toBe(false);
    hold.resume();
    await passed;
    expect(through).toBe(true);
    expect(hold.hold('verify')).toBeUndefined();
    hold.pause();
    void hold.hold('cleanup');
    expect(held).toEqual(['verify', 'cleanup']);
    hold.resume();
  });
});
