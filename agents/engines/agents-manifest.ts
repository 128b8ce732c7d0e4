/**
 * `lagstorm agents manifest`: the Kubernetes objects `run --agents N --engine kubernetes` would
 * apply, for review. Built by the run's own functions (core/agent-launch.ts, the engine's
 * coordinator placement and renderAgentManifest), with a fresh run id: a run renders its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentLaunchFor, agentScenarioJson, agentsProblems } from '../../core/agent-launch';
import { InvalidInputError } from '../../core/exit-codes';
import type { RunParts } from '../../core/parts';
import { makeRunId } from '../../core/run-dir';
import { loadScenario, resolveScenario } from '../../core/runner';
import type { AgentEngineSettings } from '../engine';
import { kubernetesEngine, renderAgentManifest } from './kubernetes-engine';
import { resolveKubernetesSettings, type KubernetesObject } from './kubernetes-manifests';

export interface AgentsManifestOptions {
  scenarioFile: string;
  count: number;
  seed?: number;
  /** `target` is the `--target` flag here. */
  settings: AgentEngineSettings;
}

export interface AgentsManifest {
  runId: string;
  objects: KubernetesObject[];
  yaml: string;
}

/** Throws InvalidInputError (exit 3) naming every flag or field that stops the agents from running on Kubernetes. */
export function kubernetesAgentsManifest(options: AgentsManifestOptions, parts: Pick<RunParts, 'games' | 'faults'>): AgentsManifest {
  const flags = { target: '--target' };
  const engine = kubernetesEngine(options.settings, { flags });
  const loaded = loadScenario({ scenarioFile: options.scenarioFile }, parts);
  const problems = agentsProblems(engine, options.count, options.settings, loaded, parts);
  if (problems.length) throw new InvalidInputError(`${loaded.source} cannot run on Kubernetes:\n  ${problems.join('\n  ')}`);
  const scenario = resolveScenario(loaded.scenario, { seed: options.seed });
  const runId = makeRunId(scenario.name, scenario.seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-manifest-'));
  try {
    const scenarioFile = path.join(dir, 'agent-scenario.json');
    fs.writeFileSync(scenarioFile, agentScenarioJson(scenario));
    const placement = engine.coordinatorPlacement!(runId);
    const launch = agentLaunchFor({ loaded, scenario, runId, count: options.count, scenarioFile, coordinatorUrl: placement.urlForAgents(placement.port), target: options.settings.target!, runDir: dir }, parts);
    const { objects, yaml } = renderAgentManifest(launch, resolveKubernetesSettings(options.settings, flags).resolved);
    return { runId, objects, yaml };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
