import { type TemplateChangedMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applyTemplateChange } from './domain/known-templates';

/** The notification service's `template.changed`: the read model definitions are checked against. */
export function onTemplateChanged(ctx: ServiceContext, message: TemplateChangedMessage): Promise<void> {
  return applyTemplateChange(ctx.models.templates, message.payload);
}
