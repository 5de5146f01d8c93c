import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Makes the broker itself close our connections (as on a broker restart or
 * an operator's `close_connection`), through rabbitmqctl on this machine.
 */
export async function brokerClosesConnectionsNamed(connectionName: string): Promise<number> {
  // The JSON listing has the client properties; only the plain listing prints pids
  // in the form close_connection accepts. The connection's peer address joins the two.
  const json = await run('rabbitmqctl', [
    'list_connections',
    'name',
    'client_properties',
    '--formatter',
    'json',
    '-q',
  ]);
  const connections = JSON.parse(json.stdout) as {
    name: string;
    client_properties: [string, string, unknown][];
  }[];
  const ourNames = new Set(
    connections
      .filter((connection) =>
        connection.client_properties.some(
          ([key, , value]) => key === 'connection_name' && value === connectionName,
        ),
      )
      .map((connection) => connection.name),
  );
  const plain = await run('rabbitmqctl', ['list_connections', 'pid', 'name', '-q']);
  const pids = plain.stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([, name]) => name !== undefined && ourNames.has(name))
    .map(([pid]) => pid!);
  for (const pid of pids) {
    await run('rabbitmqctl', ['close_connection', pid, 'test: broker closes the connection']);
  }
  return pids.length;
}

/** How many channels the broker counts open on the connection(s) with this client-given name. */
export async function brokerChannelsOfConnectionNamed(connectionName: string): Promise<number> {
  const json = await run('rabbitmqctl', [
    'list_connections',
    'channels',
    'client_properties',
    '--formatter',
    'json',
    '-q',
  ]);
  const connections = JSON.parse(json.stdout) as {
    channels: number;
    client_properties: [string, string, unknown][];
  }[];
  return connections
    .filter((connection) =>
      connection.client_properties.some(
        ([key, , value]) => key === 'connection_name' && value === connectionName,
      ),
    )
    .reduce((sum, connection) => sum + connection.channels, 0);
}
