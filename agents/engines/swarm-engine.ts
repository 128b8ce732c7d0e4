/**
 * The `swarm` engine: the run's agents as one Docker Swarm replicated job of the agent image
 * (`lagstorm/agent`, or --image / LAGSTORM_IMAGE_AGENT), on host networking. Every task runs the same command;
 * its index is its job slot, 0..N−1 ({{.Task.Slot}}, expanded in --env only), the scenario arrives
 * as a Swarm config. Tasks are polled through the Engine API; one that ends is reported with its exit
 * code, its output copied to logs/agent-<index>.log. stop() removes the service and its config,
 * and leaves a swarm this run made.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from '../../core/exit-codes';
import { ensureEngine } from '../../stack/images/engine';
import { ensureImages, imageFor, IMAGES } from '../../stack/images/images';
import { containerLogs, createJobService, ensureSwarm, FINAL_TASK_STATES, killContainer, removeSwarmService, serviceTasks, type SwarmDebris, type SwarmTask } from '../../stack/images/swarm';
import { agentContainerSpec } from '../agent-spec';
import { AGENT_INDEX_ENV, type AgentEngine, type AgentEngineSettings, type AgentLaunch, type LaunchedAgents } from '../engine';

const POLL_MS = 500;
/** Swarm's SIGTERM→SIGKILL grace on removal; the agent's own orderly exit takes well under it. */
const STOP_GRACE_SECONDS = 8;

/**
 * Splits one poll's tasks (oldest first) into each slot's agent (its first task) and replacements.
 * A replicated job replaces a failed task whatever its restart policy (measured: 5–9 s after a kill, with
 * --restart-condition none), and a replacement must neither stand for the agent nor overwrite its log.
 */
export function agentTasksOf(listed: readonly SwarmTask[], known: ReadonlyMap<number, SwarmTask>, count: number): { agents: SwarmTask[]; replacements: SwarmTask[] } {
  const agents = new Map<number, SwarmTask>();
  const replacements: SwarmTask[] = [];
  for (const task of listed) {
    if (task.slot < 0 || task.slot >= count) continue; // a replicated job's slots are 0..N−1
    const agentId = known.get(task.slot)?.id ?? agents.get(task.slot)?.id;
    if (agentId === undefined || agentId === task.id) agents.set(task.slot, task);
    else replacements.push(task);
  }
  return { agents: [...agents.values()], replacements };
}

/** How a finished task ended, in the words of the local engine. */
function howEnded(task: SwarmTask): string {
  if (task.exitCode !== undefined && (task.state === 'complete' || task.state === 'failed')) return `exited with code ${task.exitCode}`;
  return `task ${task.state}${task.error ? `: ${task.error}` : ''}`;
}

