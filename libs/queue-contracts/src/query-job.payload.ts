import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ChatFiltersDto, IsChatFilters } from './chat-request.dto';
import { HistoryTurnDto, IsConversation } from './conversation.dto';
import { Limits } from './limits';
import { IsJobSignature, IsName, IsRequestId, IsTraceparent } from './payload-fields';
import { IsMaxTokens, IsTemperature } from './openai-chat-request.dto';
import { IsCallbackUrl } from './webhook';

/**
 * The data of a `rag-query` job. The gateway builds it; every worker validates
 * it again, because the gateway is not the only producer.
 */
export class QueryJobPayload {
  @IsString()
  @Matches(/\S/, { message: 'query must contain at least one non-space character' })
  @MaxLength(Limits.queryMaxChars)
  query!: string;

  @IsName('collection')
  collection!: string;

  @IsInt()
  @Min(1)
  @Max(Limits.topKMax)
  top_k!: number;

  @IsChatFilters()
  filters?: ChatFiltersDto;

  @IsBoolean()
  stream!: boolean;

  /** The caller's cap on the answer's length, for an OpenAI-compatible LLM (never above its LLM_MAX_TOKENS); others ignore it. */
  @IsMaxTokens()
  max_tokens?: number;

  /** Sampling temperature for an OpenAI-compatible LLM (0 when unset); others ignore it. */
  @IsTemperature()
  temperature?: number;

  /** Where the job's final record is POSTed, signed (covered by the job's signature like every field). */
  @IsOptional()
  @IsCallbackUrl()
  callback_url?: string;

  @IsRequestId()
  request_id!: string;

  @IsName('tenant')
  tenant!: string;

  /** The conversation before `query`, oldest first, within the producer's CHAT_HISTORY_MAX_TOKENS (the worker bounds it again). */
  @IsConversation(() => HistoryTurnDto)
  history?: HistoryTurnDto[];

  /** The trace the gateway's request span is in (W3C traceparent), when tracing is on; signed like every field. */
  @IsTraceparent()
  traceparent?: string;

  /** The producer's HMAC of the job (see IsJobSignature). */
  @IsJobSignature()
  signature?: string;
}
