import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Network, UpgradePolicy, ValidatorState } from '@snowline/domain';

@Entity('validators')
export class ValidatorEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid' }) projectId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) network!: Network;
  @Column({ type: 'text' }) instanceType!: string;
  /** Allowed zones; empty = any configured zone. */
  @Column({ type: 'text', array: true, default: () => "'{}'" }) zones!: string[];
  @Column({ type: 'jsonb', default: () => "'{}'" }) labels!: Record<string, string>;
  @Column({ type: 'boolean', default: false }) protected!: boolean;
  /** The AvalancheGo version the spec asks for (canonical); null only for rows from before versions. */
  @Column({ type: 'text', nullable: true }) avalanchegoVersion!: string | null;
  /** The L1 it validates (ACP-77; its node tracks it); null: the primary network. Never changes. */
  @Column({ type: 'text', nullable: true }) subnetId!: string | null;
  /** `manual`, or `before-deadline`: Snowline rolls it before an activation it would not survive. */
  @Column({ type: 'text', default: 'manual' }) upgradePolicy!: UpgradePolicy;
  /** snowline.yaml made or adopted it: only such validators does an apply change or retire. */
  @Column({ type: 'boolean', default: false }) managedByConfig!: boolean;
  @Column({ type: 'text' }) state!: ValidatorState;
  @Column({ type: 'text', nullable: true }) stateReason!: string | null;
  /** Fencing epoch: bumped on every move of the identity. */
  @Column({ type: 'integer', default: 0 }) generation!: number;
  /** Null while a generated identity is still being made (before provisioning starts). */
  @Column({ type: 'uuid', nullable: true }) identityId!: string | null;
  @Column({ type: 'text', nullable: true }) nodeId!: string | null;
  @Column({ type: 'uuid', nullable: true }) hostId!: string | null;
  @Column({ type: 'text', nullable: true }) zone!: string | null;
  @Column({ type: 'text', nullable: true }) instanceId!: string | null;
  /** Provisioning attempt counter; the ClientToken derives from (validator, attempt). */
  @Column({ type: 'integer', default: 0 }) attempt!: number;
  @Column({ type: 'timestamptz', nullable: true }) activeAt!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) retiredAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
}
