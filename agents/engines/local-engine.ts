/**
 * The `local` engine: N agent processes on this machine (the test bed). Each is `node
 * bin/lagstorm.js agent ...` with LAGSTORM_AGENT_INDEX set, its output in logs/agent-<i>.log.
 * Stop: SIGTERM to each pid it started, SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { processStartTime } from '../../stack/managed-process';
import { AGENT_INDEX_ENV, type AgentEngine, type AgentLaunch, type LaunchedAgents } from '../engine';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'lagstorm.js');
const STOP_GRACE_MS = 8000;

/** The CLI's last error line (`lagstorm: ...`) in an agent's log (a few lines), so a lost agent's reason is in the run's errors too. */
function lastError(logFile: string): string | undefined {
  let log: string;
  try {
    log = fs.readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const said = log.split('\n').reverse().find((line) => line.startsWith('lagstorm: '))?.slice('lagstorm: '.length).trim();
  return said && said.length > 300 ? `${said.slice(0, 300)}…` : said;
}

export const localEngine: AgentEngine = {
  name: 'local',
  sameMachine: true,
  settings: ['coordinatorListen', 'coordinatorPort'],
  async launch(launch: AgentLaunch): Promise<LaunchedAgents> {
    fs.mkdirSync(launch.logDir, { recursive: true });
    const listeners: Array<(index: number, how: string) => void> = [];
    const exits: Array<Promise<void>> = [];
    const children: ChildProcess[] = [];
    const endings = new Map<number, string>();
    const ending = (index: number, how: string): void => {
      endings.set(index, how);
      for (const listener of listeners) listener(index, how);
    };
    for (let index = 0; index < launch.count; index++) {
      const logFile = path.join(launch.logDir, `agent-${index}.log`);
      const out = fs.openSync(logFile, 'a');
      const child = spawn(process.execPath, [CLI, 'agent', launch.scenarioFile, ...launch.options], {
        env: { ...process.env, ...launch.env, [AGENT_INDEX_ENV.index]: String(index) },
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out); // the child holds its own descriptor
      children.push(child);
      const debrisId = child.pid !== undefined ? launch.debris?.record({ kind: 'process', name: `agent-${index}`, pid: child.pid, startTime: processStartTime(child.pid) }) : undefined;
      exits.push(
        new Promise<void>((resolve) => {
          child.once('error', (error) => {
            if (debrisId !== undefined) launch.debris?.forget(debrisId);
            ending(index, `could not start: ${error.message}`);
            resolve();
          });
          child.once('exit', (code, signal) => {
            if (debrisId !== undefined) launch.debris?.forget(debrisId);
            const said = code && code !== 130 && code !== 143 ? lastError(logFile) : undefined; // not after our own SIGTERM
            const how = signal ? `killed by ${signal}` : `exited with code ${code}${said ? ` (it said: ${said})` : ''}`;
            launch.log?.(`agents: agent ${index} (pid ${child.pid}) ${how}`);
            ending(index, how);
            resolve();
          });
        }),
      );
      launch.log?.(`agents: started agent ${index} (pid ${child.pid}), log ${logFile}`);
    }
    let stopping: Promise<void> | undefined;
    return {
      describe: (index) => `pid ${children[index]?.pid ?? '?'}`,
      onExit: (listener) => {
        listeners.push(listener);
        // An agent that ended before anyone listened (bad arguments, a crash at start) is still reported.
        for (const [index, how] of endings) listener(index, how);
      },
      stop: () =>
        (stopping ??= (async () => {
          const alive = children.filter((child, index) => !endings.has(index) && child.pid !== undefined);
          for (const child of alive) child.kill('SIGTERM');
          const grace = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
          await Promise.race([Promise.all(exits), grace]);
          children.forEach((child, index) => {
            if (!endings.has(index) && child.pid !== undefined) child.kill('SIGKILL');
          });
          await Promise.all(exits);
        })()),
    };
  },
};
