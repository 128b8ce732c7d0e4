/** The verdict: checkers over the history and the final state, per-phase SLOs, and the decision. */
export * from './types';
export { parseSloExpression, sloHolds, SLO_HINT, type SloExpression, type SloStat, type SloOperator } from './slo-expression';
export { faultWindows, phaseAt, type FaultWindow, type PhaseTimeline } from './phases';
export { CHECKERS, ackedDurable, exactlyOnce, conservation, noDesync, monotonic, recovery } from './checkers';
export { runCheckers, mergeValidity } from './run-checkers';
export { analyzeHistory, historyStats, LatencyRecorder, type HistoryAnalysis, type HistoryStats, type OpCounts } from './latency';
export { evaluateSlos, sloStatProblem, type SloMetric, type SloContext } from './slo';
export { decideVerdict, withholdLivenessFailures, type VerdictDecision } from './verdict';
export { recoveryTimes, type RecoveryTimes, type BotRecovery } from './recovery-times';
export { replayPlayer, changesByPlayer } from './replay';
