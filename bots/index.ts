/** lagstorm's bot players: the fleet API for the runner, plus the bot core for other hosts. */
export { startFleet, botThreadsFor } from './fleet/fleet';
export type { FleetOptions, FleetResult, FleetProgress, StartedFleet, LoadGeneratorHealth, HistorySink } from './fleet/fleet';
export { buildFleetPlan, arrivalTimes, closedTargetPoints, windowsAbove } from './fleet/workload';
export type { BotPlan, FleetPlan, SessionWindow } from './fleet/workload';
export { SegmentTuple, segmentTuple, planForSegment, scaleBySegment, parseSegment, parseSegmentSequence, formatSegment } from './fleet/segments';
export type { ExecutionSegment, Fraction } from './fleet/segments';
export { HistoryRecorder, readHistory, readHistoryAll } from './history/recorder';
export { LatencyBook } from './metrics/latency';
export { BotSession, ACCEPTS, TIMER_SLACK_MS } from './core/session';
export type { BotSessionOptions, SessionState, SessionEvent, SessionStats } from './core/session';
export { chooseAction, pickAction, validateProfile } from './core/actions';
export { loadGameModule, profileOf } from './load-game';
export { systemClock, ManualClock, epochNowMs } from '../core/clock';
export type { Clock } from '../core/clock';
export type { WebSocketLike, WebSocketFactory } from '../core/websocket-like';
export type { HistoryDraft, BotSink, SessionTiming } from './core/types';
export { DEFAULT_TIMING } from './core/types';
