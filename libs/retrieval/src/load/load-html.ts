import * as cheerio from 'cheerio';
import type { ParsedText } from './load-markdown';
import type { Block } from '../types';

const DROP = 'script, style, noscript, template, nav, footer, aside, form, svg, iframe, button';
const BLOCKS = 'h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, dt, dd, td, th, caption, figcaption';
const HEADING = /^h([1-6])$/;

/** HTML → main text as blocks under their heading path; navigation and scripts dropped. */
export function parseHtml(html: string): ParsedText {
  const $ = cheerio.load(html);
  $(DROP).remove();
  // A page's site header is navigation; an article's header holds its title.
  $('header')
    .filter((_, el) => $(el).parents('main, article').length === 0)
    .remove();
  const root = $('main').first().length ? $('main').first() : $('body');
  const headings: string[] = [];
  const blocks: Block[] = [];
  let firstH1: string | undefined;
  root.find(BLOCKS).each((_, el) => {
    const $el = $(el);
    // Outermost blocks only: an <li> holding a <p> is read once.
    if ($el.parents(BLOCKS).length > 0) return;
    const level = HEADING.exec(el.tagName.toLowerCase());
    const text = el.tagName.toLowerCase() === 'pre' ? $el.text().trim() : $el.text().replace(/\s+/g, ' ').trim();
    if (!text) return;
    if (level) {
      const depth = Number(level[1]);
      if (depth === 1 && !firstH1) firstH1 = text;
      headings.length = depth - 1;
      headings[depth - 1] = text;
      return;
    }
    blocks.push({ headings: headings.filter(Boolean), text });
  });
  const title = $('title').first().text().replace(/\s+/g, ' ').trim() || firstH1;
  return { title, blocks };
}
