/** The public API of lagstorm: what scenario files and user code import from 'lagstorm'. */
export { defineScenario } from './scenario/define';
export type { ScenarioInput, Scenario, ResolvedScenario, BotGroup, TimelineStep } from './scenario/schema';
export { parseDuration, formatDuration } from './duration';
export type { HistoryEntry, ClientOp, NemesisOp, BotEvent, OpType } from './history';
export type { StartedStack, Runtime, StackOptions } from '../stack/types';
export type { Fault, FaultHandle, FaultTarget } from '../chaos/fault';
export type { CheckResult, Checker, CheckInput, CheckValidity, SloResult, Validity } from '../verdict/types';
export { noDesyncChecker, type FinalShadows } from '../verdict/checkers/no-desync';
