import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { HealthState, HostRole } from '@snowline/domain';

/** One cloud instance and what its agent last told us. */
@Entity('hosts')
export class HostEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', nullable: true }) projectId!: string | null;
  @Column({ type: 'uuid', nullable: true }) validatorId!: string | null;
  @Column({ type: 'text' }) role!: HostRole;
  @Column({ type: 'text' }) zone!: string;
  @Column({ type: 'text' }) instanceType!: string;
  @Column({ type: 'text' }) clientToken!: string;
  @Column({ type: 'text', nullable: true, unique: true }) instanceId!: string | null;
  /** The generation of the validator this host may run; null for a standby. */
  @Column({ type: 'integer', nullable: true }) generation!: number | null;
  @Column({ type: 'text', nullable: true }) cloudStatus!: string | null;
  /** SHA-256 of the bootstrap token in UserData; null once spent (protocol 2) or never issued. */
  @Column({ type: 'text', nullable: true, unique: true }) bootstrapTokenHash!: string | null;
  /**
   * Protocol 2: the random bootstrap token sealed under a key derived from the master key (bound to
   * the row), kept only so that a replayed RunInstances carries identical UserData; cleared when spent.
   */
  @Column({ type: 'bytea', nullable: true }) bootstrapTokenSealed!: Buffer | null;
  /** Protocol 2: the token opens nothing after this (set at each RunInstances attempt). */
  @Column({ type: 'timestamptz', nullable: true }) bootstrapExpiresAt!: Date | null;
  /** 1: a host launched before host credentials (bearer token for ever); 2: keys bound at register. */
  @Column({ type: 'smallint', default: 2 }) agentProtocol!: 1 | 2;
  /** Protocol 2: the host's Ed25519 and X25519 public keys (SPKI DER, base64), bound at register. */
  @Column({ type: 'text', nullable: true }) agentSigningKey!: string | null;
  @Column({ type: 'text', nullable: true }) agentEncryptionKey!: string | null;
  @Column({ type: 'timestamptz', nullable: true }) agentKeyBoundAt!: Date | null;
  /** Launched with others in one RunInstances (launch_batches); its UserData names the batch. */
  @Column({ type: 'uuid', nullable: true }) batchId!: string | null;
  /** Its place in the batch: the instance the cloud listed at this index is this host's. */
  @Column({ type: 'integer', nullable: true }) batchIndex!: number | null;
  @Column({ type: 'timestamptz', nullable: true }) registeredAt!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) leaseExpiresAt!: Date | null;
  @Column({ type: 'jsonb', nullable: true }) lastReport!: Record<string, unknown> | null;
  @Column({ type: 'timestamptz', nullable: true }) lastReportAt!: Date | null;
  /** Generation whose keys this host has fetched (keys are served once per host and generation). */
  @Column({ type: 'integer', nullable: true }) keysFetchedGeneration!: number | null;
  @Column({ type: 'boolean', default: false }) fenced!: boolean;
  /** The network a standby's node is synced to (a standby serves validators of that network). */
  @Column({ type: 'text', nullable: true }) network!: string | null;
  /** The L1 its node tracks (`track-subnets` in its UserData): its validator's, or its pool's. */
  @Column({ type: 'text', nullable: true }) subnetId!: string | null;
  /** The AvalancheGo release its UserData names (what it is meant to run); null: from before versions. */
  @Column({ type: 'text', nullable: true }) avalanchegoVersion!: string | null;
  /** The version its agent last reported (canonical); null = unknown (no report, an older agent). */
  @Column({ type: 'text', nullable: true }) runningVersion!: string | null;
  @Column({ type: 'text', default: 'unknown' }) health!: HealthState;
  @Column({ type: 'text', nullable: true }) healthReason!: string | null;
  @Column({ type: 'timestamptz', nullable: true }) healthSince!: Date | null;
  @Column({ type: 'text', nullable: true }) cloudHealth!: string | null;
  @Column({ type: 'timestamptz', nullable: true }) cloudObservedAt!: Date | null;
  /**
   * A DescribeInstances that began then showed the instance Stopped (or gone, not by our delete) and
   * the agent has not renewed since: the fast proof that its node is off (keys may move on it).
   */
  @Column({ type: 'timestamptz', nullable: true }) stopConfirmedAt!: Date | null;
  /**
   * The fenced agent acknowledged its node exited and that it never runs a generation up to this one
   * again (`acknowledgesStop` decides whether it covers the host's last generation).
   */
  @Column({ type: 'integer', nullable: true }) stopAcknowledgedGeneration!: number | null;
  @Column({ type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
