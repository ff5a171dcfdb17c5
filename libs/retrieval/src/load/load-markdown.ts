import { Lexer, type Token, type Tokens } from 'marked';
import type { Block } from '../types';

export interface ParsedText {
  title?: string;
  blocks: Block[];
}

/** Markdown → blocks under their heading path, using marked's lexer. */
export function parseMarkdown(markdown: string): ParsedText {
  const { body, frontTitle } = stripFrontMatter(markdown);
  const tokens = Lexer.lex(body);
  const headings: string[] = [];
  const blocks: Block[] = [];
  let title = frontTitle;
  for (const token of tokens) {
    if (token.type === 'heading') {
      const heading = token as Tokens.Heading;
      const text = inlineText(heading.text);
      if (heading.depth === 1 && !title) title = text;
      headings.length = Math.max(0, heading.depth - 1);
      headings[heading.depth - 1] = text;
      continue;
    }
    const text = blockText(token);
    if (text) blocks.push({ headings: headings.filter(Boolean), text });
  }
  return { title, blocks };
}

function blockText(token: Token): string {
  switch (token.type) {
    case 'paragraph':
    case 'text':
      return inlineText((token as Tokens.Paragraph).text);
    case 'code':
      return (token as Tokens.Code).text.trim();
    case 'list':
      return (token as Tokens.List).items.map((item) => `- ${inlineText(item.text)}`).join('\n');
    case 'blockquote':
      return inlineText((token as Tokens.Blockquote).text);
    case 'table': {
      const table = token as Tokens.Table;
      const row = (cells: Tokens.TableCell[]) => cells.map((c) => inlineText(c.text)).join(' | ');
      return [row(table.header), ...table.rows.map(row)].join('\n');
    }
    default:
      return '';
  }
}

/** Drops inline markup (links, emphasis, code ticks, images) and keeps the words. */
function inlineText(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/<\/?[A-Za-z][^<>]*>/g, '')
    // Emphasis only where Markdown sees it: `MAX_RETRY_COUNT` and `a * b` keep their characters.
    .replace(
      /`([^`]+)`|(\*\*|\*)(?!\s)(.+?)(?<!\s)\2|(?<![\p{L}\p{N}_])(__|_)(?!\s)(.+?)(?<!\s)\4(?![\p{L}\p{N}_])/gu,
      (_match: string, code?: string, _star?: string, starred?: string, _underscore?: string, underscored?: string) => code ?? starred ?? underscored ?? '',
    )
    .replace(/[ \t]+/g, ' ')
    .trim();
}

function stripFrontMatter(markdown: string): { body: string; frontTitle?: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(markdown);
  if (!match) return { body: markdown };
  const title = /^title:\s*["']?(.+?)["']?\s*$/m.exec(match[1])?.[1];
  return { body: markdown.slice(match[0].length), frontTitle: title };
}
