import { isDateTime, isEmail, isUri, isUuid } from '@herald/contracts';

describe('date-time format', () => {
  it.each([
    '2025-03-14T09:26:53.589Z',
    '2025-03-14T09:26:53Z',
    '2025-03-14t09:26:53z',
    '2025-03-14T09:26:53+05:30',
    '2025-03-14T09:26:53.123456-08:00',
    '2024-02-29T00:00:00Z',
    '2000-02-29T23:59:59Z',
    new Date(0).toISOString(),
  ])('accepts %s', (value) => {
    expect(isDateTime(value)).toBe(true);
  });

  it.each([
    ['a bare date', '2025-03-14'],
    ['no offset', '2025-03-14T09:26:53'],
    ['a space for T', '2025-03-14 09:26:53Z'],
    ['February 29 of a common year', '2025-02-29T00:00:00Z'],
    ['February 29 of a century year', '1900-02-29T00:00:00Z'],
    ['April 31', '2025-04-31T00:00:00Z'],
    ['month 13', '2025-13-01T00:00:00Z'],
    ['month 0', '2025-00-01T00:00:00Z'],
    ['day 0', '2025-01-00T00:00:00Z'],
    ['hour 24', '2025-03-14T24:00:00Z'],
    ['minute 60', '2025-03-14T10:60:00Z'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['offset hour 24', '2025-03-14T10:00:00+24:00'],
    ['an offset without colon', '2025-03-14T10:00:00+0100'],
    ['epoch milliseconds', '1741944413589'],
    ['trailing text', '2025-03-14T09:26:53Z tomorrow'],
  ])('rejects %s', (_, value) => {
    expect(isDateTime(value)).toBe(false);
  });
});

describe('uuid format', () => {
  it.each(['3b241101-e2bb-4255-8caf-4136c566a962', '3B241101-E2BB-4255-8CAF-4136C566A962'])(
    'accepts %s',
    (value) => {
      expect(isUuid(value)).toBe(true);
    },
  );

  it.each([
    '3b241101e2bb42558caf4136c566a962',
    '3b241101-e2bb-4255-8caf-4136c566a96',
    '3b241101-e2bb-4255-8caf-4136c566a962a',
    'zb241101-e2bb-4255-8caf-4136c566a962',
    '{3b241101-e2bb-4255-8caf-4136c566a962}',
  ])('rejects %s', (value) => {
    expect(isUuid(value)).toBe(false);
  });
});

describe('email format', () => {
  it.each(['ada@example.com', 'ada.lovelace+herald@mail.example.co.uk', 'ops@localhost'])(
    'accepts %s',
    (value) => {
      expect(isEmail(value)).toBe(true);
    },
  );

  it.each([
    'ada',
    'ada@',
    '@example.com',
    'ada @example.com',
    'ada@exa mple.com',
    'ada@-example.com',
    `${'a'.repeat(250)}@example.com`,
  ])('rejects %s', (value) => {
    expect(isEmail(value)).toBe(false);
  });
});

describe('uri format', () => {
  it.each(['https://herald.example.com/verify?token=abc', 'mailto:ada@example.com', 'urn:isbn:0451450523'])(
    'accepts %s',
    (value) => {
      expect(isUri(value)).toBe(true);
    },
  );

  it.each([
    '/verify?token=abc',
    'herald.example.com/verify',
    'https://herald.example.com/a b',
    '',
    'http://',
  ])('rejects %s', (value) => {
    expect(isUri(value)).toBe(false);
  });
});
