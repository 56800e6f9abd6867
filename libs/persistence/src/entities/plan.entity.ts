import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export type PlanStatus = 'planned' | 'applying' | 'applied' | 'failed';

/** A declarative plan: the diff computed against a project's state serial. Never holds a secret. */
@Entity('plans')
export class PlanEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid' }) projectId!: string;
  @Column({ type: 'text' }) mode!: 'apply' | 'destroy';
  /** bigint comes back as a string from pg; the repository hands out numbers. */
  @Column({ type: 'bigint' }) serial!: string;
  @Column({ type: 'text' }) status!: PlanStatus;
  /** The file's validators as sent (identity reduced to its NodeID). */
  @Column({ type: 'jsonb' }) desired!: unknown[];
  /** The project's validators the plan was computed against (public fields only). */
  @Column({ type: 'jsonb' }) snapshot!: unknown[];
  @Column({ type: 'jsonb' }) actions!: unknown[];
  @Column({ type: 'jsonb' }) summary!: Record<string, number>;
  @Column({ type: 'jsonb' }) results!: unknown[];
  @Column({ type: 'text' }) createdBy!: string;
  @Column({ type: 'text', nullable: true }) appliedBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @Column({ type: 'timestamptz', nullable: true }) appliedAt!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) settledAt!: Date | null;
}

/** The per-project apply lock: one plan applies (and settles) at a time. */
@Entity('plan_locks')
export class PlanLockEntity {
  @PrimaryColumn({ type: 'uuid' }) projectId!: string;
  @Column({ type: 'uuid' }) planId!: string;
  @Column({ type: 'text' }) holder!: string;
  @Column({ type: 'timestamptz' }) since!: Date;
}
