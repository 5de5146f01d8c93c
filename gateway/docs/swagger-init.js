// Swagger UI's start-up, a file of its own so the page's Content-Security-Policy needs no inline script.
/* global window, SwaggerUIBundle, SwaggerUIStandalonePreset */
window.ui = SwaggerUIBundle({
  dom_id: '#swagger-ui',
  urls: [
    { name: 'auth', url: '/docs/auth/json' },
    { name: 'notification', url: '/docs/notification/json' },
    { name: 'realtime', url: '/docs/realtime/json' },
    { name: 'delivery-worker', url: '/docs/delivery-worker/json' },
    { name: 'workflows', url: '/docs/workflows/json' },
  ],
  'urls.primaryName': 'notification',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
