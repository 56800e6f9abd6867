import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** A project's webhook. The signing secret is stored sealed (AES-256-GCM under a derived key). */
@Entity('webhooks')
export class WebhookEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid' }) projectId!: string;
  @Column({ type: 'text' }) url!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  /** Event types delivered; empty = every type. */
  @Column({ type: 'text', array: true, default: () => "'{}'" }) eventTypes!: string[];
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'bytea' }) secretSealed!: Buffer;
  /** First characters of the secret, so a user can tell which secret a webhook holds. */
  @Column({ type: 'text' }) secretPrefix!: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @Column({ type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}
