// The package's one entry: importing it defines <herald-inbox> once.
import { HeraldInbox } from './herald-inbox';

export { HeraldInbox };
export type { InboxItem, Preferences } from './api';

if (!customElements.get('herald-inbox')) customElements.define('herald-inbox', HeraldInbox);

declare global {
  interface HTMLElementTagNameMap {
    'herald-inbox': HeraldInbox;
  }
}
