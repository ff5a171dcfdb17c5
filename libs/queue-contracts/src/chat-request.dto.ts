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
import { NAME_PATTERN, nameRuleMessage } from './names';
import { stacked } from './payload-fields';
import { IsCallbackUrl } from './webhook';
import { IsPlainText } from './plain-text';
import { ChatMessageDto, EndsWithQuestion, IsChatQuery, IsConversation } from './conversation.dto';

export { IsPlainText, plainText } from './plain-text';

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

/** Optional `filters`: one ChatFiltersDto object (ValidateNested alone would accept an array of them). */
export const IsChatFilters = () =>
  stacked(
    IsOptional(),
    IsObject(),
    ValidateNested(),
    Type(() => ChatFiltersDto),
  );

/** Optional `top_k`: 1 to Limits.topKMax. */
export const IsTopK = () => stacked(IsOptional(), IsInt(), Min(1), Max(Limits.topKMax));

/** Body of `POST /v1/chat`. */
export class ChatRequestDto {
  /** The question; optional when `messages` ends with it (see conversation.dto.ts for the rule). */
  @IsChatQuery()
  @IsString()
  @Matches(/\S/, { message: 'query must contain at least one non-space character' })
  @MaxLength(Limits.queryMaxChars)
  @IsPlainText()
  query?: string;

  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: nameRuleMessage('collection') })
  collection?: string;

  @IsTopK()
  top_k?: number;

  @IsChatFilters()
  filters?: ChatFiltersDto;

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  // Webhooks: where the job's record is POSTed, signed, once it is final (optional).
  @IsOptional()
  @IsCallbackUrl()
  callback_url?: string;

  // --- Conversations (issue #16) ---
  /** The conversation so far (user/assistant, system accepted and ignored); without `query` it ends with the question. */
  @IsConversation(() => ChatMessageDto)
  @EndsWithQuestion()
  messages?: ChatMessageDto[];
  // --- end conversations ---
}
