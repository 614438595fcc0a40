import { ValidationError } from '@fairway/errors';
import { parseQuotaAssignments, parseQuotaChanges } from './quota-changes';

describe('parseQuotaAssignments: --set <tenant>:<field>=<value>, checked by @fairway/quota', () => {
  it('gathers the assignments of each tenant into one patch, in either spelling of a field', () => {
    expect(parseQuotaAssignments(['acme:weight=3', 'globex:maxInFlight=2', 'acme:max-in-flight-by-class=heavy=1,standard=4', 'globex:rate=unset'])).toEqual({
      acme: { weight: 3, maxInFlightByClass: { heavy: 1, standard: 4 }, clear: [] },
      globex: { maxInFlight: 2, clear: ['rate'] },
    });
    expect(parseQuotaAssignments(['acme:rateBasis=cost'])).toEqual({ acme: { rateBasis: 'cost', clear: [] } });
    expect(parseQuotaAssignments([])).toEqual({});
  });

  it.each([
    ['acme-weight=3', "--set 'acme-weight=3': expected <tenant>:<field>=<value>"],
    ['acme:weight', "--set 'acme:weight': expected <tenant>:<field>=<value>"],
    [':weight=3', "--set ':weight=3': expected <tenant>:<field>=<value>"],
    ['Acme:weight=3', "--set 'Acme:weight=3': 'Acme' is not a tenant id"],
    ['acme:wieght=3', "--set 'acme:wieght=3': 'wieght' is not a quota field (one of weight, rate, burst, maxInFlight, rateBasis, maxInFlightByClass)"],
    ['acme:weight=0', "--set 'acme:weight=0': weight Number must be greater than 0 (got '0')"],
    ['acme:weight=lots', "--set 'acme:weight=lots': weight Expected number, received nan (got 'lots')"],
    ['acme:maxInFlight=1.5', "--set 'acme:maxInFlight=1.5': maxInFlight Expected integer, received float (got '1.5')"],
    ['acme:rateBasis=bytes', "--set 'acme:rateBasis=bytes': rateBasis Invalid enum value"],
    ['acme:maxInFlightByClass=Heavy=1', "--set 'acme:maxInFlightByClass=Heavy=1': maxInFlightByClass Heavy: a job class"],
  ])('refuses %s, naming the argument', (assignment, message) => {
    let caught: unknown;
    try {
      parseQuotaAssignments(['acme:burst=5', assignment]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as Error).message.startsWith(message)).toBe(true);
  });

  it('refuses a field given twice for one tenant, and a field both set and cleared', () => {
    expect(() => parseQuotaAssignments(['acme:weight=2', 'acme:weight=3'])).toThrow("--set 'acme:weight=3': weight of acme is given twice");
    expect(() => parseQuotaAssignments(['acme:weight=2', 'acme:weight=unset'])).toThrow('given twice');
  });

  it('names the caller’s label in its messages', () => {
    expect(() => parseQuotaAssignments(['acme:weight=-1'], 'set')).toThrow("set 'acme:weight=-1': weight");
  });
});

describe('parseQuotaChanges: a JSON object of patches, as the admin API takes it', () => {
  it('checks every patch with the quota schema', () => {
    expect(parseQuotaChanges({ acme: { weight: 3 }, globex: { clear: ['maxInFlight'] } })).toEqual({
      acme: { weight: 3, clear: [] },
      globex: { clear: ['maxInFlight'] },
    });
    expect(parseQuotaChanges(undefined)).toEqual({});
  });

  it.each([
    [[], 'changes must be an object'],
    [{ 'Not A Tenant': { weight: 1 } }, "changes: 'Not A Tenant' is not a tenant id"],
    [{ acme: { weight: 0 } }, 'the change of acme is not valid: weight'],
    [{ acme: {} }, 'the change of acme is not valid: (body) set at least one of'],
    [{ acme: { speed: 3 } }, 'the change of acme is not valid'],
  ])('refuses %j', (value, message) => {
    expect(() => parseQuotaChanges(value)).toThrow(message);
  });
});
