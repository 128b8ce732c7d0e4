/**
 * What a run leaves on the machine while it runs. Each item is written to runs/<id>/state.json
 * before it exists and forgotten after it is removed, so `lagstorm cleanup` can undo a killed run.
 */
export type DebrisItem =
  | { kind: 'process'; name: string; pid: number; /** /proc/<pid>/stat starttime, so a reused pid is never killed */ startTime?: string }
  | { kind: 'dir'; path: string }
  /** Containers of the run (label lagstorm.run-id); with `id`, that one container only. */
  | { kind: 'container'; runId: string; id?: string; name?: string }
  /** The agents' Swarm service and its config (agents/engines/swarm-engine.ts); leaveSwarm: the run made the swarm. */
  | { kind: 'swarm-service'; service: string; config: string; leaveSwarm: boolean }
  | { kind: 'nft-table'; family: 'inet' | 'ip' | 'ip6'; table: string }
  | { kind: 'mount'; path: string }
  | { kind: 'loop-device'; device: string; backingFile: string }
  | { kind: 'cgroup'; path: string }
  | { kind: 'toxiproxy-reset'; apiUrl: string }
  | { kind: 'pg-setting'; superuserUrl: string; setting: string }
  | { kind: 'pg-slot'; superuserUrl: string; slot: string }
  /** A blkio throttle (cgroup v1) on a device 'major:minor'; it outlives the loop device, so reset it to 0. */
  | { kind: 'blkio-throttle'; cgroupDir: string; device: string }
  /** Kubernetes objects of the agents (`--engine kubernetes`), undone by `kubectl delete -f <manifestFile> --ignore-not-found`. */
  | { kind: 'kubernetes'; context?: string; namespace: string; manifestFile: string };

export interface DebrisRecorder {
  /** Records an item; returns its id for `forget`. */
  record(item: DebrisItem): string;
  forget(id: string): void;
  list(): ReadonlyArray<{ id: string; item: DebrisItem }>;
}
