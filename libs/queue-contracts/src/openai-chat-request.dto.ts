import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
  registerDecorator,
} from 'class-validator';
import { IsPlainText, plainText } from './chat-request.dto';
import { CHAT_MESSAGE_ROLES, TotalCharsAtMost, historyTurns, type ChatMessageRole, type HistoryTurn } from './conversation.dto';
import { Limits } from './limits';

export const OPENAI_CHAT_ROLES = CHAT_MESSAGE_ROLES;
export type OpenAIChatRole = ChatMessageRole;

/** One part of an array `content`: only text parts are supported. */
export interface OpenAITextPart {
  type: 'text';
  text: string;
}

/** What is wrong with a message's `content` (a string, or an array of text parts), or undefined when nothing is. */
function contentProblem(value: unknown): string | undefined {
  const text = (s: string) => (plainText(s) ? undefined : 'must be well-formed Unicode text without control characters');
  if (typeof value === 'string') return value.length > Limits.chatMessageMaxChars ? `must be at most ${Limits.chatMessageMaxChars} characters` : text(value);
  if (!Array.isArray(value)) return 'must be a string or an array of text parts ({"type":"text","text":"…"})';
  if (value.length > Limits.chatContentPartsMax) return `must have at most ${Limits.chatContentPartsMax} parts`;
  let chars = 0;
  for (const part of value) {
    if (typeof part !== 'object' || part === null || Array.isArray(part)) return 'parts must be objects ({"type":"text","text":"…"})';
    const { type, text: partText, ...rest } = part as Record<string, unknown>;
    if (type !== 'text') return `only text parts are supported (got type ${JSON.stringify(String(type)).slice(0, 40)})`;
    if (typeof partText !== 'string') return 'a text part needs a string "text"';
    if (Object.keys(rest).length > 0) return `a text part has only "type" and "text" (got ${Object.keys(rest).slice(0, 3).join(', ')})`;
    const problem = text(partText);
    if (problem) return `parts ${problem}`;
    chars += partText.length;
  }
  return chars > Limits.chatMessageMaxChars ? `must be at most ${Limits.chatMessageMaxChars} characters in all` : undefined;
}

function IsChatContent(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isChatContent',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: ({ property, value }) => `${property} ${contentProblem(value) ?? 'is invalid'}` },
      validator: { validate: (value: unknown) => contentProblem(value) === undefined },
    });
}

/** The text of a message's content: the string, or its text parts joined. */
export function messageText(content: string | readonly OpenAITextPart[]): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('\n');
}

const all =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, property) => {
    for (const decorate of decorators) decorate(target, property);
  };

/** An optional cap on an answer's tokens: an integer from 1 to Limits.maxTokensMax (requests and query payloads alike). */
export const IsMaxTokens = () => all(IsOptional(), IsInt(), Min(1), Max(Limits.maxTokensMax));

/** An optional sampling temperature from 0 to Limits.temperatureMax. */
export const IsTemperature = () => all(IsOptional(), IsNumber({ allowNaN: false, allowInfinity: false }), Min(0), Max(Limits.temperatureMax));

/** One message of the conversation, in OpenAI's shape. */
export class OpenAIChatMessageDto {
  @IsIn(OPENAI_CHAT_ROLES)
  role!: OpenAIChatRole;

  @IsChatContent()
  content!: string | OpenAITextPart[];

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @IsPlainText()
  name?: string;
}

export class OpenAIStreamOptionsDto {
  /** Accepted for compatibility: usage is always sent with the last chunk. */
  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;
}

/**
 * Body of `POST /v1/chat/completions` (OpenAI's chat completions request):
 * `model` names a collection. Fields OpenAI clients commonly send and that
 * mean nothing here (`user`, `n` of 1, `stream_options`) are accepted; any
 * other is refused by name, as OpenAI does.
 */
export class OpenAIChatRequestDto {
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  @IsPlainText()
  model!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(Limits.chatMessagesMax)
  @TotalCharsAtMost(Limits.chatMessagesTotalMaxChars)
  // ValidateNested alone would accept a message that is not an object.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => OpenAIChatMessageDto)
  messages!: OpenAIChatMessageDto[];

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => OpenAIStreamOptionsDto)
  stream_options?: OpenAIStreamOptionsDto;

  @IsMaxTokens()
  max_tokens?: number;

  /** OpenAI's newer name for `max_tokens`; the two must agree when both are sent. */
  @IsMaxTokens()
  max_completion_tokens?: number;

  @IsTemperature()
  temperature?: number;

  @IsOptional()
  @Equals(1, { message: 'n must be 1: one answer per request' })
  n?: number;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  @IsPlainText()
  user?: string;
}

/** The question a chat completions request asks: the text of its last user message (undefined when it has none). */
export function lastUserText(messages: readonly OpenAIChatMessageDto[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messageText(messages[i].content);
  return undefined;
}

/** The conversation before the last user message (its user and assistant turns as text; system messages dropped): the question's history. */
export function historyBeforeLastUser(messages: readonly OpenAIChatMessageDto[]): HistoryTurn[] {
  let last = messages.length - 1;
  while (last >= 0 && messages[last].role !== 'user') last--;
  return historyTurns(messages.slice(0, Math.max(0, last)).map((m) => ({ role: m.role, content: messageText(m.content) })));
}
