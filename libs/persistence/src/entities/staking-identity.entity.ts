import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Public parts in the clear; the three key files only as an AES-256-GCM envelope. */
@Entity('staking_identities')
export class StakingIdentityEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid' }) projectId!: string;
  /** Unique among rows not superseded (a re-import of a retired validator's identity supersedes its row). */
  @Column({ type: 'text' }) nodeId!: string;
  @Column({ type: 'text' }) blsPublicKey!: string;
  @Column({ type: 'text' }) proofOfPossession!: string;
  /** The data key, wrapped by the master key (iv ‖ tag ‖ ciphertext). */
  @Column({ type: 'bytea' }) wrappedDataKey!: Buffer;
  /** The key files, encrypted with the data key (iv ‖ tag ‖ ciphertext). */
  @Column({ type: 'bytea' }) sealedKeys!: Buffer;
  @Column({ type: 'text' }) masterKeyId!: string;
  @Column({ type: 'boolean', default: false }) imported!: boolean;
  /** A later import of this NodeID took its place (its validators were all retired). */
  @Column({ type: 'timestamptz', nullable: true }) supersededAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}
