import { Inject, Injectable, Logger } from '@nestjs/common';
import { InstanceIdentityError } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { reportedVersion } from '@snowline/domain';
import type { KeyObject } from 'node:crypto';
import { Counter } from 'prom-client';
import {
  acknowledgesStop,
  canGrantKeys,
  decideLease,
  instanceIdentityAudience,
  keyFingerprint,
  keysAad,
  keysRetryAfterMs,
  parsePublicKey,
  parseSignatureHeader,
  sealToHost,
  verifyRequestSignature,
  type KeysRequest,
  type KeysResponse,
  type LeaseRequest,
  type LeaseResponse,
  type LegacyKeysResponse,
  type RegisterRequest,
  type RegisterResponse,
  type StoppedRequest,
} from '@snowline/agent';
import {
  HostEntity,
  Repositories,
  sha256Hex,
  ValidatorEntity,
  type FastRenewal,
  type FastRenewalItem,
  type Tx,
} from '@snowline/persistence';
import { TokenBuckets } from '../auth/token-bucket';
import { Problem } from '../common/problem';
import { IdentityService } from '../identities/identity.service';
import { HealthMetrics } from '../zones/health-metrics';
import { MetricsService } from '../metrics/metrics.service';
import { GroupCommit } from './group-commit';
import { InstanceIdentityVerifier } from './instance-identity.verifier';

/** One agent request as it arrived: what authenticates it. */
export interface AgentCall {
  /** The `Authorization` header. */
  header: string | undefined;
  /** Which route, by its canonical path (what the agent signs, whatever proxy is in front). */
  path: string;
  /** The exact body bytes (a signature covers them). */
  rawBody: Buffer | undefined;
  client: string;
}

const bearer = (h?: string) => /^Bearer\s+(\S+)$/i.exec(h ?? '')?.[1];
const fenced = (reason: string) => new Problem(409, 'Fenced', reason, { fenced: true, reason });

/**
 * The control plane's side of the agent protocol. Fencing rules live here:
 * a host may run an identity only while its generation is the validator's current one, and it
 * gets the keys once, only after every earlier holder's lease has run out (plus a skew margin) or
 * its instance is confirmed gone.
 */
@Injectable()
export class AgentService {
  private readonly log = new Logger(AgentService.name);

