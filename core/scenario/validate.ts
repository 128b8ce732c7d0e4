/**
 * Strict scenario validation: the schema first, then the names only the registries know (bot
 * profiles, faults and their params, backend defects). Every problem is reported at once, each
 * with its path and a hint; nothing starts on invalid input.
 */
import type { z } from 'zod';
import { InvalidInputError } from '../exit-codes';
import { scenarioSchema, type Scenario, type TimelineStep } from './schema';

export interface ParamIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/** What the registries contribute to validation; core knows only this shape, never a fault. */
export interface ScenarioCatalog {
  /** The scenario's game, for messages. */
  game: string;
  profiles: readonly string[];
  defects: readonly string[];
  faultTypes: readonly string[];
  /** Every checker a scenario may name (checkerCatalog(game.checkers).names); also the default `checks`. */
  checkers: readonly string[];
  /** `locks`: what the fault holds alone while active; timeline steps sharing one must not overlap. */
  validateFaultParams(type: string, params: unknown): { ok: true; params: Record<string, unknown>; locks?: string[] } | { ok: false; issues: ParamIssue[] };
}

export interface ScenarioProblem {
  path: string;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    const name = String(key);
    return /^[A-Za-z_$][\w$]*$/.test(name) ? (text ? `${text}.${name}` : name) : `${text}["${name}"]`;
  }, '') || '(scenario)';
}

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove it or check the spelling (see the scenario format in README.md)`;
    case 'invalid_type':
      if (issue.input === undefined) return `required: add it (expected ${issue.expected})`;
      return `expected ${issue.expected}, got ${describe(issue.input)}`;
    case 'invalid_value': {
      const values = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      return issue.message.startsWith('Invalid') ? values : `${values}: ${issue.message}`; // a schema's own words say what each value does
    }
    case 'too_small':
      return `${issue.message.replace(/^Too small: /, '')}`;
    case 'too_big':
      return `${issue.message.replace(/^Too big: /, '')}`;
    case 'invalid_union':
      if (issue.input === undefined) return 'required: add it';
      return 'does not match any accepted form: for a duration write e.g. "10s" or a number of ms; for an SLO e.g. "p(99)<50ms" or { baseline: ..., fault: ..., recovery: ... }';
    default:
      return issue.message;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${typeof value === 'object' ? '' : JSON.stringify(value)}`.trim();
}

function knownList(known: readonly string[]): string {
  return known.length ? `known: ${known.join(', ')}` : 'none are registered';
}

/** The lock two fault windows hold at the same time, if any (see Fault.locks). */
export function sharedLock(a: { at: number; duration: number }, aLocks: readonly string[], b: { at: number; duration: number }, bLocks: readonly string[]): string | undefined {
  const overlap = a.at < b.at + b.duration && b.at < a.at + a.duration;
  return overlap ? aLocks.find((lock) => bLocks.includes(lock)) : undefined;
}

/** Timeline steps that overlap in time while holding the same lock: the first heal would undo the other. */
function overlappingLocks(timeline: ReadonlyArray<TimelineStep>, locks: ReadonlyMap<number, string[]>): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  timeline.forEach((step, j) => {
    for (let i = 0; i < j; i++) {
      const shared = sharedLock(timeline[i], locks.get(i) ?? [], step, locks.get(j) ?? []);
      if (!shared) continue;
      // Blame the step that starts later; the earlier one sets when it may start.
      const [later, earlier] = timeline[i].at > step.at ? [i, j] : [j, i];
      const first = timeline[earlier];
      problems.push({
        path: `faults.timeline[${later}]`,
        message: `overlaps faults.timeline[${earlier}] (${first.fault} at ${first.at}ms for ${first.duration}ms) and both hold ${shared}, so one heal would undo the other fault; start it at or after ${first.at + first.duration}ms`,
      });
      break;
    }
  });
  return problems;
}

/** Returns the validated scenario or throws InvalidInputError listing every problem. */
export function validateScenario(input: unknown, catalog: ScenarioCatalog, source = 'scenario'): Scenario {
  const problems: ScenarioProblem[] = [];
  const parsed = scenarioSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: formatPath(issue.path), message: hintFor(issue) });
  }
  // Registry checks run on the raw input too, so one pass reports schema and name problems together.
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const bots = raw.bots && typeof raw.bots === 'object' ? (raw.bots as Record<string, { profile?: unknown }>) : {};
  for (const [group, spec] of Object.entries(bots)) {
    const profile = spec && typeof spec === 'object' ? spec.profile : undefined;
    if (typeof profile === 'string' && !catalog.profiles.includes(profile)) {
      problems.push({ path: `bots.${group}.profile`, message: `unknown profile "${profile}" for game "${catalog.game}"; ${knownList(catalog.profiles)}` });
    }
  }
  const backend = raw.backend as { defect?: unknown } | undefined;
  if (backend && typeof backend.defect === 'string' && backend.defect !== 'none' && !catalog.defects.includes(backend.defect)) {
    problems.push({ path: 'backend.defect', message: `unknown defect "${backend.defect}" for game "${catalog.game}"; use "none"${catalog.defects.length ? ` or one of: ${catalog.defects.join(', ')}` : ''}` });
  }
  if (Array.isArray(raw.checks)) {
    raw.checks.forEach((name, i) => {
      if (typeof name === 'string' && name && !catalog.checkers.includes(name)) {
        problems.push({ path: `checks[${i}]`, message: `must be one of game "${catalog.game}"'s checkers: ${catalog.checkers.join(', ')} ("${name}" is none of them)` });
      }
    });
  }
  const faults = (raw.faults ?? {}) as { timeline?: unknown; random?: { mix?: unknown } };
  const timelineLocks = new Map<number, string[]>();
  const checkFault = (entry: unknown, path: string, timelineIndex?: number) => {
    if (!entry || typeof entry !== 'object') return;
    const { fault, params } = entry as { fault?: unknown; params?: unknown };
    if (typeof fault !== 'string') return;
    if (!catalog.faultTypes.includes(fault)) {
      problems.push({ path: `${path}.fault`, message: `unknown fault "${fault}"; ${knownList(catalog.faultTypes)}` });
      return;
    }
    const result = catalog.validateFaultParams(fault, params ?? {});
    if (!result.ok) for (const issue of result.issues) problems.push({ path: `${path}.params${issue.path.length ? '.' + formatPath(issue.path) : ''}`, message: issue.message });
    else if (timelineIndex !== undefined) timelineLocks.set(timelineIndex, result.locks ?? []);
  };
  if (Array.isArray(faults.timeline)) faults.timeline.forEach((step, i) => checkFault(step, `faults.timeline[${i}]`, i));
  if (parsed.success) problems.push(...overlappingLocks(parsed.data.faults.timeline, timelineLocks));
  if (faults.random && Array.isArray(faults.random.mix)) faults.random.mix.forEach((entry, i) => checkFault(entry, `faults.random.mix[${i}]`));

  if (problems.length > 0 || !parsed.success) {
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
    throw new InvalidInputError(`${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, lines);
  }
  return { ...parsed.data, checks: parsed.data.checks.length ? parsed.data.checks : [...catalog.checkers] };
}
