import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Public parts in the clear; the three key files only as an AES-256-GCM envelope. */
@Entity('staking_identities')
export class StakingIdentityEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid' }) projectId!: string;
  @Column({ type: 'text', unique: true }) nodeId!: string;
  @Column({ type: 'text' }) blsPublicKey!: string;
  @Column({ type: 'text' }) proofOfPossession!: string;
  /** The data key, wrapped by the master key (iv ‖ tag ‖ ciphertext). */
  @Column({ type: 'bytea' }) wrappedDataKey!: Buffer;
  /** The key files, encrypted with the data key (iv ‖ tag ‖ ciphertext). */
  @Column({ type: 'bytea' }) sealedKeys!: Buffer;
  @Column({ type: 'text' }) masterKeyId!: string;
  @Column({ type: 'boolean', default: false }) imported!: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}
