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
  /** The name snowline.yaml gives it; null for a webhook made in the console or API (unmanaged). */
  @Column({ type: 'text', nullable: true }) configName!: string | null;
  /** Managed webhooks: the env variable and secret_version the secret was last set from (not the secret). */
  @Column({ type: 'text', nullable: true }) secretEnv!: string | null;
  @Column({ type: 'integer', nullable: true }) secretVersion!: number | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  @Column({ type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}
