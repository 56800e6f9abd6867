import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AvalancheNodeClient, nodeIdFromCertPem, StakingKeyMaterial } from '@snowline/avalanche';
import { NodeDriver } from './node-driver';
import type { NodeReport } from './protocol';

export interface ProcessNodeDriverOptions {
  /** Path to avalanchego (or anything that takes its flags). */
  binary: string;
  /** Key files go to `<dataDir>/staking/`. */
  dataDir: string;
  /** Extra flags (network id, data dir, bootstrap IPs…). */
  args?: string[];
  /** L1s to track (`--track-subnets`, config/keys.go TrackSubnetsKey): an L1 validator's host's. */
  trackSubnets?: readonly string[];
  httpPort: number;
  /** SIGTERM, then SIGKILL after this long (stop(timeoutMs) may ask for less, never more). */
  stopTimeoutMs?: number;
  /**
   * Launch through `setpriv --pdeathsig KILL` so the kernel kills the node if the agent dies
   * (default: `/usr/bin/setpriv` when it exists; `null` to never use it).
   */
  setpriv?: string | null;
  /** Timeout of each call to the node's HTTP API in report(). */
  requestTimeoutMs?: number;
  log?: (msg: string, fields?: object) => void;
}

const errorText = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).slice(0, 200);

const SETPRIV = '/usr/bin/setpriv';

/** Signals the child's whole process group; falls back to the child alone if the group is gone. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * A `sh` that reads the agent's end of a pipe and SIGKILLs the node's group when it closes, i.e. when
 * the agent dies, however it dies. Unlike the parent-death signal it also reaches the node's own
 * children. It leads its own group, so it outlives the agent; the driver kills it with the node.
 */
