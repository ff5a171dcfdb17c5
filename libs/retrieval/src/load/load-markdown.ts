import { Lexer, type Token, type Tokens } from 'marked';
import type { Block } from '../types';

export interface ParsedText {
  title?: string;
  blocks: Block[];
}

/**
 * Markdown → blocks under their heading path. Text comes from marked's own
 * token tree (block and inline), never from hand-written patterns over the
 * source, whose backtracking made some inputs quadratic.
 */
export function parseMarkdown(markdown: string): ParsedText {
  const { body, frontTitle } = stripFrontMatter(markdown);
  const tokens = Lexer.lex(body);
  const headings: string[] = [];
  const blocks: Block[] = [];
  let title = frontTitle;
  for (const token of tokens) {
    if (token.type === 'heading') {
      const heading = token as Tokens.Heading;
      const text = inlineText(heading.tokens);
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
    case 'text': {
      const { tokens, text } = token as Tokens.Paragraph | Tokens.Text;
      return tokens ? inlineText(tokens) : collapse(text);
    }
    case 'code':
      return (token as Tokens.Code).text.trim();
    case 'list':
      return (token as Tokens.List).items.map((item) => `- ${blocksText(item.tokens)}`).join('\n');
    case 'blockquote':
      return blocksText((token as Tokens.Blockquote).tokens);
    case 'table': {
      const table = token as Tokens.Table;
      const row = (cells: Tokens.TableCell[]) => cells.map((c) => inlineText(c.tokens)).join(' | ');
      return [row(table.header), ...table.rows.map(row)].join('\n');
    }
    default:
      return '';
  }
}

/** Block tokens inside a list item or quote, one line (or more) each. */
function blocksText(tokens: Token[]): string {
  return tokens.map(blockText).filter(Boolean).join('\n');
}

/** The words of inline tokens: emphasis, code ticks, links and tags dropped, image alt text kept. */
function inlineText(tokens: Token[]): string {
  return collapse(tokens.map(inlineWords).join(''));
}

function inlineWords(token: Token): string {
  switch (token.type) {
    // A tag is its own token; the text between an opening and a closing tag is kept.
    case 'html':
      return '';
    case 'br':
      return '\n';
    default: {
      const { tokens, text } = token as { tokens?: Token[]; text?: string };
      return tokens ? tokens.map(inlineWords).join('') : (text ?? '');
    }
  }
}

function collapse(text: string): string {
  return text.replace(/[ \t]+/g, ' ').trim();
}

function stripFrontMatter(markdown: string): { body: string; frontTitle?: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(markdown);
  if (!match) return { body: markdown };
  const title = /^title:\s*["']?(.+?)["']?\s*$/m.exec(match[1])?.[1];
  return { body: markdown.slice(match[0].length), frontTitle: title };
}
