import { ProblemDetails } from '@herald/contracts';

/** Every error a route can answer, for the OpenAPI document. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, ProblemDetails]));
}
