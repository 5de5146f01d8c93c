import { Schema } from 'mongoose';
import { type TemplateRef } from '@herald/contracts';
import { type RenderedChannels } from '../../templates/data/content-types';

/**
 * What a fan-out (a broadcast, a topic send) stores of its content: the
 * literal title/body/html, or a template rendered once per locale when it
 * is accepted (bad data is a 422 on the request), from which each
 * recipient's variant is picked at fan-out on whichever instance runs it.
 */
export interface FanOutContent {
  title: string;
  body: string;
  html?: string;
  /** the version every recipient gets, pinned when the fan-out was accepted */
  template?: TemplateRef;
  /** the request's locale, which comes before each recipient's own */
  locale?: string;
  /** rendered once per locale of the template; each recipient gets one */
  renderedByLocale?: Record<string, RenderedChannels>;
  defaultLocale?: string;
}

/** The schema fields of `FanOutContent`, for the collections of both fan-outs. */
export const fanOutContentFields = {
  title: { type: String, required: true },
  body: { type: String, required: true },
  html: String,
  template: Schema.Types.Mixed,
  locale: String,
  renderedByLocale: Schema.Types.Mixed,
  defaultLocale: String,
};
