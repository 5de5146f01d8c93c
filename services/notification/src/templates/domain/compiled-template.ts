import { type ValidateFunction } from 'ajv';
import { type Channel } from '@herald/contracts';
import { PART_NAMES, partSource, type PartName, type TemplateContent } from './content';
import {
  HTML_OPTIONS,
  HelperError,
  PLAIN_OPTIONS,
  layoutStrings,
  oneLine,
  plainSms,
  textFromHtml,
  type CompiledPart,
  type RenderData,
  type TemplateEngine,
} from './engine';
import { UnprocessableFieldsError } from './errors';
import { resolveLocale } from './locale';
import { type RenderedChannels } from '../data/content-types';
import { checkData, type VariablesCompiler } from './variables';

interface Part {
  render: CompiledPart;
  ast: hbs.AST.Program;
}

/** Where the data sits in the request, for error pointers: `/body/template/data` or `/body/data`. */
export type DataPointer = string;

/**
 * One version of a template, ready to render: its variables schema compiled
 * once (ajv), each locale's parts compiled with Handlebars on first use and
 * kept, so a version+locale compiles exactly once in this process.
 * Versions never change, so an instance is shared by every send that uses
 * it.
 */
export class CompiledTemplate {
  readonly locales: string[];
  private readonly validate: ValidateFunction;
  private readonly releaseValidator: () => void;
  private readonly compiled = new Map<string, Map<PartName, Part>>();
  private readonly declared: string[];

  constructor(
    private readonly engine: TemplateEngine,
    variables: VariablesCompiler,
    readonly key: string,
    readonly version: number,
    readonly content: TemplateContent,
  ) {
    this.locales = Object.keys(content.locales);
    const compiled = variables.compile(content.variables);
    this.validate = compiled.validate;
    this.releaseValidator = compiled.release;
    this.declared = Object.keys(content.variables.properties ?? {});
  }

  get channels(): Channel[] {
    return this.content.channels;
  }

  /** Frees the ajv schema when the cache drops this version. */
  release(): void {
    this.releaseValidator();
  }

  resolveLocale(preferences: readonly (string | undefined | null)[]): string {
    return resolveLocale(this.locales, preferences, this.content.defaultLocale);
  }

  /**
   * Checks data against the variables schema (422 naming each bad
   * variable), fills schema defaults, and gives every declared but absent
   * variable an explicit `undefined`: strict mode then only trips on names
   * the schema does not list at all, the ones a send could never know to
   * provide.
   */
  prepareData(data: Record<string, unknown>, pointer: DataPointer): Record<string, unknown> {
    const checked = checkData(this.validate, data, pointer);
    if (checked.errors.length) {
      throw new UnprocessableFieldsError(
        'template_data_invalid',
        `The data does not fit the variables of template "${this.key}": ${checked.errors
          .map((error) => `${error.field} ${error.message}`)
          .join('; ')}`,
        checked.errors,
      );
    }
    for (const name of this.declared) if (!(name in checked.data)) checked.data[name] = undefined;
    return checked.data;
  }

  /** Renders the given channels in one locale; `data` comes from `prepareData`. */
  render(
    locale: string,
    data: Record<string, unknown>,
    channels: readonly Channel[],
    pointer: DataPointer,
  ): RenderedChannels {
    const parts = this.partsFor(locale);
    const runtime: RenderData = { locale, strings: layoutStrings(locale), html: false };
    const htmlRuntime: RenderData = { ...runtime, html: true };
    const run = (name: PartName) => {
      const part = parts.get(name);
      if (!part) throw new Error(`template ${this.key} v${this.version} ${locale} has no ${name}`);
      return this.run(part, name, locale, data, name === 'html' ? htmlRuntime : runtime, pointer);
    };
    const nonEmpty = (name: string, value: string) => {
      if (value.trim() === '') {
        throw new UnprocessableFieldsError(
          'template_rendered_empty',
          `Template "${this.key}" (${locale}) renders an empty ${name} with this data`,
          [{ field: pointer, message: `renders an empty ${name} (${locale})` }],
        );
      }
      return value;
    };

    const rendered: RenderedChannels = {};
    for (const channel of channels) {
      if (channel === 'in_app') {
        rendered.inApp = {
          title: nonEmpty('in-app title', oneLine(run('inApp/title'))),
          body: nonEmpty('in-app body', run('inApp/body').trim()),
        };
      } else if (channel === 'sms') {
        rendered.sms = nonEmpty('SMS', plainSms(run('sms')));
      } else {
        const subject = nonEmpty('subject', oneLine(run('subject')));
        const html = parts.has('html')
          ? this.engine.emailDocument(run('html'), subject, htmlRuntime)
          : undefined;
        const text = parts.has('text') ? run('text').trim() : textFromHtml(html!);
        rendered.email = { subject, text: nonEmpty('text', text), ...(html ? { html } : {}) };
      }
    }
    return rendered;
  }

