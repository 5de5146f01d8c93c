import {
  ALL_DESTINATIONS,
  describeDestination,
  parseSmsAllowList,
  smsDestinationVerdict,
} from '../src/phone';

describe('SMS_ALLOWED_COUNTRIES', () => {
  it.each([
    [undefined, ALL_DESTINATIONS],
    ['', ALL_DESTINATIONS],
    ['  ', ALL_DESTINATIONS],
    ['*', ALL_DESTINATIONS],
    ['+44', ['+44']],
    [' +44 , +33,+1204 ', ['+44', '+33', '+1204']],
    ['+800', ['+800']],
  ])('reads %p', (value, expected) => {
    expect(parseSmsAllowList(value)).toEqual(expected);
  });

  it.each(['+4', '+0', '44', 'GB', '+44,', '+44,+'])('refuses %p, naming the variable', (value) => {
    expect(() => parseSmsAllowList(value)).toThrow(/^SMS_ALLOWED_COUNTRIES: /);
  });
});

describe('where an SMS may go', () => {
  it('allows every valid number when every country is allowed, and never an invalid one', () => {
    expect(smsDestinationVerdict('+33612345678', ALL_DESTINATIONS)).toBe('allowed');
    expect(smsDestinationVerdict('+15551234567', ALL_DESTINATIONS)).toBe('invalid_number');
    expect(smsDestinationVerdict('not a number', ['+44'])).toBe('invalid_number');
  });

  it('matches prefixes of the E.164 form: a whole calling code, or a finer cut inside one', () => {
    expect(smsDestinationVerdict('+447911123456', ['+44', '+1204'])).toBe('allowed');
    expect(smsDestinationVerdict('+12042345678', ['+44', '+1204'])).toBe('allowed');
    expect(smsDestinationVerdict('+12125551234', ['+44', '+1204'])).toBe('sms_country_not_allowed');
  });

  it('names the calling code and country of a refused number, never the number', () => {
    expect(describeDestination('+33612345678')).toBe('+33 (FR)');
  });
});
