import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * One Idempotency-Key per project: in flight while its request runs, then the first response (24 h),
 * its body sealed (`sealResponse` in @snowline/domain) — it may carry a new API key or webhook secret.
 */
@Entity('idempotency_keys')
export class IdempotencyKeyEntity {
  @PrimaryColumn({ type: 'uuid' }) projectId!: string;
  @PrimaryColumn({ type: 'text' }) key!: string;
  @Column({ type: 'text' }) requestHash!: string;
  @Column({ type: 'text' }) method!: string;
  @Column({ type: 'text' }) path!: string;
  @Column({ type: 'text' }) state!: 'in_flight' | 'done';
  @Column({ type: 'timestamptz', nullable: true }) lockedUntil!: Date | null;
  @Column({ type: 'integer', nullable: true }) responseStatus!: number | null;
  @Column({ type: 'bytea', nullable: true }) responseSealed!: Buffer | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @Column({ type: 'timestamptz' }) expiresAt!: Date;
}