  constructor(
    private readonly repos: Repositories,
    private readonly identities: IdentityService,
    private readonly healthMetrics: HealthMetrics,
    private readonly identity: InstanceIdentityVerifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    const perMinute = config.publicApi.agentAuthFailuresPerMinute;
    this.authFailures = new TokenBuckets(perMinute / 60, perMinute);
    // The group commit's own figures, read at scrape time: renewals ÷ batches is the mean batch.
    const renewals = this.renewals;
    const total = (name: string, help: string, value: () => number) =>
      new Counter({
        name,
        help,
        registers: [metrics.registry],
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    total(
      'snowline_agent_lease_batches_total',
      'Statements the fast lease path wrote, each renewing a group of hosts in one commit',
      () => renewals.batches,
    );
    total(
      'snowline_agent_lease_batched_renewals_total',
      'Renewals the fast lease path sent in those statements (renewed or handed to the full path)',
      () => renewals.items,
    );
  }

  /** Failed authentications by client address (see `authenticate`). */
  private readonly authFailures: TokenBuckets;

  /**
   * Fast-path renewals, written in groups: those that arrive while a statement runs go together in
   * the next one (GroupCommit; HostRepository.renewLeasesFast), each answered after its commit.
   */
  readonly renewals = new GroupCommit<FastRenewalItem, FastRenewal | null>(
    (items) => this.repos.hosts.renewLeasesFast(items, this.config.agent.leaseTtlSeconds),
    { maxBatch: 200, maxInFlight: 2 },
  );

  private readonly keyCache = new Map<string, { spki: string; key: KeyObject }>();

  /** Parses a host's bound signing key once per replica (bounded: cleared past 50,000 hosts). */
  private cacheKey(hostId: string, spki: string): { spki: string; key: KeyObject } {
    const entry = { spki, key: parsePublicKey(spki, 'ed25519') };
    if (this.keyCache.size > 50_000) this.keyCache.clear();
    this.keyCache.set(hostId, entry);
    return entry;
  }

  private tooMany(client: string): Problem | null {
    const wait = this.authFailures.wait(client);
    if (wait <= 0) return null;
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    return new Problem(
      429,
      'Too Many Requests',
      `Too many failed agent authentications from ${client}; retry after ${seconds} s.`,
      { retryAfterSeconds: seconds },
    );
  }

  private unauthorized(client: string, detail: string): Problem {
    this.authFailures.take(client);
    return new Problem(401, 'Unauthorized', detail);
  }

  /**
   * The host a request speaks for. A protocol-2 host signs every request with its own key (bound at
   * register); its bootstrap token only registers, once. A protocol-1 host (launched before host
   * credentials) still presents its bootstrap token, until AGENT_PROTOCOL1_UNTIL. Failed attempts
   * are counted per client address: past AGENT_AUTH_FAILURES_PER_MINUTE the address gets 429 before
   * any lookup, so nobody can guess credentials or load the database through this door at will.
   */
  async authenticate(call: AgentCall, hostId: string): Promise<HostEntity> {
    const limited = this.tooMany(call.client);
    if (limited) throw limited;
    const signed = parseSignatureHeader(call.header);
    if (signed) {
      const host = signed.hostId === hostId ? await this.repos.hosts.findById(hostId) : null;
      const problem = host ? this.checkSignature(host, signed, call) : 'Unknown host or signature.';
      if (problem) throw this.unauthorized(call.client, problem);
      return host!;
    }
    const token = bearer(call.header);
    if (!token) {
      throw this.unauthorized(
        call.client,
        'Sign the request with the host key (`Authorization: Snowline-Host …`), or send the bootstrap token as `Authorization: Bearer <token>` to register.',
      );
    }
    const host = await this.repos.hosts.findByTokenHash(sha256Hex(token));
    if (!host || host.id !== hostId) throw this.unauthorized(call.client, 'Unknown host or token.');
    if (host.agentProtocol === 2) {
      throw this.unauthorized(
        call.client,
        'This host registered its own key: sign the request with it; the bootstrap token only registers, once.',
      );
    }
    this.checkProtocol1(host);
    return host;
  }

  private checkProtocol1(host: HostEntity): void {
    const until = this.config.agent.protocol1UntilMs;
    if (until !== null && Date.now() >= until) {
      throw new Problem(
        401,
        'Unauthorized',
        `Host ${host.id} speaks agent protocol 1, accepted until ${new Date(until).toISOString()} (AGENT_PROTOCOL1_UNTIL); replace it with a host launched now.`,
      );
    }
  }

  /** Null when the signature is this host's over this request and fresh; else what is wrong. */
  private checkSignature(
    host: HostEntity,
    signed: NonNullable<ReturnType<typeof parseSignatureHeader>>,
    call: AgentCall,
  ): string | null {
    if (!host.agentSigningKey) return 'This host has no registered key; register first.';
    const windowMs = this.config.agent.signatureWindowSeconds * 1000;
    if (Math.abs(Date.now() - signed.ts) > windowMs) {
      return `The request's timestamp is more than ${this.config.agent.signatureWindowSeconds} s from the control plane's clock; check the host's time sync.`;
    }
    let cached = this.keyCache.get(host.id);
    if (cached?.spki !== host.agentSigningKey)
      cached = this.cacheKey(host.id, host.agentSigningKey);
    const ok = verifyRequestSignature(cached.key, signed, {
      method: 'POST',
      path: call.path,
      body: (call.rawBody ?? Buffer.alloc(0)).toString('utf8'),
    });
    return ok ? null : 'Unknown host or signature.';
  }

  /**
   * `POST /v1/agent/register`. Protocol 2: a host binds its public keys with its unspent,
   * unexpired bootstrap token (and, where the cloud signs them, its instance identity document); a
   * restarted agent signs its register with the bound key; a reimaged instance binds a new key with a
   * fresh identity document alone, once the old key has been silent for a lease. Protocol 1: the token.
   */
  async registerCall(call: AgentCall, body: RegisterRequest): Promise<RegisterResponse> {
    const res = await this.registerHost(call, body);
    // The version installed on the host, when the agent says (an older one does not: leave it).
    if (body.version !== undefined)
      await this.repos.hosts.update(res.hostId, { runningVersion: reportedVersion(body.version) });
    return res;
  }

  private async registerHost(call: AgentCall, body: RegisterRequest): Promise<RegisterResponse> {
    const limited = this.tooMany(call.client);
    if (limited) throw limited;
    if (!body.hostId) return this.registerBatchMember(call, body);
    const req = body as RegisterRequest & { hostId: string };
    if (parseSignatureHeader(call.header)) {
      const host = await this.authenticate(call, req.hostId);
      this.checkUsable(host, req);
      return this.registered(host, 2);
    }
    const token = bearer(call.header);
    const byToken = token ? await this.repos.hosts.findByTokenHash(sha256Hex(token)) : null;
    if (byToken && byToken.id === req.hostId && byToken.agentProtocol === 1) {
      this.checkProtocol1(byToken);
      return this.register(byToken, req);
    }
    const keys = this.requestKeys(req);
    if (byToken && byToken.id === req.hostId) {
      const now = await this.repos.clock();
      if (byToken.bootstrapExpiresAt && byToken.bootstrapExpiresAt > now) {
        this.checkUsable(byToken, req);
        if (this.identity.enabled) await this.verifyIdentity(call, req, keys.signingKey);
        if (!(await this.bind(byToken, req, keys, 'host.registered')))
          throw this.unauthorized(
            call.client,
            'Unknown host or token (a bootstrap token opens one registration only).',
          );
        return this.registered(byToken, 2);
      }
      if (!req.instanceIdentity) {
        throw this.unauthorized(
          call.client,
          'The bootstrap token has expired; register with a signed instance identity document.',
        );
      }
    }
    if (!req.instanceIdentity || !this.identity.enabled) {
      throw this.unauthorized(
        call.client,
        token
          ? 'Unknown host or token (a bootstrap token opens one registration only).'
          : 'Send the bootstrap token as `Authorization: Bearer <token>`.',
      );
    }
    // A reimaged instance: its key went with the disk, its token was spent.
    const host = await this.repos.hosts.findById(req.hostId);
    if (!host || host.agentProtocol !== 2 || !host.instanceId)
      throw this.unauthorized(call.client, 'Unknown host.');
    await this.verifyIdentity(call, req, keys.signingKey);
    this.checkUsable(host, req);
    return this.rebind(host, req, keys);
  }

  /** A new key for a host whose bound key went silent for a lease (a reimaged instance). */
  private async rebind(
    host: HostEntity,
    req: RegisterRequest,
    keys: { signingKey: string; encryptionKey: string },
  ): Promise<RegisterResponse> {
    const now = await this.repos.clock();
    // Silent: no lease renewed by the bound key is still running, and it was bound over a TTL ago.
    const ttlMs = this.config.agent.leaseTtlSeconds * 1000;
    const silentFrom = Math.max(
      host.leaseExpiresAt?.getTime() ?? 0,
      (host.agentKeyBoundAt?.getTime() ?? -Infinity) + ttlMs,
    );
    if (host.agentSigningKey && silentFrom > now.getTime()) {
      const retryAfterMs = silentFrom - now.getTime();
      throw new Problem(
        425,
        'Too Early',
        'The key this host registered before still holds a live lease; a new key binds once it has been silent for a lease.',
        { retryAfterMs, reason: 'waiting for the bound key to go silent' },
      );
    }
    if (!(await this.bind(host, req, keys, 'host.rebound'))) {
      throw new Problem(
        425,
        'Too Early',
        'Another key was bound to this host meanwhile; a new key binds once it has been silent for a lease.',
        { retryAfterMs: ttlMs, reason: 'waiting for the bound key to go silent' },
      );
    }
    return this.registered(host, 2);
  }

  /**
   * A batch launch's instance (its UserData names the batch, not a host): it proves its instance
   * with the signed identity document, and is bound to the batch's host row the worker recorded
   * for that instance. The batch token opens each member's first registration until it expires
   * or every member has bound its key; later, a reimaged member rebinds as any host does.
   */
  private async registerBatchMember(
    call: AgentCall,
    req: RegisterRequest,
  ): Promise<RegisterResponse> {
    if (!req.batchId)
      throw new Problem(
        400,
        'Bad Request',
        'hostId or batchId: name the host (or batch) from UserData.',
      );
    const keys = this.requestKeys(req);
    if (!this.identity.enabled) {
      throw this.unauthorized(
        call.client,
        'A batch-launched instance proves itself with its signed instance identity document, and this control plane has no certificate to check one (ECS_IDENTITY_CERT_FILE).',
      );
    }
    await this.verifyIdentity(call, req, keys.signingKey);
    const token = bearer(call.header);
    const batch = await this.repos.batches.findById(req.batchId);
    if (!batch) throw this.unauthorized(call.client, 'Unknown batch.');
    const host = await this.repos.hosts.findInBatch(batch.id, req.instanceId);
    if (!host) {
      if (batch.instanceIds && !batch.instanceIds.includes(req.instanceId))
        throw this.unauthorized(call.client, 'This instance is not of that batch.');
      throw new Problem(425, 'Too Early', "This instance's launch is not recorded yet; retry.", {
        retryAfterMs: 1_000,
        reason: 'waiting for the worker to record the batch launch',
      });
    }
    this.checkUsable(host, req);
    if (host.agentSigningKey) return this.rebind(host, req, keys);
    const now = await this.repos.clock();
    const tokenOk =
      token !== undefined &&
      batch.bootstrapTokenHash === sha256Hex(token) &&
      batch.bootstrapExpiresAt !== null &&
      batch.bootstrapExpiresAt > now;
    if (!tokenOk) throw this.unauthorized(call.client, 'Unknown or expired batch token.');
    if (!(await this.bind(host, req, keys, 'host.registered')))
      throw this.unauthorized(call.client, 'This host registered another key meanwhile.');
    await this.repos.transaction((tx) => this.repos.batches.spendIfAllBound(batch.id, tx));
    return this.registered(host, 2);
  }

  private requestKeys(req: RegisterRequest): { signingKey: string; encryptionKey: string } {
    if (!req.signingKey || !req.encryptionKey) {
      throw new Problem(
        400,
        'Bad Request',
        'signingKey and encryptionKey: a protocol-2 host registers its Ed25519 and X25519 public keys (SPKI DER, base64).',
      );
    }
    try {
      parsePublicKey(req.signingKey, 'ed25519');
    } catch (err) {
      throw new Problem(400, 'Bad Request', `signingKey: ${(err as Error).message}.`);
    }
    try {
      parsePublicKey(req.encryptionKey, 'x25519');
    } catch (err) {
      throw new Problem(400, 'Bad Request', `encryptionKey: ${(err as Error).message}.`);
    }
    return { signingKey: req.signingKey, encryptionKey: req.encryptionKey };
  }

  private async verifyIdentity(call: AgentCall, req: RegisterRequest, signingKey: string) {
    if (!req.instanceIdentity) {
      throw new Problem(
        400,
        'Bad Request',
        "instanceIdentity: this cloud signs instance identity documents; send the metadata service's signature for the audience snowline:<hostId>:<key fingerprint>.",
      );
    }
    const audience = instanceIdentityAudience(
      req.hostId ?? req.batchId!,
      keyFingerprint(signingKey),
    );
    let instanceId: string;
    try {
      instanceId = (await this.identity.verify(req.instanceIdentity, audience)).instanceId;
    } catch (err) {
      if (!(err instanceof InstanceIdentityError)) {
        this.log.warn({ err: (err as Error).message }, 'instance identity certificate unavailable');
        throw new Problem(
          503,
          'Service Unavailable',
          'The control plane cannot load the certificate that signs instance identity documents; retry.',
        );
      }
      throw this.unauthorized(
        call.client,
        `The instance identity document did not verify: ${(err as Error).message}`,
      );
    }
    if (instanceId !== req.instanceId)
      throw this.unauthorized(
        call.client,
        'The instance identity document names another instance.',
      );
  }

  private checkUsable(host: HostEntity, req: RegisterRequest): void {
    if (host.deletedAt || host.fenced)
      throw fenced('This host has been retired; it must not run a node.');
    if (host.instanceId && host.instanceId !== req.instanceId) {
      throw new Problem(403, 'Forbidden', 'This host belongs to another instance.');
    }
  }

  /**
   * Binds the host's keys and spends its bootstrap token, in one statement. False when a concurrent
   * registration bound a key or renewed a lease since `host` was read (it wins; this one binds nothing).
   */
  private async bind(
    host: HostEntity,
    req: RegisterRequest,
    keys: { signingKey: string; encryptionKey: string },
    type: 'host.registered' | 'host.rebound',
  ): Promise<boolean> {
    return this.repos.transaction(async (tx) => {
      const locked = await this.repos.hosts.findForUpdate(host.id, tx);
      if (
        !locked ||
        locked.bootstrapTokenHash !== host.bootstrapTokenHash ||
        locked.agentSigningKey !== host.agentSigningKey ||
        locked.leaseExpiresAt?.getTime() !== host.leaseExpiresAt?.getTime()
      )
        return false;
      const now = await this.repos.clock(tx);
      await this.repos.hosts.update(
        host.id,
        {
          agentSigningKey: keys.signingKey,
          agentEncryptionKey: keys.encryptionKey,
          agentKeyBoundAt: now,
          bootstrapTokenHash: null,
          bootstrapTokenSealed: null,
          registeredAt: host.registeredAt ?? now,
          instanceId: host.instanceId ?? req.instanceId,
        },
        tx,
      );
      const fp = keyFingerprint(keys.signingKey);
      await this.repos.events.append(
        {
          type,
          message:
            type === 'host.registered'
              ? `Agent on ${req.instanceId} registered with host key ${fp}`
              : `Agent on ${req.instanceId} proved its instance and bound a new host key ${fp} (the old one was silent)`,
          projectId: host.projectId,
          validatorId: host.validatorId,
          hostId: host.id,
          zone: host.zone,
          data: { keyFingerprint: fp },
        },
        tx,
      );
      return true;
    });
  }

  private registered(host: HostEntity, protocol: 1 | 2): RegisterResponse {
    return {
      hostId: host.id,
      protocol,
      leaseTtlSeconds: this.config.agent.leaseTtlSeconds,
      renewIntervalSeconds: this.config.agent.renewSeconds,
      stakingReportSeconds: this.config.staking.reportSeconds,
    };
  }

  /** Protocol 1: the bootstrap token registers (and goes on authenticating) the host. */
  private async register(host: HostEntity, req: RegisterRequest): Promise<RegisterResponse> {
    this.checkUsable(host, req);
    if (!host.registeredAt) {
      await this.repos.hosts.update(host.id, {
        registeredAt: new Date(),
        instanceId: req.instanceId,
      });
      await this.repos.events.append({
        type: 'host.registered',
        message: `Agent on ${req.instanceId} registered`,
        projectId: host.projectId,
        validatorId: host.validatorId,
        hostId: host.id,
        zone: host.zone,
      });
    }
    return this.registered(host, 1);
  }

  /**
   * The renewal most calls are (issue 20): a signed request from a host whose key this replica has
   * seen, verified in memory, then one statement that renews only in the plain case
   * (Repositories.hosts.renewLeasesFast — it also checks the key is still the bound one), shared
   * with the renewals that arrive meanwhile (`renewals`, a group commit). Null means "take the full
   * path", which decides everything again from scratch (and answers any 401/409). The answer is
   * sent only after that statement committed: an acknowledged renewal is durable.
   */
  async leaseFast(call: AgentCall, req: LeaseRequest): Promise<LeaseResponse | null> {
    const signed = parseSignatureHeader(call.header);
    if (!signed || signed.hostId !== req.hostId) return null;
    if (this.authFailures.wait(call.client) > 0) return null;
    let cached = this.keyCache.get(req.hostId);
    if (!cached) {
      // A host this replica has not seen yet (a restart, another replica's host): its key alone.
      const spki = await this.repos.hosts.signingKeyOf(req.hostId);
      if (!spki) return null;
      cached = this.cacheKey(req.hostId, spki);
    }
    if (Math.abs(Date.now() - signed.ts) > this.config.agent.signatureWindowSeconds * 1000)
      return null;
    const body = (call.rawBody ?? Buffer.alloc(0)).toString('utf8');
    if (!verifyRequestSignature(cached.key, signed, { method: 'POST', path: call.path, body }))
      return null;
    const ttl = this.config.agent.leaseTtlSeconds;
    const r = await this.renewals.submit({
      hostId: req.hostId,
      signingKey: cached.spki,
      generation: req.generation,
      report: { ...req.node },
    });
    if (!r) return null;
    return {
      role: r.validatorId ? 'assigned' : 'standby',
      assignment: r.validatorId
        ? { validatorId: r.validatorId, generation: r.generation!, nodeId: r.nodeId! }
        : null,
      leaseExpiresAt: r.leaseExpiresAt.toISOString(),
      leaseTtlSeconds: ttl,
    };
  }

  async lease(hostId: string, req: LeaseRequest): Promise<LeaseResponse> {
    // Timed by the database's clock, read once the rows are locked (see Repositories.clock).
    let now = new Date(NaN);
    const ttl = this.config.agent.leaseTtlSeconds;
    type Outcome =
      { fenced: string } | { role: LeaseResponse['role']; assignment: LeaseResponse['assignment'] };
    const result = await this.repos.transaction(async (tx): Promise<Outcome> => {
      const host = await this.repos.hosts.findForUpdate(hostId, tx);
      now = await this.repos.clock(tx);
      // FOR UPDATE: a generation bump cannot interleave with this renewal (and a re-arm below may bump).
      const v =
        host && !host.deletedAt && !host.fenced && host.role === 'assigned' && host.validatorId
          ? await this.repos.validators.findForUpdate(host.validatorId, tx)
          : null;
      const decision = decideLease({
        hostId,
        host: {
          exists: host !== null,
          deleted: host?.deletedAt != null,
          fenced: host?.fenced ?? false,
          role: host?.role ?? 'standby',
          validatorId: host?.validatorId ?? null,
          generation: host?.generation ?? null,
          leaseExpiresAt: host?.leaseExpiresAt?.getTime() ?? null,
          keysFetchedGeneration: host?.keysFetchedGeneration ?? null,
        },
        validator: v ? { state: v.state, hostId: v.hostId, generation: v.generation } : null,
        requestGeneration: req.generation,
        now: now.getTime(),
      });
      // An agent that talks runs: whatever the cloud last said, its instance is not stopped.
      if (host?.stopConfirmedAt)
        await this.repos.hosts.update(host.id, { stopConfirmedAt: null }, tx);
      if (decision.kind === 'fence') {
        if (host) await this.fence(tx, host, decision.reason);
        return { fenced: decision.reason };
      }
      const report = { ...req.node } as Record<string, unknown>;
      await this.touch(tx, host!, now, ttl, report);
      if (decision.kind === 'standby') return { role: 'standby', assignment: null };
      if (decision.kind === 'launching') return { role: 'assigned', assignment: null };
      if (decision.expiredForMs > 0) await this.leaseReturned(tx, v!, host!, decision.expiredForMs);
      if (decision.rearm) await this.rearm(tx, v!, host!);
      // A host exists only once provisioning started, which needs the identity (a DB check says so).
      if (v!.nodeId === null) throw new Error(`validator ${v!.id} has a host but no identity`);
      await this.observeNode(tx, v!, host!, req);
      return {
        role: 'assigned',
        assignment: { validatorId: v!.id, generation: v!.generation, nodeId: v!.nodeId },
      };
    });
    if ('fenced' in result) throw fenced(result.fenced);
    return {
      role: result.role,
      assignment: result.assignment,
      leaseExpiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
      leaseTtlSeconds: ttl,
    };
  }

  async keys(hostId: string, req: KeysRequest): Promise<KeysResponse | LegacyKeysResponse> {
    const out = await this.repos.transaction(async (tx) => {
      const host = await this.repos.hosts.findForUpdate(hostId, tx);
      // The previous holders' lease expiries were written by the database's clock: judge by it.
      const now = (await this.repos.clock(tx)).getTime();
      if (!host || host.deletedAt || host.fenced || !host.validatorId)
        return { err: fenced('This host holds no identity.') };
      const v = await this.repos.validators.findForShare(host.validatorId, tx);
      if (
        !v ||
        v.hostId !== host.id ||
        v.generation !== host.generation ||
        req.generation !== v.generation
      ) {
        return { err: fenced(`Generation ${req.generation} is not current.`) };
      }
      if (v.state === 'retiring' || v.state === 'retired' || v.state === 'failed')
        return { err: fenced('The validator was retired.') };
      if (host.keysFetchedGeneration === v.generation) {
        return {
          err: new Problem(
            410,
            'Gone',
            'The keys for this generation were already delivered to this host.',
          ),
        };
      }
      // Every former holder must be fenced, not only the last one: a quick double move would
      // otherwise let a third host start while the first is still stopping. Holders of the NodeID
      // under another validator count too (a re-imported identity's, pending deletion or not).
      const others = await this.repos.hosts.formerHoldersOfNodeId(v.nodeId!, host.id, tx);
      let retryAfterMs = 0;
      let ackExpected = false;
      for (const prev of others) {
        const input = {
          now,
          previousLeaseExpiresAt: prev.leaseExpiresAt,
          skewMarginMs: this.config.agent.skewMarginSeconds * 1000,
          // Confirmed by a Describe, never by a stop or delete call having been sent.
          previousInstanceStopped: prev.stopConfirmedAt !== null,
          // The fenced agent's own word, once its node exited (a planned move's fast hand-over).
          previousStopAcknowledged:
            prev.stopAcknowledgedGeneration !== null &&
            acknowledgesStop({
              fenced: prev.fenced,
              hostGeneration: prev.generation,
              stoppedThroughGeneration: prev.stopAcknowledgedGeneration,
            }),
        };
        if (!canGrantKeys(input)) {
          retryAfterMs = Math.max(retryAfterMs, keysRetryAfterMs(input));
          // A reachable holder acknowledges within a renewal or two of being fenced.
          if (prev.leaseExpiresAt !== null && prev.leaseExpiresAt.getTime() > now)
            ackExpected = true;
        }
      }
      if (retryAfterMs > 0) {
        // The cloud may confirm the stop before time alone would: ask again after one sweep — or
        // after a second while the previous holder may acknowledge its stop any moment.
        retryAfterMs = Math.min(
          retryAfterMs,
          ackExpected ? 1_000 : Math.max(1_000, this.config.health.sweepIntervalSeconds * 1000),
        );
        return {
          err: new Problem(
            425,
            'Too Early',
            'A previous holder of this identity may still run it.',
            {
              retryAfterMs,
              reason: 'waiting for the previous holder to be fenced',
            },
          ),
        };
      }
      await this.repos.hosts.update(host.id, { keysFetchedGeneration: v.generation }, tx);
      const identity = v.identityId ? await this.repos.identities.findById(v.identityId, tx) : null;
      if (!identity) throw new Error(`identity ${v.identityId} missing`);
      await this.repos.events.append(
        {
          type: 'host.keys_delivered',
          message: `Staking keys of ${v.nodeId} delivered to ${host.instanceId} (generation ${v.generation})`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: host.id,
          zone: host.zone,
          data: { generation: v.generation },
        },
        tx,
      );
      return { identity, generation: v.generation, host };
    });
    if ('err' in out) throw out.err;
    const keys = this.identities.open(out.identity);
    const wire = {
      stakerCrt: keys.stakerCrt,
      stakerKey: keys.stakerKey,
      signerKey: keys.signerKey.toString('base64'),
    };
    if (out.host.agentProtocol === 1) return { generation: out.generation, ...wire };
    // Encrypted to this host's own key: only the holder of its private half, on the instance, opens it.
    const plain = Buffer.from(JSON.stringify(wire));
    const sealed = sealToHost(
      out.host.agentEncryptionKey!,
      plain,
      keysAad(out.host.id, out.generation),
    );
    plain.fill(0);
    return { generation: out.generation, sealed };
  }

  /**
   * A fenced agent's stop acknowledgment: its node exited, and it never runs a generation up to
   * `generation` again. 204 when it covers the host's last generation (the keys of the move may go to
   * the new holder at once); 409 when it does not count (not fenced, or a stale generation).
   */
  async stopped(hostId: string, req: StoppedRequest): Promise<void> {
    const host = await this.repos.hosts.recordStopAcknowledgment(hostId, req.generation);
    const counts =
      host !== null &&
      acknowledgesStop({
        fenced: host.fenced,
        hostGeneration: host.generation,
        stoppedThroughGeneration: host.stopAcknowledgedGeneration ?? -1,
      });
    if (!counts) {
      throw new Problem(
        409,
        'Conflict',
        host
          ? `Generation ${req.generation} does not cover this host's last generation (${host.generation}).`
          : 'This host is not fenced: it holds its identity, or standbys nothing to stop.',
      );
    }
    await this.repos.events.append({
      type: 'host.stop_acknowledged',
      message: `Agent on ${host.instanceId ?? host.id} stopped its node (generation ${req.generation})`,
      projectId: host.projectId,
      validatorId: host.validatorId,
      hostId: host.id,
      zone: host.zone,
      data: { generation: req.generation },
    });
  }

  /** The moved identity runs healthy on its new host: the failover is done; record how long it took. */
  private async finishFailover(tx: Tx, v: ValidatorEntity, host: HostEntity): Promise<void> {
    const done = await this.repos.failovers.finishRunning(v.id, tx);
    if (!done) return;
    const seconds = Math.round(Number(done.seconds) * 10) / 10;
    if (done.kind !== 'failover') {
      // A planned move (upgrade, or its rollback): counted apart from failovers.
      const what = done.kind === 'upgrade' ? 'upgraded' : 'rolled back';
      await this.repos.events.append(
        {
          type: done.kind === 'upgrade' ? 'upgrade.completed' : 'upgrade.rollback_completed',
          message: `${v.name} ${what}: avalanchego ${done.fromVersion ?? 'unknown'} → ${done.toVersion ?? '?'}, now on ${host.instanceId} in ${host.zone} (${seconds} s)`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: host.id,
          zone: host.zone,
          data: {
            seconds,
            fromVersion: done.fromVersion,
            toVersion: done.toVersion,
            fromZone: done.fromZone,
            toZone: host.zone,
          },
        },
        tx,
      );
      return;
    }
    this.healthMetrics.failoverDuration.observe({ method: done.method }, seconds);
    await this.repos.events.append(
      {
        type: 'failover.completed',
        message: `${v.name} moved from ${done.fromZone ?? '?'} to ${host.zone} in ${seconds} s (${done.method})`,
        projectId: v.projectId,
        validatorId: v.id,
        hostId: host.id,
        zone: host.zone,
        data: { seconds, method: done.method, fromZone: done.fromZone, toZone: host.zone },
      },
      tx,
    );
  }

  private async rearm(tx: Tx, v: ValidatorEntity, host: HostEntity): Promise<void> {
    const next = v.generation + 1;
    await this.repos.validators.update(v.id, { generation: next }, tx);
    await this.repos.hosts.update(host.id, { generation: next }, tx);
    v.generation = next;
    host.generation = next;
    // Its node runs nothing until the keys are fetched again: it must not show `active` meanwhile.
    const reason = `node not running on ${host.instanceId}; re-armed under generation ${next}`;
    if (
      await this.repos.validators.transition(
        v.id,
        'degraded',
        { stateReason: reason },
        { from: ['active'], tx },
      )
    )
      v.state = 'degraded';
    await this.repos.events.append(
      {
        type: 'host.rearmed',
        message: `Node on ${host.instanceId} is not running; re-arming it under generation ${next}`,
        projectId: v.projectId,
        validatorId: v.id,
        hostId: host.id,
        zone: host.zone,
        data: { generation: next },
      },
      tx,
    );
  }

  /** The current holder renews after its lease ran out (a control-plane outage, a long partition). */
  private async leaseReturned(
    tx: Tx,
    v: ValidatorEntity,
    host: HostEntity,
    expiredForMs: number,
  ): Promise<void> {
    const seconds = Math.round(expiredForMs / 100) / 10;
    await this.repos.events.append(
      {
        type: 'host.lease_resumed',
        message: `Host ${host.instanceId} renewed ${seconds} s after its lease ran out; it still holds ${v.nodeId}, so it is renewed, not fenced`,
        projectId: v.projectId,
        validatorId: v.id,
        hostId: host.id,
        zone: host.zone,
        data: { expiredForSeconds: seconds, generation: v.generation },
      },
      tx,
    );
  }

  private async touch(
    tx: Tx,
    host: HostEntity,
    now: Date,
    ttl: number,
    report: Record<string, unknown>,
  ) {
    await this.repos.hosts.update(
      host.id,
      {
        leaseExpiresAt: new Date(now.getTime() + ttl * 1000),
        lastReport: report,
        lastReportAt: now,
        // What the agent says it runs; absent (an older agent) or unreadable = unknown, never kept.
        runningVersion: reportedVersion(report.version as string | null | undefined),
      },
      tx,
    );
  }

  private async fence(tx: Tx, host: HostEntity, reason: string) {
    if (!host.fenced) {
      await this.repos.hosts.update(host.id, { fenced: true }, tx);
      await this.repos.events.append(
        {
          type: 'host.fenced',
          message: `Host ${host.instanceId ?? host.id} fenced: ${reason}`,
          projectId: host.projectId,
          validatorId: host.validatorId,
          hostId: host.id,
          zone: host.zone,
        },
        tx,
      );
      this.log.log({ hostId: host.id, reason }, 'host fenced');
    }
    return { fenced: reason } as const;
  }

  /** The node's report moves the validator: running → syncing, healthy + bootstrapped under its NodeID → active. */
  private async observeNode(tx: Tx, v: ValidatorEntity, host: HostEntity, req: LeaseRequest) {
    const n = req.node;
    if (!n.running) return;
    if (n.nodeId && n.nodeId !== v.nodeId) {
      // A standby's throwaway NodeID before it takes over is expected; under the assignment it is not.
      const runsAssignment = req.generation === v.generation;
      this.log[runsAssignment ? 'warn' : 'debug'](
        { validatorId: v.id, hostId: host.id, generation: req.generation },
        'node reports an unexpected NodeID',
      );
      return;
    }
    const ready = n.nodeId === v.nodeId && n.healthy === true && n.bootstrapped === true;
    if (ready && v.state !== 'active') {
      const moved = await this.repos.validators.transition(
        v.id,
        'active',
        { stateReason: null, activeAt: new Date(), zone: host.zone, instanceId: host.instanceId },
        { from: ['provisioning', 'syncing', 'degraded', 'failing_over'], tx },
      );
      if (moved) {
        if (v.state === 'failing_over') await this.finishFailover(tx, v, host);
        await this.repos.events.append(
          {
            type: 'validator.active',
            message: `Validator ${v.name} is active in ${host.zone} as ${v.nodeId}`,
            projectId: v.projectId,
            validatorId: v.id,
            hostId: host.id,
            zone: host.zone,
          },
          tx,
        );
      }
    } else if (!ready && v.state === 'provisioning') {
      const moved = await this.repos.validators.transition(
        v.id,
        'syncing',
        { stateReason: 'node bootstrapping' },
        { from: ['provisioning'], tx },
      );
      if (moved) {
        await this.repos.events.append(
          {
            type: 'validator.syncing',
            message: `Node ${v.nodeId} started on ${host.instanceId}; bootstrapping`,
            projectId: v.projectId,
            validatorId: v.id,
            hostId: host.id,
            zone: host.zone,
          },
          tx,
        );
      }
    }
  }
}
