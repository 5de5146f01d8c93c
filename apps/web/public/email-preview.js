// The template editor's email preview frame. The app frames this page sandboxed (scripts, no
// same origin: it can reach nothing of the app's) and posts it the rendered email HTML, which
// replaces this document. Parsed with DOMParser, the email's own scripts never run; the frame's
// Content-Security-Policy (nginx.conf) lets the email's inline styles and images show.
/* global window, document, DOMParser */
'use strict';
window.addEventListener('message', function (event) {
  if (event.source !== window.parent || !event.data || typeof event.data.html !== 'string') return;
  var parsed = new DOMParser().parseFromString(event.data.html, 'text/html');
  document.replaceChild(document.adoptNode(parsed.documentElement), document.documentElement);
});
