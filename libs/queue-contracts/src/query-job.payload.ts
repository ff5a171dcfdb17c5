import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ChatFiltersDto } from './chat-request.dto';
import { Limits } from './limits';
import { IsMaxTokens, IsTemperature } from './openai-chat-request.dto';
import { NAME_PATTERN, nameRuleMessage } from './names';

/**
 * The data of a `rag-query` job. The gateway builds it; every worker validates
 * it again, because the gateway is not the only producer.
 */
export class QueryJobPayload {
  @IsString()
  @Matches(/\S/, { message: 'query must contain at least one non-space character' })
  @MaxLength(Limits.queryMaxChars)
  query!: string;

  @IsString()
  @Matches(NAME_PATTERN, { message: nameRuleMessage('collection') })
  collection!: string;

  @IsInt()
  @Min(1)
  @Max(Limits.topKMax)
  top_k!: number;

  @IsOptional()
  // ValidateNested alone would accept an array of filters objects.
  @IsObject()
  @ValidateNested()
  @Type(() => ChatFiltersDto)
  filters?: ChatFiltersDto;

  @IsBoolean()
  stream!: boolean;

  /** The caller's cap on the answer's length, for an OpenAI-compatible LLM (never above its LLM_MAX_TOKENS); others ignore it. */
  @IsMaxTokens()
  max_tokens?: number;

  /** Sampling temperature for an OpenAI-compatible LLM (0 when unset); others ignore it. */
  @IsTemperature()
  temperature?: number;

  @IsString()
  @Matches(Limits.requestIdPattern, { message: 'request_id is not a valid request id' })
  request_id!: string;

  @IsString()
  @Matches(NAME_PATTERN, { message: nameRuleMessage('tenant') })
  tenant!: string;

  /**
   * HMAC of the queue name and the rest of the payload (libs/jobs signJob),
   * by the producer that queued it. Workers verify it before anything else
   * and refuse a job without a valid one; optional here so that check, not
   * validation, is what answers.
   */
  @IsOptional()
  @IsString()
  @Matches(Limits.jobSignaturePattern, { message: 'signature is not a job signature' })
  signature?: string;
}