function startWatchdog(pgid: number): ChildProcess | null {
  try {
    const dog = spawn('/bin/sh', ['-c', 'read _ignored; kill -KILL "-$0"', String(pgid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    dog.on('error', () => undefined);
    dog.stdin?.on('error', () => undefined);
    // Neither the pipe nor the process keeps the agent's event loop alive.
    dog.unref();
    (dog.stdin as Socket | null)?.unref();
    return dog;
  } catch {
    return null;
  }
}

/** Runs the real avalanchego as a child process with the identity's three key files. */
export class ProcessNodeDriver extends NodeDriver {
  private child: ChildProcess | null = null;
  private exited: Promise<void> | null = null;
  private nodeId: string | null = null;
  private lastExit: string | null = null;
  private readonly client: AvalancheNodeClient;
  private readonly stakingDir: string;
  private op: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ProcessNodeDriverOptions) {
    super();
    this.client = new AvalancheNodeClient(`http://127.0.0.1:${opts.httpPort}`, {
      timeoutMs: opts.requestTimeoutMs ?? 2_000,
    });
    this.stakingDir = join(opts.dataDir, 'staking');
  }

  get files() {
    return {
      cert: join(this.stakingDir, 'staker.crt'),
      key: join(this.stakingDir, 'staker.key'),
      signer: join(this.stakingDir, 'signer.key'),
    };
  }

  start(keys: StakingKeyMaterial): Promise<void> {
    return this.serial(() => this.doStart(keys));
  }

  stop(timeoutMs?: number): Promise<void> {
    return this.serial(() => this.doStop(timeoutMs));
  }

  /** The node's process group (its pid: it leads its own group); null when not running. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async report(): Promise<NodeReport> {
    const observedAt = new Date().toISOString();
    if (!this.child) {
      return {
        running: false,
        nodeId: null,
        healthy: false,
        bootstrapped: false,
        observedAt,
        error: this.lastExit,
        trackedSubnets: [...(this.opts.trackSubnets ?? [])],
      };
    }
    const [id, health, ready] = await Promise.allSettled([
      this.client.getNodeID(),
      this.client.health(),
      this.client.readiness(),
    ]);
    const errors = [id, health, ready]
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => errorText(r.reason));
    return {
      running: true,
      nodeId: id.status === 'fulfilled' ? id.value.nodeID : null,
      healthy: health.status === 'fulfilled' ? health.value.healthy : null,
      bootstrapped: ready.status === 'fulfilled' ? ready.value.healthy : null,
      observedAt,
      error: errors.length ? errors[0] : null,
      trackedSubnets: [...(this.opts.trackSubnets ?? [])],
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.op.then(fn, fn);
    this.op = next.catch(() => undefined);
    return next;
  }

  private async doStart(keys: StakingKeyMaterial): Promise<void> {
    const nodeId = nodeIdFromCertPem(keys.stakerCrt);
    if (this.child && this.nodeId === nodeId) return;
    if (this.child) await this.doStop();

    await mkdir(this.stakingDir, { recursive: true, mode: 0o700 });
    await chmod(this.stakingDir, 0o700);
    const f = this.files;
    for (const [path, data] of [
      [f.cert, keys.stakerCrt],
      [f.key, keys.stakerKey],
      [f.signer, keys.signerKey],
    ] as const) {
      await writeFile(path, data, { mode: 0o600 });
      await chmod(path, 0o600); // writeFile's mode only applies when it creates the file
    }

    const args = [
      ...(this.opts.args ?? []),
      `--staking-tls-cert-file=${f.cert}`,
      `--staking-tls-key-file=${f.key}`,
      `--staking-signer-key-file=${f.signer}`,
      `--http-port=${this.opts.httpPort}`,
      ...(this.opts.trackSubnets?.length
        ? [`--track-subnets=${this.opts.trackSubnets.join(',')}`]
        : []),
    ];
    const child = this.launch(args);
    this.child = child;
    this.nodeId = nodeId;
    this.lastExit = null;
    const watchdog = child.pid === undefined ? null : startWatchdog(child.pid);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        // Whatever the node left behind in its group (plugin VMs) goes with it, and so does its watchdog.
        killGroup(child, 'SIGKILL');
        watchdog?.kill('SIGKILL');
        if (this.child === child) {
          this.child = null;
          this.nodeId = null;
          this.lastExit = `avalanchego exited (${signal ?? `code ${code}`})`;
          this.opts.log?.('node process exited', { code, signal });
        }
        resolve();
      });
      child.once('error', (err) => {
        watchdog?.kill('SIGKILL');
        if (this.child === child) {
          this.child = null;
          this.nodeId = null;
          this.lastExit = `avalanchego failed to start: ${errorText(err)}`;
        }
        resolve();
      });
    });
  }

  /**
   * Own process group (detached), so that a stop reaches every process the node started; and a
   * parent-death signal, so that a node never outlives a crashed agent (setpriv execs the binary: the
   * pid is the node's).
   */
  private launch(args: string[]): ChildProcess {
    const setpriv =
      this.opts.setpriv === undefined ? (existsSync(SETPRIV) ? SETPRIV : null) : this.opts.setpriv;
    const [cmd, argv] = setpriv
      ? [setpriv, ['--pdeathsig', 'KILL', '--', this.opts.binary, ...args]]
      : [this.opts.binary, args];
    return spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  }

  private async doStop(timeoutMs?: number): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (child && exited && child.exitCode === null && child.signalCode === null) {
      const deadline = Math.max(
        0,
        Math.min(timeoutMs ?? Infinity, this.opts.stopTimeoutMs ?? 30_000),
      );
      killGroup(child, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadline))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.opts.log?.('node did not stop on SIGTERM in time, sending SIGKILL', {
          pid: child.pid,
          deadlineMs: deadline,
        });
        killGroup(child, 'SIGKILL');
        await exited;
      }
    }
    this.child = null;
    this.nodeId = null;
    this.exited = null;
    const f = this.files;
    await Promise.all([f.cert, f.key, f.signer].map((p) => rm(p, { force: true })));
  }
}
