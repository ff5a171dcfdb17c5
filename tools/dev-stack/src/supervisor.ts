import type { Logger } from '@rag/observability';
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_RESTART_POLICY, RestartPolicy, type RestartPolicyOptions } from './restart-policy';

export interface SupervisorOptions {
  /** What the processes are, for the logs (e.g. rag-worker). */
  name: string;
  count: number;
  command: string;
  args: string[];
  /** The environment of instance `n` (1-based); called again for every restart. */
  env: (n: number) => NodeJS.ProcessEnv;
  logger: Logger;
  policy?: RestartPolicyOptions;
  /** After a stop signal, children still running this long are killed. */
  stopTimeoutMs?: number;
}

interface Instance {
  n: number;
  child?: ChildProcess;
  startedAt: number;
  restarts: number;
  policy: RestartPolicy;
  timer?: NodeJS.Timeout;
}

/**
 * Keeps `count` copies of a process running: one that crashes (exits with a
 * non-zero code or is killed by a signal) is started again after a backoff,
 * on its own, so one crash never touches the others; a crash loop is logged
 * as an error on every restart. A graceful exit (code 0) is not restarted. Stop signals are passed on to
 * the children, and `stop` resolves once they have all exited.
 */
export class Supervisor {
  private readonly instances: Instance[];
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {
    this.instances = Array.from({ length: options.count }, (_, i) => ({
      n: i + 1,
      startedAt: 0,
      restarts: 0,
      policy: new RestartPolicy(options.policy ?? DEFAULT_RESTART_POLICY),
    }));
  }

  start(): void {
    for (const instance of this.instances) this.spawn(instance);
  }

  /** Live child pids by instance number (1-based). */
  pids(): (number | undefined)[] {
    return this.instances.map((i) => (i.child && i.child.exitCode === null && i.child.signalCode === null ? i.child.pid : undefined));
  }

  private spawn(instance: Instance): void {
    const { name, command, args, env, logger } = this.options;
    const child = spawn(command, args, { env: env(instance.n), stdio: ['ignore', 'inherit', 'inherit'] });
    instance.child = child;
    instance.startedAt = Date.now();
    let handled = false;
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      if (!handled) this.exited(instance, child, code, signal);
      handled = true;
    };
    child.once('exit', exited);
    // A command that cannot be started at all (ENOENT) may never emit 'exit'; it is retried like a crash.
    child.on('error', (error) => {
      logger.error(`${name} could not be started`, { instance: instance.n, command, error: error.message });
      if (child.pid === undefined) exited(null, null);
    });
    if (child.pid) logger.info(`${name} started`, { instance: instance.n, pid: child.pid, restarts: instance.restarts });
  }

  private exited(instance: Instance, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const { name, logger } = this.options;
    const ranMs = Date.now() - instance.startedAt;
    if (this.stopping) {
      logger.info(`${name} exited`, { instance: instance.n, pid: child.pid, code, signal });
      return;
    }
    // Exit code 0 is a graceful stop someone asked for (the worker drains on SIGTERM/SIGINT and exits 0), e.g.
    // nx stopping its tasks, which signals the children before their parent: like `restart: on-failure`,
    // only crashes (a non-zero code, or death by a signal) are restarted.
    if (code === 0) {
      logger.info(`${name} stopped (exit code 0); not restarted`, { instance: instance.n, pid: child.pid, ran_ms: ranMs });
      return;
    }
    const decision = instance.policy.onExit(ranMs, Date.now());
    instance.restarts++;
    const fields = {
      instance: instance.n,
      pid: child.pid,
      code,
      signal,
      ran_ms: ranMs,
      restart_in_ms: decision.delayMs,
      restarts: instance.restarts,
      crashes_in_a_row: decision.consecutive,
    };
    if (decision.crashLoop) {
      logger.error(`${name} is crash-looping: restarting it every ${Math.round(decision.delayMs / 1000)} s until it stays up; its last lines above say why`, {
        ...fields,
        crashes_in_window: decision.recent,
        window_s: Math.round((this.options.policy ?? DEFAULT_RESTART_POLICY).crashLoopWindowMs / 1000),
      });
    } else {
      logger.error(`${name} exited unexpectedly; restarting it`, fields);
    }
    instance.timer = setTimeout(() => {
      instance.timer = undefined;
      if (!this.stopping) this.spawn(instance);
    }, decision.delayMs);
  }

  /** Passes `signal` on, restarts nothing more, and resolves once every child has exited. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    this.stopping = true;
    const running = this.instances.flatMap((instance) => {
      clearTimeout(instance.timer);
      const child = instance.child;
      return child && child.exitCode === null && child.signalCode === null ? [child] : [];
    });
    this.options.logger.info(`stopping ${this.options.name}`, { signal, pids: running.map((c) => c.pid) });
    const exits = running.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
    for (const child of running) child.kill(signal);
    const timeout = this.options.stopTimeoutMs ?? 90_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeout)));
    if ((await Promise.race([Promise.all(exits), late])) === 'late') {
      this.options.logger.error(`${this.options.name} did not stop within ${timeout} ms; killing it`, { pids: this.pids().filter(Boolean) });
      for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(exits);
    }
    clearTimeout(timer);
  }
}
