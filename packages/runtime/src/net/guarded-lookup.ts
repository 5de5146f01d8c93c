import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { type LookupFunction } from 'node:net';
import { isInternalAddress, TargetRefusedError, type TargetPolicy } from './target-guard';

/**
 * A `lookup` for an http(s) Agent whose every connection must go to a public
 * address: the name is resolved when the socket connects, and an internal
 * address among the answers fails the connection. What `checkedAddresses`
 * checked before the request could have resolved differently a moment later
 * (DNS rebinding); this check is the one the connection uses. IP literals
 * never reach a lookup: check them with `checkedAddresses` first.
 */
export function guardedLookup(policy: TargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    const wantsAll = (options as LookupOptions).all === true;
    dnsLookup(host, { ...(options as LookupOptions), all: true, verbatim: true }, (error, found) => {
      if (error) return callback(error, '', 0);
      const entries = found as LookupAddress[];
      const allowed = policy.allowPrivate || policy.allowedHosts.includes(host);
      const refused = allowed
        ? undefined
        : entries.find(
            (entry) => !policy.allowedHosts.includes(entry.address) && isInternalAddress(entry.address),
          );
      if (refused) {
        const refusal = new TargetRefusedError(
          'address_not_allowed',
          `must be a public address: ${host} (${refused.address}) is private, loopback, link-local or otherwise internal`,
        );
        return callback(Object.assign(refusal, { code: 'ETARGETREFUSED' }), '', 0);
      }
      if (entries.length === 0)
        return callback(Object.assign(new Error(`${host} does not resolve`), { code: 'ENOTFOUND' }), '', 0);
      if (wantsAll) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, entries);
      return callback(null, entries[0]!.address, entries[0]!.family);
    });
  };
}
