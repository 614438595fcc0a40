/**
 * Pauses a move's bulk work from outside (bench:move --paired): `pause()` makes the runner's next
 * hold point ({@link RunMoveOptions.hold}: before a bulk batch, or before the catch-up) wait until
 * `resume()`, and tells `onHeld` once the runner actually waits there (no statement of the move in
 * flight from then on). Used in the runner's process (driven by lines on its stdin) and inline.
 */
import type { MovePhase } from '@fairway/tenant-move';

export class MoveHold {
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  private heldTold = false;

  constructor(private readonly onHeld: (phase: MovePhase) => void) {}

  /** The runner stops at its next hold point. */
  pause(): void {
    if (this.gate) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
    this.heldTold = false;
  }

  /** The runner goes on. */
  resume(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  /** RunMoveOptions.hold. */
  readonly hold = (phase: MovePhase): Promise<void> | undefined => {
    const gate = this.gate;
    if (!gate) return undefined;
    if (!this.heldTold) {
      this.heldTold = true;
      this.onHeld(phase);
    }
    return gate.promise;
  };
}
