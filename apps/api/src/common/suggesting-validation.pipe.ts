import { ValidationPipe } from '@nestjs/common';
import { nearest } from '@snowline/domain';
import { getMetadataStorage, type ValidationError } from 'class-validator';

/**
 * The global ValidationPipe, with "property lables should not exist" completed by the nearest known
 * field ("— did you mean labels?"), using the same did-you-mean rule as the CLI (plan/parse.ts).
 */
export class SuggestingValidationPipe extends ValidationPipe {
  protected override async validate(
    object: object,
    options?: Parameters<ValidationPipe['validate']>[1],
  ): Promise<ValidationError[]> {
    const errors = await super.validate(object, options);
    suggest(errors, object);
    return errors;
  }
}

/** The fields a DTO instance's class declares (its validated properties), for the suggestion. */
export function knownFields(instance: unknown): string[] {
  if (typeof instance !== 'object' || instance === null) return [];
  const meta = getMetadataStorage().getTargetValidationMetadatas(
    instance.constructor,
    '',
    true,
    false,
  );
  return [...new Set(meta.map((m) => m.propertyName))];
}

/** Errors carry no target (Nest strips it): walk the validated object beside them instead. */
function suggest(errors: ValidationError[], parent: unknown): void {
  for (const e of errors) {
    const msg = e.constraints?.whitelistValidation;
    if (msg) {
      const near = nearest(e.property, knownFields(parent));
      if (near && near !== e.property)
        e.constraints!.whitelistValidation = `${msg} — did you mean ${near}?`;
    }
    if (e.children?.length)
      suggest(e.children, (parent as Record<string, unknown> | null)?.[e.property]);
  }
}
