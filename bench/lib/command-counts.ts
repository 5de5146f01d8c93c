/**
 * A service's MongoDB commands as it counts them itself in /metrics
 * (`herald_mongo_commands_total` and `herald_mongo_command_statements_total`,
 * by command and collection; see countMongoCommands in @herald/runtime/mongo,
 * on when MONGO_URL carries `monitorCommands=true`): how the gateway
 * benchmark counts database operations per accepted notification.
 */

/** how many commands of one kind, and the statements (documents, updates, deletes) they carried */
export interface Tally {
  commands: number;
  statements: number;
}

/** "command collection" (e.g. "insert notifications") → tally */
export type CommandCounts = Record<string, Tally>;

const SAMPLE =
  /^(herald_mongo_commands_total|herald_mongo_command_statements_total)\{([^}]*)\}\s+([0-9.e+]+)$/;

/** The counters in a Prometheus text exposition. */
export function parseCommandCounts(exposition: string): CommandCounts {
  const counts: CommandCounts = {};
  for (const line of exposition.split('\n')) {
    const match = SAMPLE.exec(line.trim());
    if (!match) continue;
    const [, metric, labelText = '', value = '0'] = match;
    const labels = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, text]) => [name, text]),
    );
    const key = labels.collection ? `${labels.command} ${labels.collection}` : String(labels.command);
    const tally = (counts[key] ??= { commands: 0, statements: 0 });
    if (metric === 'herald_mongo_commands_total') tally.commands = Number(value);
    else tally.statements = Number(value);
  }
  return counts;
}

/** Reads a service's counters from its /metrics. */
export async function readCommandCounts(serviceUrl: string): Promise<CommandCounts> {
  const response = await fetch(`${serviceUrl}/metrics`);
  if (!response.ok) throw new Error(`${serviceUrl}/metrics answered ${response.status}`);
  return parseCommandCounts(await response.text());
}

export interface CommandsBetween {
  commands: number;
  statements: number;
  /** by "command collection" */
  byCommand: Record<string, Tally>;
}

/** The commands between two readings of the same service's counters. */
export function commandsBetween(before: CommandCounts, after: CommandCounts): CommandsBetween {
  const result: CommandsBetween = { commands: 0, statements: 0, byCommand: {} };
  for (const [key, tally] of Object.entries(after)) {
    const commands = tally.commands - (before[key]?.commands ?? 0);
    const statements = tally.statements - (before[key]?.statements ?? 0);
    if (commands <= 0) continue;
    result.byCommand[key] = { commands, statements };
    result.commands += commands;
    result.statements += statements;
  }
  return result;
}
