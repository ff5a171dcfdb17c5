import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateIf,
  ValidateNested,
  registerDecorator,
} from 'class-validator';
import { Limits } from './limits';
import { IsPlainText } from './plain-text';

// Conversations (`messages` on POST /v1/chat, `history` on a query job). The rule:
// `query` alone is a question without history; `messages` alone is the
// conversation so far ending with the user's question; both: `query` is the
// question and `messages` the history before it.

export const CHAT_MESSAGE_ROLES = ['system', 'user', 'assistant'] as const;
export type ChatMessageRole = (typeof CHAT_MESSAGE_ROLES)[number];
/** Turns a job carries: system messages are the caller's, never instructions for our model, and are dropped. */
export const HISTORY_ROLES = ['user', 'assistant'] as const;
export type HistoryRole = (typeof HISTORY_ROLES)[number];

/** One message of `POST /v1/chat`'s `messages`. */
export class ChatMessageDto {
  @IsIn(CHAT_MESSAGE_ROLES, { message: `role must be one of ${CHAT_MESSAGE_ROLES.join(', ')}` })
  role!: ChatMessageRole;

  @IsString()
  @MaxLength(Limits.chatMessageMaxChars)
  @IsPlainText()
  content!: string;
}

/** One earlier turn of the conversation, as a `rag-query` job carries it. */
export class HistoryTurnDto {
  @IsIn(HISTORY_ROLES, { message: `role must be one of ${HISTORY_ROLES.join(', ')}` })
  role!: HistoryRole;

  @IsString()
  @MaxLength(Limits.chatMessageMaxChars)
  @IsPlainText()
  content!: string;
}

/** A plain history turn (what the answer pipeline and prompts read). */
export interface HistoryTurn {
  role: HistoryRole;
  content: string;
}

function totalChars(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  return messages.reduce<number>((sum, m: { content?: unknown }) => {
    const content = m?.content;
    if (typeof content === 'string') return sum + content.length;
    if (!Array.isArray(content)) return sum;
    return sum + content.reduce<number>((n, p: { text?: unknown }) => n + (typeof p?.text === 'string' ? p.text.length : 0), 0);
  }, 0);
}

/** At most `max` characters of content over every message (string contents or text parts). */
export function TotalCharsAtMost(max: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'totalCharsAtMost',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: ({ property }) => `${property} must hold at most ${max} characters of content in all` },
      validator: { validate: (value: unknown) => totalChars(value) <= max },
    });
}

const all =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, property) => {
    for (const decorate of decorators) decorate(target, property);
  };

/** An optional bounded list of messages of class `of`: at most Limits.chatMessagesMax, Limits.chatMessagesTotalMaxChars characters in all. */
export const IsConversation = (of: () => new () => object) =>
  all(
    IsOptional(),
    IsArray(),
    ArrayMaxSize(Limits.chatMessagesMax),
    TotalCharsAtMost(Limits.chatMessagesTotalMaxChars),
    // ValidateNested alone would accept a message that is not an object.
    IsObject({ each: true }),
    ValidateNested({ each: true }),
    Type(of),
  );

export const QUESTION_MISSING = 'send query (the question), messages (the conversation so far, ending with the user question), or both';

/** `query` is required unless `messages` carries the question. */
export const IsChatQuery = () =>
  all(
    ValidateIf((o: { query?: unknown; messages?: unknown }) => o.query !== undefined || o.messages === undefined),
    IsDefined({ message: QUESTION_MISSING }),
  );

/** What is wrong with `messages` when it must carry the question itself (no `query`), or undefined. */
function questionProblem(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  const last = messages[messages.length - 1] as { role?: unknown; content?: unknown } | undefined;
  if (last?.role !== 'user') return 'messages must end with a user message (the question) when there is no query; or send the question as query';
  if (typeof last.content !== 'string' || !/\S/.test(last.content)) return 'the last message of messages (the question) must contain text';
  if (last.content.length > Limits.queryMaxChars) return `the last message of messages (the question) must be at most ${Limits.queryMaxChars} characters`;
  return undefined;
}

/** Without `query`, the last message is the question: a user message with text, no longer than a query. */
export function EndsWithQuestion(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'endsWithQuestion',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: ({ value }) => questionProblem(value) ?? 'messages is invalid' },
      validator: {
        validate: (value: unknown, args) => (args?.object as { query?: unknown }).query !== undefined || questionProblem(value) === undefined,
      },
    });
}

/** User and assistant turns with text, in order; system messages and blank turns carry nothing for retrieval or the answer. */
export function historyTurns(messages: readonly { role: string; content: string }[]): HistoryTurn[] {
  return messages
    .filter((m): m is HistoryTurn => (HISTORY_ROLES as readonly string[]).includes(m.role) && /\S/.test(m.content))
    .map((m) => ({ role: m.role, content: m.content }));
}

/** The question and the history of a validated `POST /v1/chat` body (see the rule above). */
export function conversationOf(request: { query?: string; messages?: readonly { role: string; content: string }[] }): {
  question: string;
  history: HistoryTurn[];
} {
  const messages = request.messages ?? [];
  if (request.query !== undefined) return { question: request.query, history: historyTurns(messages) };
  return { question: messages[messages.length - 1].content, history: historyTurns(messages.slice(0, -1)) };
}
