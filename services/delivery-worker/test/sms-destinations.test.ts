import { ALL_DESTINATIONS } from '@herald/runtime/phone';
import { SmsDestinationRefused, SmsDestinations } from '../src/deliveries/domain/sms-destinations';

describe('SmsDestinations', () => {
  const refusal = (destinations: SmsDestinations, phone: string) => {
    try {
      destinations.check(phone);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(SmsDestinationRefused);
      return (error as SmsDestinationRefused).code;
    }
  };

  it('allows every valid number, and no invalid one, when every country is allowed', () => {
    const all = new SmsDestinations(ALL_DESTINATIONS);
    expect(refusal(all, '+33612345678')).toBeUndefined();
    expect(refusal(all, '+8613800138000')).toBeUndefined();
    expect(refusal(all, '+15551234567')).toBe('invalid_number');
    expect(refusal(all, '+1')).toBe('invalid_number');
  });

  it('matches prefixes of the E.164 number: a whole calling code, or a finer cut inside one', () => {
    const listed = new SmsDestinations(['+44', '+1204']);
    expect(refusal(listed, '+447911123456')).toBeUndefined();
    expect(refusal(listed, '+12042345678')).toBeUndefined();
    expect(refusal(listed, '+12125551234')).toBe('sms_country_not_allowed');
    expect(refusal(listed, '+33612345678')).toBe('sms_country_not_allowed');
    expect(refusal(listed, '+4479111')).toBe('invalid_number');
  });
});
