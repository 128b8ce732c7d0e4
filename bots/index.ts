/** lagstorm's bot players: the fleet API for the runner, plus the bot core for other hosts. */
export { startFleet, defaultWorkerCount } from './fleet/fleet';
export type { FleetOptions, FleetResult, FleetProgress, StartedFleet, LoadGeneratorHealth, HistorySink } from './fleet/fleet';
export { buildFleetPlan, arrivalTimes, closedTargetPoints, windowsAbove } from './fleet/workload';
export type { BotPlan, FleetPlan, SessionWindow } from './fleet/workload';
export { HistoryRecorder, readHistory, readHistoryAll } from './history/recorder';
export { LatencyBook } from './metrics/latency';
export { BotSession, classifyError } from './core/session';
export type { BotSessionOptions, SessionPhase } from './core/session';
export { systemClock, ManualClock, epochNowMs } from '../core/clock';
export type { Clock } from '../core/clock';
export type { WebSocketLike, WebSocketFactory } from '../core/websocket-like';
export type { HistoryDraft, BotSink, SessionTiming } from './core/types';
export { DEFAULT_TIMING } from './core/types';
export { getProfile, PROFILE_NAMES } from './behaviours/profiles';
export type { BehaviourProfile } from './behaviours/profiles';
