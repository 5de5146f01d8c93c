import { type Connection } from 'mongoose';
import { Counter, type Registry } from 'prom-client';

/** Connection chatter rather than work anybody asked for. */
const CHATTER = new Set([
  'hello',
  'ismaster',
  'ping',
  'buildinfo',
  'endsessions',
  'saslstart',
  'saslcontinue',
]);

/** What a started command looks like to a listener (the driver's CommandStartedEvent, the part read here). */
interface StartedCommand {
  commandName: string;
  command: Record<string, unknown>;
}

/** How many statements a command carried: documents inserted, updates, deletes; 1 for anything else. */
export function statementsOf(commandName: string, command: Record<string, unknown>): number {
  const list =
    commandName === 'insert'
      ? command.documents
      : commandName === 'update'
        ? command.updates
        : commandName === 'delete'
          ? command.deletes
          : undefined;
  return Array.isArray(list) ? list.length : 1;
}

/**
 * Counts this connection's MongoDB commands in `/metrics`, by command and
 * collection (`herald_mongo_commands_total`), with the statements they
 * carried (`herald_mongo_command_statements_total`): how many round trips a
 * batched write path really makes. The driver reports commands only when
 * the connection string says `monitorCommands=true`; without it this
 * registers nothing, and costs nothing.
 */
export function countMongoCommands(connection: Connection, registry: Registry): void {
  const client = connection.getClient();
  // not monitored: nothing would ever be counted, and no listener is left on a shared connection
  if (!client.options.monitorCommands) return;
  const labelNames = ['command', 'collection'] as const;
  const commands = new Counter({
    name: 'herald_mongo_commands_total',
    help: 'MongoDB commands sent (with monitorCommands=true in MONGO_URL), by command and collection',
    labelNames,
    registers: [registry],
  });
  const statements = new Counter({
    name: 'herald_mongo_command_statements_total',
    help: 'Documents inserted, updates and deletes those commands carried (1 for any other command)',
    labelNames,
    registers: [registry],
  });
  client.on('commandStarted', (event: StartedCommand) => {
    const name = event.commandName;
    if (CHATTER.has(name.toLowerCase())) return;
    const target = event.command[name];
    const labels = { command: name, collection: typeof target === 'string' ? target : '' };
    commands.inc(labels);
    statements.inc(labels, statementsOf(name, event.command));
  });
}
