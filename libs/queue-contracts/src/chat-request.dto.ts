import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  registerDecorator,
} from 'class-validator';
import { Limits } from './limits';
import { NAME_PATTERN, nameRuleMessage } from './names';
import { IsCallbackUrl } from './webhook';

/** Control characters other than tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** Half of a surrogate pair without the other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Whether `value` (when a string) is well-formed Unicode without control characters but tab and line breaks. */
export const plainText = (value: unknown): boolean => typeof value !== 'string' || (!LONE_SURROGATE.test(value) && !CONTROL.test(value));

/**
 * Text a person could have typed: well-formed Unicode (no lone surrogate
 * halves, which no model or JSON encoder handles alike) and no control
 * characters but tab and line breaks. On an array, every item.
 */
export function IsPlainText(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPlainText',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: ({ property }) => `${property} must be well-formed Unicode text without control characters` },
      validator: {
        validate: (value: unknown) => (Array.isArray(value) ? value.every(plainText) : plainText(value)),
      },
    });
}

export class ChatFiltersDto {
  /** Restrict retrieval to these document ids (source paths). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(Limits.filterSourcesMax)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(Limits.sourceMaxChars, { each: true })
  @IsPlainText()
  sources?: string[];
}

/** Body of `POST /v1/chat`. */
export class ChatRequestDto {
  @IsString()
  @Matches(/\S/, { message: 'query must contain at least one non-space character' })
  @MaxLength(Limits.queryMaxChars)
  @IsPlainText()
  query!: string;

  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: nameRuleMessage('collection') })
  collection?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.topKMax)
  top_k?: number;

  @IsOptional()
  // ValidateNested alone would accept an array of filters objects.
  @IsObject()
  @ValidateNested()
  @Type(() => ChatFiltersDto)
  filters?: ChatFiltersDto;

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  // Webhooks: where the job's record is POSTed, signed, once it is final (optional).
  @IsOptional()
  @IsCallbackUrl()
  callback_url?: string;
}
