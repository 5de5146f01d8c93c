// The signed-in user's inbox: the <herald-inbox> component with their access
// token, kept current when the token is refreshed.
import '@herald/inbox';
import { refresh } from '../api';
import { h } from '../dom';
import { session } from '../session';

export function inboxPage(navigate: (to: string) => void): HTMLElement {
  const inbox = h('herald-inbox', { attrs: { inline: '', open: '', gateway: location.origin } });
  const sync = () => {
    const token = session.tokens?.accessToken;
    if (token && inbox.getAttribute('token') !== token) inbox.setAttribute('token', token);
  };
  sync();
  const stop = session.onChange(sync);
  // the component says when its token nears expiry; a refreshed session hands it the new one (sync)
  inbox.addEventListener('herald:token-expiring', () => void refresh());
  inbox.addEventListener('herald:open', (event) => {
    const { notification } = (event as CustomEvent<{ notification: { id: string } }>).detail;
    navigate(`#/notifications/${encodeURIComponent(notification.id)}`);
  });
  const page = h(
    'section',
    { className: 'card' },
    h('h1', { textContent: 'Inbox' }),
    h('p', { className: 'hint', textContent: 'Open a notification to see its delivery on every channel.' }),
    inbox,
  );
  (page as HTMLElement & { dispose?: () => void }).dispose = stop;
  return page;
}
