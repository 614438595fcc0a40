/**
 * Live moves of a tenant's records between isolation models while it keeps writing
 * (docs/data-isolation.md, "Live moves between isolation models").
 */
export {
  startTenantMove,
  runTenantMove,
  takeOverMove,
  requestMoveRollback,
  staleMoves,
  readMove,
  listMoves,
  targetLocation,
  MOVE_AUDIT_ACTION,
  MOVE_PHASES,
  DEFAULT_MOVE_ROWS_PER_SECOND,
  DEFAULT_MOVE_MAX_DUTY,
  neighbourWaitProbe,
  type TenantMoveDeps,
  type StartMoveOptions,
  type RunMoveOptions,
  type TenantMoveStatus,
  type VerifyReport,
  type MovePhase,
  type MoveState,
} from './tenant-move';
export { TenantMoveConflictError, type MoveConflictReason } from './errors';
export { BulkPace, type BulkPaceOptions, type BulkPaceReport } from './bulk-pace';
export { NeighbourWaits, type NeighbourWaitsOptions } from './neighbour-waits';
export { MoveSweeper, type MoveSweeperOptions } from './move-sweeper';
