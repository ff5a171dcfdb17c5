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
} from 'class-validator';
import { Limits } from './limits';

export class ChatFiltersDto {
  /** Restrict retrieval to these document ids (source paths). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(Limits.filterSourcesMax)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(Limits.sourceMaxChars, { each: true })
  sources?: string[];
}

/** Body of `POST /v1/chat`. */
export class ChatRequestDto {
  @IsString()
  @Matches(/\S/, { message: 'query must contain at least one non-space character' })
  @MaxLength(Limits.queryMaxChars)
  query!: string;

  @IsOptional()
  @IsString()
  @Matches(Limits.collectionPattern, {
    message: 'collection must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit',
  })
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
}
