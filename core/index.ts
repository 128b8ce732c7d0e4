/** The public API of lagstorm: what scenario files and game plug-ins import from 'lagstorm'. */
export { defineScenario } from './scenario/define';
export type { ScenarioInput, Scenario, ResolvedScenario, BotGroup, TimelineStep } from './scenario/schema';
export { defineGame, LoginError } from './game';
export type {
  GameDefinition,
  GameClient,
  GameClientContext,
  GameConnection,
  ConnectOptions,
  ActionCall,
  ActionSpec,
  ActionContext,
  Effect,
  Outcome,
  LoginResult,
  BehaviourProfile,
  FinalStateSource,
  GameFeatures,
  PlantedDefect,
} from './game';
export type { Clock, TimerHandle } from './clock';
export type { Rng } from './rng';
export { createRng, deriveSeed, uniformInt } from './rng';
export type { Distribution } from './distributions';
export type { WebSocketLike, WebSocketFactory } from './websocket-like';
export { parseDuration, formatDuration } from './duration';
export type { HistoryEntry, ClientOp, NemesisOp, BotEvent, OpType } from './history';
export type { StartedStack, Runtime, StackOptions } from '../stack/types';
export type { Fault, FaultHandle, FaultTarget } from '../chaos/fault';
export type { CheckResult, Checker, CheckInput, CheckValidity, SloResult, Validity } from '../verdict/types';
export { noDesyncChecker, type FinalShadows } from '../verdict/checkers/no-desync';
export type { QuantitySpec } from './game';
export { webSocketJsonClient, httpJsonClient, isLost, type WebSocketJsonOptions, type LostReply, type HttpJsonOptions, type HttpCall, type HttpReply } from '../kit';
