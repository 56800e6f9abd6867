import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One instance type one zone of the region offers, as the worker last read it from the cloud. */
@Entity('instance_type_catalog')
export class InstanceTypeCatalogEntity {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) zoneId!: string;
  @PrimaryColumn({ type: 'text' }) instanceType!: string;
  /** `Available` or `SoldOut`. */
  @Column({ type: 'text' }) status!: string;
  /** WithStock / ClosedWithStock / WithoutStock / ClosedWithoutStock. */
  @Column({ type: 'text' }) statusCategory!: string;
  /** null: the cloud gave no size for it. */
  @Column({ type: 'integer', nullable: true }) vcpu!: number | null;
  @Column({ type: 'double precision', nullable: true }) memoryGib!: number | null;
  @Column({ type: 'timestamptz' }) refreshedAt!: Date;
}
