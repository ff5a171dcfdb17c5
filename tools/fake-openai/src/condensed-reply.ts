import { lastUserText, type ChatRequestBody } from './chat-request';

// The worker's condensation prompt (buildCondensePrompt): `<conversation-B>` with `User: …` / `Assistant: …` turns, then `Follow-up question: …`.
const CONVERSATION = /<conversation-([0-9a-f]{8,})>\n([\s\S]*?)\n<\/conversation-\1>/;
const FOLLOW_UP = /^Follow-up question:\s*(.+)$/m;

/**
 * The reply to a request to rewrite a follow-up question as a standalone one
 * (a conversation block and a `Follow-up question:` line, no documents):
 * deterministic, `<follow-up> (about: <the last user turn>)`, so a test can
 * tell what reached retrieval. Undefined for any other request.
 */
export function condensedReply(body: ChatRequestBody): string | undefined {
  const prompt = lastUserText(body);
  if (prompt.includes('<documents-')) return undefined;
  const conversation = CONVERSATION.exec(prompt);
  const followUp = FOLLOW_UP.exec(prompt.slice(conversation ? (conversation.index ?? 0) + conversation[0].length : 0));
  if (!conversation || !followUp) return undefined;
  const users = conversation[2]
    .split(/\n\n(?=(?:User|Assistant): )/)
    .filter((turn) => turn.startsWith('User: '))
    .map((turn) => turn.slice('User: '.length).replace(/\s+/g, ' ').trim());
  const last = users[users.length - 1];
  const question = followUp[1].trim();
  return last ? `${question} (about: ${last})` : question;
}
