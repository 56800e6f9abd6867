import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { MoveKind, MoveStatus } from '@snowline/domain';

/**
 * One attempt at moving a validator's identity to another host; its duration (from detection) is the
 * number users care about. A re-plan closes the row as `replanned` and opens the next attempt.
 */
@Entity('failovers')
export class FailoverEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid' }) validatorId!: string;
  @Column({ type: 'uuid' }) projectId!: string;
  @Column({ type: 'uuid', nullable: true }) fromHostId!: string | null;
  @Column({ type: 'uuid', nullable: true }) toHostId!: string | null;
  @Column({ type: 'text', nullable: true }) fromZone!: string | null;
  @Column({ type: 'text', nullable: true }) toZone!: string | null;
  @Column({ type: 'integer' }) generation!: number;
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'text' }) method!: 'standby' | 'launch';
  @Column({ type: 'text', default: 'failover' }) kind!: MoveKind;
  @Column({ type: 'integer', default: 1 }) attempt!: number;
  /** A planned move's AvalancheGo versions: the one it leaves (null: unknown) and the one it goes to. */
  @Column({ type: 'text', nullable: true }) fromVersion!: string | null;
  @Column({ type: 'text', nullable: true }) toVersion!: string | null;
  @Column({ type: 'text' }) status!: MoveStatus;
  /** Past this the watchdog re-plans (or fails) a move that made no progress. */
  @Column({ type: 'timestamptz' }) deadlineAt!: Date;
  /** Why it ended as it did (re-planned, failed, cancelled). */
  @Column({ type: 'text', nullable: true }) outcome!: string | null;
  @Column({ type: 'timestamptz' }) startedAt!: Date;
  @Column({ type: 'timestamptz', nullable: true }) detectedAt!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}
