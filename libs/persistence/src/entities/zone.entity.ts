import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ZoneStatus } from '@snowline/domain';

/** What Snowline currently believes about a zone, from the last sweep. */
@Entity('zones')
export class ZoneEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) status!: ZoneStatus;
  @Column({ type: 'boolean' }) placementAllowed!: boolean;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ type: 'timestamptz' }) statusSince!: Date;
  @Column({ type: 'integer' }) hosts!: number;
  @Column({ type: 'integer' }) unhealthy!: number;
  @Column({ type: 'integer' }) standbys!: number;
  @Column({ type: 'integer' }) healthySweeps!: number;
  @Column({ type: 'jsonb' }) stock!: Record<string, string>;
  /** null = never observed: show "unknown", not 0. */
  @Column({ type: 'timestamptz', nullable: true }) lastObservedAt!: Date | null;
}
