import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('incidents')
export class IncidentEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', nullable: true }) zone!: string | null;
  @Column({ type: 'text' }) kind!: 'zone-impaired' | 'zone-dark' | 'control-plane-suspect';
  @Column({ type: 'text' }) severity!: 'major' | 'critical';
  @Column({ type: 'text' }) status!: 'open' | 'closed';
  @Column({ type: 'text' }) summary!: string;
  @Column({ type: 'uuid', array: true }) affectedValidators!: string[];
  @Column({ type: 'timestamptz' }) openedAt!: Date;
  @Column({ type: 'timestamptz', nullable: true }) closedAt!: Date | null;
}
