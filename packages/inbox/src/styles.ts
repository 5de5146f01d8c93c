// The component's stylesheet, inside its shadow root. Every colour, size and
// font comes from a --herald-* custom property with a default, so a host page
// themes the inbox from outside without reaching into the shadow DOM.
export const STYLES = `
:host {
  --_accent: var(--herald-accent, #1d4ed8);
  --_accent-fg: var(--herald-accent-contrast, #ffffff);
  --_bg: var(--herald-background, #ffffff);
  --_fg: var(--herald-foreground, #111827);
  --_muted: var(--herald-muted, #4b5563);
  --_border: var(--herald-border, #d1d5db);
  --_unread: var(--herald-unread-background, #eff6ff);
  --_badge: var(--herald-badge, #b91c1c);
  --_radius: var(--herald-radius, 8px);
  --_width: var(--herald-width, 24rem);
  display: inline-block;
  position: relative;
  font: var(--herald-font, 14px/1.4 system-ui, sans-serif);
  color: var(--_fg);
}
:host([inline]) { display: block; }
button { font: inherit; cursor: pointer; }
button:focus-visible, input:focus-visible { outline: 3px solid var(--_accent); outline-offset: 2px; }
.bell {
  position: relative; display: inline-flex; align-items: center; justify-content: center;
  width: 2.5rem; height: 2.5rem; border-radius: 50%;
  border: 1px solid var(--_border); background: var(--_bg); color: var(--_fg);
}
.bell svg { width: 1.25rem; height: 1.25rem; }
.badge {
  position: absolute; top: -0.3rem; right: -0.3rem; min-width: 1.25rem; height: 1.25rem; padding: 0 0.3rem;
  border-radius: 0.625rem; background: var(--_badge); color: #fff; font-size: 0.75rem; font-weight: 700;
  line-height: 1.25rem; text-align: center; box-sizing: border-box;
}
.badge[hidden] { display: none; }
.panel {
  position: absolute; right: 0; top: 3rem; z-index: 1000;
  width: min(var(--_width), calc(100vw - 1rem)); max-height: 70vh;
  display: flex; flex-direction: column;
  background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius);
  box-shadow: 0 10px 30px rgba(0, 0, 0, 0.15);
}
:host([inline]) .panel { position: static; width: 100%; max-height: var(--herald-height, 70vh); box-shadow: none; margin-top: 0.5rem; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; gap: 0.5rem; padding: 0.75rem; border-bottom: 1px solid var(--_border); }
header h2 { font-size: 1rem; margin: 0; flex: 1; }
.status { font-size: 0.75rem; color: var(--_muted); padding: 0 0.75rem; margin: 0.25rem 0; }
.status:empty { display: none; }
.link { background: none; border: none; color: var(--_accent); padding: 0.25rem; text-decoration: underline; }
.scroll { overflow-y: auto; flex: 1; }
ul { list-style: none; margin: 0; padding: 0; }
li.item { display: flex; gap: 0.5rem; padding: 0.75rem; border-bottom: 1px solid var(--_border); }
li.item.unread { background: var(--_unread); }
li.item.unread .title::before {
  content: ''; display: inline-block; width: 0.5rem; height: 0.5rem; border-radius: 50%;
  background: var(--_accent); margin-right: 0.4rem; vertical-align: middle;
}
.content { flex: 1; min-width: 0; }
.title { font-weight: 600; margin: 0; background: none; border: none; padding: 0; text-align: left; color: inherit; }
.body { margin: 0.2rem 0; color: var(--_fg); overflow-wrap: anywhere; }
.meta { font-size: 0.75rem; color: var(--_muted); }
.actions { display: flex; flex-direction: column; gap: 0.25rem; }
.actions button {
  border: 1px solid var(--_border); background: var(--_bg); color: var(--_fg); border-radius: 4px;
  padding: 0.15rem 0.5rem; font-size: 0.75rem;
}
.empty { padding: 1.5rem; text-align: center; color: var(--_muted); }
.sentinel { height: 1px; }
form.preferences { padding: 0.75rem; }
fieldset { border: 1px solid var(--_border); border-radius: 4px; margin: 0 0 0.75rem; }
legend { font-weight: 600; }
label { display: flex; align-items: center; gap: 0.4rem; padding: 0.15rem 0; }
.primary {
  background: var(--_accent); color: var(--_accent-fg); border: none; border-radius: 4px; padding: 0.4rem 0.9rem;
}
`;
