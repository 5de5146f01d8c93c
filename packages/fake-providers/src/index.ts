export * from './fake-server';
export * from './mailgun';
export * from './twilio';
export * from './signatures';
export * from './sendgrid';
export * from './smtp';
export * from './push';
