import Handlebars from 'handlebars';
import { type FieldError } from '@herald/runtime';
import {
  EMPTY_VARIABLES,
  PART_NAMES,
  missingParts,
  normalizeLocales,
  partSource,
  type PartName,
  type TemplateContent,
} from './content';
import { HTML_OPTIONS, KNOWN_HELPERS, PARTIALS, PLAIN_OPTIONS, type TemplateEngine } from './engine';
import { type VariablesCompiler } from './variables';

type Ast = hbs.AST.Program;

/**
 * Walks a part's syntax tree for what compiles but must not be saved:
 * - in html, `{{{raw}}}` / `{{&raw}}` would put data into the email
 *   unescaped: the one way to HTML injection, so it is refused;
 * - partials exist only for html (they are HTML), and only ours, by name;
 * - helpers only ours (knownHelpersOnly catches them too; this names them
 *   with the rest, at save time);
 * - decorators are not part of our dialect.
 */
class PartChecker extends Handlebars.Visitor {
  readonly problems: string[] = [];

  constructor(
    private readonly html: boolean,
    private readonly sms: boolean,
  ) {
    super();
  }

  private at(node: hbs.AST.Node) {
    return `(line ${node.loc.start.line}, column ${node.loc.start.column + 1})`;
  }

  private checkHelper(node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression) {
    const path = node.path as hbs.AST.PathExpression;
    const isCall = node.type !== 'MustacheStatement' || node.params.length > 0 || node.hash !== undefined;
    if (isCall && path.type === 'PathExpression' && !KNOWN_HELPERS.has(path.original)) {
      this.problems.push(`uses the unknown helper "${path.original}" ${this.at(node)}`);
    }
  }

  override MustacheStatement(node: hbs.AST.MustacheStatement): void {
    if (this.html && !node.escaped) {
      this.problems.push(
        `inserts {{{${(node.path as hbs.AST.PathExpression).original ?? '…'}}}} unescaped ${this.at(node)}: use {{…}}`,
      );
    }
    this.checkHelper(node);
    super.MustacheStatement(node);
  }

  override BlockStatement(node: hbs.AST.BlockStatement): void {
    this.checkHelper(node);
    super.BlockStatement(node);
  }

  override SubExpression(node: hbs.AST.SubExpression): void {
    this.checkHelper(node);
    super.SubExpression(node);
  }

  override PartialStatement(node: hbs.AST.PartialStatement): void {
    const name = node.name.type === 'PathExpression' ? (node.name as hbs.AST.PathExpression).original : null;
    if (!this.html) this.problems.push(`uses a partial ${this.at(node)}: partials are for html only`);
    else if (!name || !(PARTIALS as readonly string[]).includes(name)) {
      this.problems.push(`uses the unknown partial "${name ?? '(dynamic)'}" ${this.at(node)}`);
    }
    super.PartialStatement(node);
  }

  override PartialBlockStatement(node: hbs.AST.PartialBlockStatement): void {
    this.problems.push(`uses a partial block ${this.at(node)}, which is not supported`);
    super.PartialBlockStatement(node);
  }

  override Decorator(node: hbs.AST.Decorator): void {
    this.problems.push(`uses a decorator ${this.at(node)}, which is not supported`);
  }

  override DecoratorBlock(node: hbs.AST.DecoratorBlock): void {
    this.problems.push(`uses a decorator ${this.at(node)}, which is not supported`);
  }

  override ContentStatement(node: hbs.AST.ContentStatement): void {
    // SMS is plain text: markup in the template itself is refused (markup from data is stripped).
    if (this.sms && /<\/?[A-Za-z][^<>]*>|<!--/.test(node.value)) {
      this.problems.push(`contains markup ${this.at(node)}: an SMS is plain text`);
    }
  }
}

const isHtml = (part: PartName) => part === 'html';
const optionsFor = (part: PartName) => (isHtml(part) ? HTML_OPTIONS : PLAIN_OPTIONS);

function firstLine(message: string): string {
  return message.split('\n', 1)[0]!;
}

/** Every problem with one part's source, as messages (empty when it is fine). */
function checkPart(engine: TemplateEngine, part: PartName, source: string): string[] {
  let ast: Ast;
  try {
    ast = engine.env.parse(source);
  } catch (error) {
    // "Parse error on line 2: … Expecting 'ID', got 'EOF'": the first line and the expectation name it.
    const message = (error as Error).message;
    const expecting = /Expecting .*$/m.exec(message)?.[0];
    return [`does not compile: ${firstLine(message)}${expecting ? ` ${expecting}` : ''}`];
  }
  const checker = new PartChecker(isHtml(part), part === 'sms');
  checker.accept(ast);
  if (checker.problems.length) return [...new Set(checker.problems)];
  try {
    // The compiler's own checks (e.g. knownHelpersOnly) run here, at save time, not at the first send.
    engine.env.precompile(ast, optionsFor(part));
  } catch (error) {
    return [`does not compile: ${firstLine((error as Error).message)}`];
  }
  return [];
}

/**
 * Checks a template before it is saved: locales well-formed, every declared
 * channel has its parts in every locale, every part compiles under our
 * rules, the variables schema compiles. Returns the content with canonical
 * locale keys, and the errors, each naming its part
 * (`/body/locales/fr/html`).
 */
export function checkTemplate(
  engine: TemplateEngine,
  variables: VariablesCompiler,
  input: TemplateContent,
  pointer = '/body',
): { content: TemplateContent; errors: FieldError[] } {
  const { content, errors } = normalizeLocales(
    { ...input, variables: input.variables ?? EMPTY_VARIABLES },
    pointer,
  );
  for (const [locale, variant] of Object.entries(content.locales)) {
    for (const channel of content.channels) {
      for (const part of missingParts(channel, variant)) {
        errors.push({
          field: `${pointer}/locales/${locale}`,
          message: `has no ${part}, which the ${channel} channel needs`,
        });
      }
    }
    for (const part of PART_NAMES) {
      const source = partSource(variant, part);
      if (source === undefined) continue;
      for (const message of checkPart(engine, part, source)) {
        errors.push({ field: `${pointer}/locales/${locale}/${part}`, message });
      }
    }
  }
  try {
    variables.compile(content.variables).release();
  } catch (error) {
    errors.push({
      field: `${pointer}/variables`,
      message: `is not a usable JSON Schema: ${(error as Error).message}`,
    });
  }
  return { content, errors };
}
