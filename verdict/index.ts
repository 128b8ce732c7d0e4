/** The verdict: checkers over the history and the final state, per-phase SLOs, and the decision. */
export * from './types';
export { parseSloExpression, sloHolds, SLO_HINT, type SloExpression, type SloStat, type SloOperator } from './slo-expression';
export { faultWindows, phaseAt, type FaultWindow, type PhaseTimeline } from './phases';
export { GENERIC_CHECKERS, checkerCatalog, noDesync, noDesyncChecker, monotonic, recovery, type CheckerCatalog } from './checkers';
export type { FinalShadows, ServerView, NoDesyncOptions } from './checkers/no-desync';
export { runCheckers, mergeValidity, type RunCheckersOptions } from './run-checkers';
export { isActionOp, Offences, PlayerSeqTable, invalidResult, plural } from './ops';
export { analyzeHistory, historyStats, LatencyRecorder, type HistoryAnalysis, type HistoryStats, type OpCounts } from './latency';
export { evaluateSlos, sloStatProblem, type SloMetric, type SloContext } from './slo';
export { decideVerdict, withholdLivenessFailures, type VerdictDecision } from './verdict';
export { recoveryTimes, type RecoveryTimes, type BotRecovery } from './recovery-times';
