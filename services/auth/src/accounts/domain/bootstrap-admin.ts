import { ConflictError } from '@herald/runtime';
import { type AuthContext } from '../../context';
import { checkEmail } from './email-address';
import { createAccount } from './registration';

/**
 * Start-up step after the models are prepared: the first admin, when
 * ADMIN_EMAIL and ADMIN_PASSWORD say so (both or neither).
 */
export async function bootstrapAdmin(ctx: AuthContext): Promise<void> {
  const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = ctx.config;
  if (email && password) await ensureAdmin(ctx, email, password);
  else if (email || password) throw new Error('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
}

/** The first admin from ADMIN_EMAIL / ADMIN_PASSWORD. Idempotent: an existing account is left exactly as it is. */
export async function ensureAdmin(ctx: AuthContext, email: string, password: string): Promise<void> {
  const normalized = checkEmail(email).normalized;
  const existing = await ctx.models.users.findOne({ email: normalized }, { role: 1 }).lean();
  if (existing) {
    // Never promote: someone may have registered this address before the first start.
    if (existing.role !== 'admin')
      ctx.logger.warn('ADMIN_EMAIL belongs to an existing non-admin account; left unchanged');
    return;
  }
  try {
    await createAccount(ctx, { email: normalized, password, name: 'Administrator' }, 'bootstrap-admin', {
      role: 'admin',
      emailVerified: true,
    });
    ctx.logger.info({ email: normalized }, 'created the first admin');
  } catch (err) {
    // another instance starting at the same time created it
    if (!(err instanceof ConflictError)) throw err;
  }
}
