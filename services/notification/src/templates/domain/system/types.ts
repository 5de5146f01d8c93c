import { type TemplateContent } from '../content';

/** A template Herald ships and sends itself; seeded at start (see seed.ts). */
export interface SystemTemplate {
  key: string;
  content: TemplateContent;
}