export const swarmEngine = (settings: AgentEngineSettings): AgentEngine => ({
  name: 'swarm',
  // Host networking on this machine's swarm: the tasks reach the loopback proxy and metrics ports. A multi-node swarm would need the kubernetes engine's coordinator address and agents target.
  sameMachine: true,
  settings: ['coordinatorListen', 'coordinatorPort', 'image'],
  async launch(launch: AgentLaunch): Promise<LaunchedAgents> {
    const log = launch.log ?? (() => undefined);
    await ensureEngine({ log });
    const image = settings.image ?? imageFor('agent');
    // lagstorm's own image is built (or found up to date) here; a registry image named by LAGSTORM_IMAGE_AGENT is used as is.
    if (image === IMAGES.agent) await ensureImages({ roles: ['agent'], log });
    const spec = agentContainerSpec(launch, image);
    const swarm = await ensureSwarm(log);
    const debris: SwarmDebris = { service: spec.name, config: `${spec.name}-scenario`, leaveSwarm: swarm.initialized };
    const debrisId = launch.debris?.record({ kind: 'swarm-service', ...debris });
    fs.mkdirSync(launch.logDir, { recursive: true });

    const listeners: Array<(index: number, how: string) => void> = [];
    const endings = new Map<number, string>();
    const tasks = new Map<number, SwarmTask>();
    const saved = new Set<string>();
    let polling = true;
    const saveLog = async (index: number, task: SwarmTask): Promise<void> => {
      if (!task.containerId || saved.has(task.id)) return;
      saved.add(task.id);
      fs.writeFileSync(path.join(launch.logDir, `agent-${index}.log`), await containerLogs(task.containerId));
    };
    const endedReplacements = new Set<string>();
    const poll = async (): Promise<void> => {
      const { agents, replacements } = agentTasksOf(await serviceTasks(spec.name), tasks, spec.count);
      for (const task of replacements) {
        if (!task.containerId || FINAL_TASK_STATES.has(task.state) || endedReplacements.has(task.id)) continue;
        endedReplacements.add(task.id);
        log(`agents: swarm replaced agent ${task.slot}'s ended task with task ${task.id.slice(0, 12)}; ending the replacement`);
        await killContainer(task.containerId);
      }
      for (const task of agents) {
        const index = task.slot;
        tasks.set(index, task);
        if (!FINAL_TASK_STATES.has(task.state) || endings.has(index)) continue;
        await saveLog(index, task);
        const how = howEnded(task);
        endings.set(index, how);
        log(`agents: agent ${index} (task ${task.id.slice(0, 12)}) ${how}`);
        for (const listener of listeners) listener(index, how);
      }
    };

    try {
      await createJobService({
        name: spec.name,
        image: spec.image,
        replicas: spec.count,
        args: spec.args,
        env: { ...spec.env, [AGENT_INDEX_ENV.swarmJobSlot]: '{{.Task.Slot}}' },
        labels: spec.labels,
        config: { name: debris.config, hostFile: spec.scenario.hostFile, target: spec.scenario.containerPath },
        hostPaths: spec.hostPaths,
        stopGraceSeconds: STOP_GRACE_SECONDS,
      });
    } catch (error) {
      await removeSwarmService(debris).catch(() => undefined);
      if (debrisId !== undefined) launch.debris?.forget(debrisId);
      throw error;
    }
    log(`agents: swarm service ${spec.name}: ${spec.count} tasks of ${image}, logs in ${launch.logDir}`);
    const poller = (async () => {
      while (polling) {
        await poll().catch((error: Error) => log(`agents: polling swarm tasks: ${error.message}`));
        await sleep(POLL_MS);
      }
    })();

    let stopping: Promise<void> | undefined;
    return {
      describe: (index) => {
        const task = tasks.get(index);
        return task ? `task ${task.id.slice(0, 12)}${task.containerId ? `, container ${task.containerId.slice(0, 12)}` : ''}` : `slot ${index} of ${spec.name}`;
      },
      onExit: (listener) => {
        listeners.push(listener);
        for (const [index, how] of endings) listener(index, how);
      },
      stop: () =>
        (stopping ??= (async () => {
          polling = false;
          await poller;
          // Like the local engine: SIGTERM to each agent still running, SIGKILL after the grace, so their ends and output are kept.
          const running = (): SwarmTask[] => [...tasks.values()].filter((task) => !FINAL_TASK_STATES.has(task.state) && task.containerId);
          const settle = async (ms: number): Promise<void> => {
            for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(250)) {
              await poll().catch(() => undefined);
              if (running().length === 0) return;
            }
          };
          await poll().catch(() => undefined);
          await Promise.all(running().map((task) => killContainer(task.containerId!, 'TERM')));
          await settle(STOP_GRACE_SECONDS * 1000);
          await Promise.all(running().map((task) => killContainer(task.containerId!, 'KILL')));
          await settle(10_000);
          await Promise.all([...tasks].map(([index, task]) => saveLog(index, task)));
          try {
            await removeSwarmService(debris);
          } catch (error) {
            throw new HarnessError(`removing swarm service ${spec.name}: ${(error as Error).message}; \`lagstorm cleanup\` retries it`);
          }
          if (debrisId !== undefined) launch.debris?.forget(debrisId);
        })()),
    };
  },
});
