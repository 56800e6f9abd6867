import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One move of a validator's identity to another host; its duration is the number users care about. */
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
  @Column({ type: 'text' }) status!: 'running' | 'done' | 'failed';
  @Column({ type: 'timestamptz' }) startedAt!: Date;
  @Column({ type: 'timestamptz', nullable: true }) detectedAt!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}
