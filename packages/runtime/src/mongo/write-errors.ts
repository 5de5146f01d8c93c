import { mongo } from 'mongoose';

/**
 * The per-item failures of an unordered batch write, by index. A failure of the whole write (no
 * connection, a write-concern error, anything but per-item errors) is thrown: then no item of
 * the batch may count as written.
 */
export async function writeErrorsOf(write: Promise<unknown>): Promise<Map<number, mongo.MongoServerError>> {
  try {
    await write;
    return new Map();
  } catch (error) {
    if (!(error instanceof mongo.MongoBulkWriteError)) throw error;
    const writeErrors = [error.writeErrors].flat();
    if (writeErrors.length === 0 || error.result.getWriteConcernError()) throw error;
    return new Map(
      writeErrors.map((writeError) => [
        writeError.index,
        new mongo.MongoServerError({
          ...writeError.errInfo,
          errmsg: writeError.errmsg,
          code: writeError.code,
        }),
      ]),
    );
  }
}
