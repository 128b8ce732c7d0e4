/**
 * A fake `kubectl` for unit tests of the Kubernetes engine and its cleanup (a boundary fake: there
 * is no cluster here). A shell script first on PATH records every call's arguments and answers
 * from files the test writes: the current context, `auth can-i`, `get pods -o json`, a failing apply.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface FakeKubectl {
  /** The folder holding the script; put it first on PATH. */
  dir: string;
  /** PATH with the fake first, then the system's tools (the script needs cat and touch). */
  path: string;
  /** Every call's arguments, joined by spaces, in order. */
  calls(): string[];
  /** What `kubectl get pods -o json` answers from now on (written atomically: the engine polls meanwhile). */
  setPods(pods: unknown[]): void;
  /** Makes `kubectl apply` fail with this stderr. */
  failApply(stderr: string): void;
}

const SCRIPT = `#!/bin/sh
dir="$(dirname "$0")"
printf '%s\\n' "$*" >> "$dir/calls.log"
case " $* " in
  *" config current-context "*)
    if [ -f "$dir/context" ]; then cat "$dir/context"; else echo 'error: current-context is not set' >&2; exit 1; fi ;;
  *" auth can-i "*) echo yes ;;
  *" apply "*)
    if [ -f "$dir/apply-fails" ]; then cat "$dir/apply-fails" >&2; exit 1; fi
    echo 'job.batch/applied created' ;;
  *" get pods "*) cat "$dir/pods.json" ;;
  *" logs "*) echo "output of $*" ;;
  *" delete "*)
    if [ -f "$dir/deleted" ]; then exit 0; fi
    touch "$dir/deleted"
    echo 'configmap "x-scenario" deleted'
    echo 'job.batch "x" deleted' ;;
  *) echo "fake kubectl: unexpected call: $*" >&2; exit 9 ;;
esac
`;

/** Writes the fake into `dir` (which must exist); `context` undefined means kubectl has no current context. */
export function fakeKubectl(dir: string, options: { context?: string } = {}): FakeKubectl {
  const script = path.join(dir, 'kubectl');
  fs.writeFileSync(script, SCRIPT, { mode: 0o755 });
  if (options.context !== undefined) fs.writeFileSync(path.join(dir, 'context'), `${options.context}\n`);
  const write = (name: string, text: string): void => {
    fs.writeFileSync(path.join(dir, `${name}.tmp`), text);
    fs.renameSync(path.join(dir, `${name}.tmp`), path.join(dir, name));
  };
  const fake: FakeKubectl = {
    dir,
    path: `${dir}${path.delimiter}/usr/bin${path.delimiter}/bin`,
    calls: () => (fs.existsSync(path.join(dir, 'calls.log')) ? fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').split('\n').filter(Boolean) : []),
    setPods: (pods) => write('pods.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods })),
    failApply: (stderr) => write('apply-fails', `${stderr}\n`),
  };
  fake.setPods([]);
  return fake;
}

/** A pod of an Indexed Job as `kubectl get pods -o json` lists it (the fields the engine reads). */
export function jobPod(name: string, index: number, status: Record<string, unknown>): unknown {
  return { metadata: { name, annotations: { 'batch.kubernetes.io/job-completion-index': String(index) }, labels: { 'job-name': name.replace(/-\d+-[a-z0-9]+$/, '') } }, status };
}