  private partsFor(locale: string): Map<PartName, Part> {
    const cached = this.compiled.get(locale);
    if (cached) return cached;
    const variant = this.content.locales[locale];
    if (!variant) throw new Error(`template ${this.key} v${this.version} has no locale ${locale}`);
    const parts = new Map<PartName, Part>();
    for (const name of PART_NAMES) {
      const source = partSource(variant, name);
      if (source === undefined) continue;
      const ast = this.engine.env.parse(source);
      const options = name === 'html' ? HTML_OPTIONS : PLAIN_OPTIONS;
      parts.set(name, { ast, render: this.engine.env.compile(ast, options) });
    }
    this.compiled.set(locale, parts);
    return parts;
  }

  private run(
    part: Part,
    name: PartName,
    locale: string,
    data: Record<string, unknown>,
    runtime: RenderData,
    pointer: DataPointer,
  ): string {
    try {
      return part.render(data, { data: runtime });
    } catch (error) {
      throw this.renderError(error, part, name, locale, pointer, data);
    }
  }

  private renderError(
    error: unknown,
    part: Part,
    name: PartName,
    locale: string,
    pointer: DataPointer,
    data: Record<string, unknown>,
  ) {
    const where = `${locale} ${name}`;
    const message = (error as Error)?.message ?? String(error);
    const variableMissing = (path: string[]) =>
      new UnprocessableFieldsError(
        'template_variable_missing',
        `Template "${this.key}" uses "${path.join('.')}" (${where}), which the data does not have`,
        [
          {
            field: `${pointer}/${path.join('/')}`,
            message: `is used by the template (${where}) but was not given`,
          },
        ],
      );
    const missing = /^"([^"]+)" not defined in/.exec(message);
    if (missing) {
      return variableMissing(
        missingPath(part.ast, error as { lineNumber?: number; column?: number }, missing[1]!),
      );
    }
    // In a helper's argument (`{{#if order.coupon}}`) strict mode does not check the parents
    // of a nested path: a missing `order` is a TypeError from the compiled template itself.
    const through = /^Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)/.exec(message);
    if (error instanceof TypeError && through) {
      const path = missingParent(part.ast, data, through[1]!);
      if (path) return variableMissing(path);
      return new UnprocessableFieldsError(
        'template_variable_missing',
        `Template "${this.key}" reads "${through[1]}" of a value the data does not have (${where})`,
        [{ field: pointer, message: `has no value where the template reads "${through[1]}" (${where})` }],
      );
    }
    const detail = error instanceof HelperError ? message : message.split('\n', 1)[0]!;
    return new UnprocessableFieldsError(
      'template_render_failed',
      `Template "${this.key}" could not be rendered (${where}): ${detail}`,
      [{ field: pointer, message: `${detail} (${where})` }],
    );
  }
}

/**
 * The variable whose absence stopped a nested path in a helper's argument:
 * among the template's paths that read `segment` below something, the first
 * whose parent is missing from the data, cut there (`order` for
 * `order.coupon` without an order). Paths are resolved from the root, so one
 * inside `{{#each}}` or `{{#with}}` may not be found: undefined then.
 */
function missingParent(
  ast: hbs.AST.Program,
  data: Record<string, unknown>,
  segment: string,
): string[] | undefined {
  let found: string[] | undefined;
  const walk = (node: unknown): void => {
    if (found || !node || typeof node !== 'object') return;
    const candidate = node as Partial<hbs.AST.PathExpression>;
    if (candidate.type === 'PathExpression' && candidate.parts && candidate.depth === 0) {
      const parts =
        candidate.data && candidate.parts[0] === 'root'
          ? candidate.parts.slice(1)
          : candidate.data
            ? []
            : candidate.parts;
      const at = parts.indexOf(segment, 1);
      if (at > 0) {
        let value: unknown = data;
        for (let index = 0; index < at; index += 1) {
          value =
            value === null || typeof value !== 'object'
              ? undefined
              : (value as Record<string, unknown>)[parts[index]!];
          if (value === undefined || value === null) {
            found = parts.slice(0, index + 1);
            return;
          }
        }
      }
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object' && value !== candidate.loc) walk(value);
    }
  };
  walk(ast);
  return found;
}

/**
 * Handlebars' strict error names only the segment it missed ("total") and
 * where. The path expression at that position gives the variable as the
 * template wrote it, cut at the missing segment (`order.total`, or just
 * `order` when there is no order at all).
 */
function missingPath(
  ast: hbs.AST.Program,
  at: { lineNumber?: number; column?: number },
  segment: string,
): string[] {
  let found: string[] | undefined;
  const walk = (node: unknown): void => {
    if (found || !node || typeof node !== 'object') return;
    const candidate = node as Partial<hbs.AST.PathExpression>;
    if (
      candidate.type === 'PathExpression' &&
      candidate.loc?.start.line === at.lineNumber &&
      candidate.loc?.start.column === at.column &&
      candidate.parts?.includes(segment)
    ) {
      const parts =
        candidate.data && candidate.parts[0] === 'root' ? candidate.parts.slice(1) : candidate.parts;
      found = parts.slice(0, parts.indexOf(segment) + 1);
      return;
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object' && value !== candidate.loc) walk(value);
    }
  };
  walk(ast);
  return found ?? [segment];
}
