import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Append-only timeline. The bigint id is the cursor. Never holds a secret. */
@Entity('events')
export class EventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'uuid', nullable: true }) projectId!: string | null;
  @Column({ type: 'uuid', nullable: true }) validatorId!: string | null;
  @Column({ type: 'uuid', nullable: true }) hostId!: string | null;
  @Column({ type: 'text', nullable: true }) zone!: string | null;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'text' }) message!: string;
  @Column({ type: 'jsonb', default: () => "'{}'" }) data!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}
